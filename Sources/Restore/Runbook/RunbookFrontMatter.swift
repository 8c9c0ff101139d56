internal import DRCore
internal import Yams

/// The YAML front matter of a runbook: `requires:` and `params:`.
///
/// ```yaml
/// ---
/// requires:
///   - cluster
///   - identity
///   - source: git-bundle
///   - tool: kubectl
/// params:
///   git_source: gitops
///   apps: [wordpress, plugin-deployer]   # a list becomes "wordpress,plugin-deployer"
/// ---
/// ```
struct RunbookFrontMatter {
    /// A problem at a line of the YAML (1-based within the front matter).
    struct Problem: Error {
        var line: Int?
        var message: String
    }

    static let keys = ["requires", "params"]
    static let requirementNames = ["cluster", "identity", "source", "tool"]

    var requires: [RunbookRequirement] = []
    var params: [String: String] = [:]

    /// No front matter: no requirements, no parameters.
    init() {}

    init(yaml: String) throws(Problem) {
        let root: Node?
        do throws(RunbookYAML.Problem) {
            root = try RunbookYAML.compose(yaml)
        } catch {
            throw Problem(line: error.line, message: error.message)
        }
        guard let root, !RunbookYAML.isNull(root) else { return }
        guard case .mapping(let mapping) = root else {
            throw Problem(line: root.mark?.line, message: "expected a mapping with `requires:` and/or `params:`, found \(RunbookYAML.describe(root))")
        }
        for (key, value) in mapping {
            let name = key.string ?? ""
            switch name {
            case "requires": requires = try Self.requirements(value, keyLine: key.mark?.line)
            case "params": params = try Self.parameters(value, keyLine: key.mark?.line)
            default:
                throw Problem(line: key.mark?.line, message: "unknown key `\(name)`" + RunbookSuggestion.hint(for: name, in: Self.keys))
            }
        }
    }

    private static func requirements(_ node: Node, keyLine: Int?) throws(Problem) -> [RunbookRequirement] {
        if RunbookYAML.isNull(node) { return [] }
        guard case .sequence(let items) = node else {
            throw Problem(line: keyLine, message: "`requires` expects a list (`- cluster`, `- identity`, `- source: git-bundle`, `- tool: kubectl`), found \(RunbookYAML.describe(node))")
        }
        var result: [RunbookRequirement] = []
        for item in items {
            let requirement = try requirement(item)
            if !result.contains(requirement) { result.append(requirement) }
        }
        return result
    }

    private static func requirement(_ node: Node) throws(Problem) -> RunbookRequirement {
        let line = node.mark?.line
        switch node {
        case .scalar(let scalar):
            switch scalar.string {
            case "cluster": return .cluster
            case "identity": return .identity
            case "source", "tool":
                throw Problem(line: line, message: "`\(scalar.string)` needs a value: `- \(scalar.string): NAME`")
            default:
                throw Problem(line: line, message: "unknown requirement `\(scalar.string)`" + RunbookSuggestion.hint(for: scalar.string, in: requirementNames))
            }
        case .mapping(let mapping):
            guard mapping.count == 1, let pair = mapping.first else {
                throw Problem(line: line, message: "each requirement is one item: `- source: KIND` or `- tool: NAME`")
            }
            let (key, value) = (pair.key, pair.value)
            let name = key.string ?? ""
            guard case .scalar(let scalar) = value, !RunbookYAML.isNull(value), !scalar.string.isEmpty else {
                throw Problem(line: line, message: "`\(name)` expects a name, found \(RunbookYAML.describe(value))")
            }
            switch name {
            case "source":
                let kinds = SourceKind.allCases.map(\.rawValue)
                guard let kind = SourceKind(rawValue: scalar.string) else {
                    throw Problem(line: value.mark?.line ?? line, message: "unknown source kind `\(scalar.string)`" + RunbookSuggestion.hint(for: scalar.string, in: kinds))
                }
                return .source(kind)
            case "tool":
                guard scalar.string.allSatisfy({ $0.isLetter || $0.isNumber || "._-+".contains($0) }) else {
                    throw Problem(line: value.mark?.line ?? line, message: "`tool` expects a program name found on PATH (`kubectl`), found `\(scalar.string)`")
                }
                return .tool(scalar.string)
            default:
                throw Problem(line: key.mark?.line ?? line, message: "unknown requirement `\(name)`" + RunbookSuggestion.hint(for: name, in: requirementNames))
            }
        default:
            throw Problem(line: line, message: "expected a requirement (`cluster`, `identity`, `source: KIND`, `tool: NAME`), found \(RunbookYAML.describe(node))")
        }
    }

    private static func parameters(_ node: Node, keyLine: Int?) throws(Problem) -> [String: String] {
        if RunbookYAML.isNull(node) { return [:] }
        guard case .mapping(let mapping) = node else {
            throw Problem(line: keyLine, message: "`params` expects a mapping of names to default values, found \(RunbookYAML.describe(node))")
        }
        var result: [String: String] = [:]
        for (key, value) in mapping {
            let name = key.string ?? ""
            guard ParamTemplate.isName(name) else {
                throw Problem(line: key.mark?.line, message: "invalid parameter name `\(name)`: expected letters, digits and `_`, not starting with a digit")
            }
            result[name] = try parameterValue(value, name: name, keyLine: key.mark?.line)
        }
        return result
    }

    /// A default value: a scalar's text, or a list of scalars joined with commas.
    private static func parameterValue(_ node: Node, name: String, keyLine: Int?) throws(Problem) -> String {
        switch node {
        case .scalar(let scalar):
            if RunbookYAML.isNull(node) {
                throw Problem(line: keyLine, message: "parameter `\(name)` has no default value; give one (write \"\" for an empty string)")
            }
            return scalar.string
        case .sequence(let items):
            var parts: [String] = []
            for item in items {
                guard case .scalar(let scalar) = item, !RunbookYAML.isNull(item) else {
                    throw Problem(line: item.mark?.line ?? keyLine, message: "parameter `\(name)`: list items must be strings, found \(RunbookYAML.describe(item))")
                }
                if scalar.string.contains(",") {
                    throw Problem(line: item.mark?.line ?? keyLine, message: "parameter `\(name)`: list items are joined with commas, so an item must not contain one")
                }
                parts.append(scalar.string)
            }
            return parts.joined(separator: ",")
        default:
            throw Problem(line: keyLine, message: "parameter `\(name)` expects a string or a list of strings, found \(RunbookYAML.describe(node))")
        }
    }
}
