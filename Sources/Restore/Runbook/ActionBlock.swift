internal import DRCore
internal import Yams

/// The YAML of a `drctl` block: `action:`, the action's arguments, and step attributes
/// given as YAML keys (removed from the arguments, except `timeout`, which the waiting
/// actions also read).
struct ActionBlock {
    /// A problem at a line of the block's YAML (1-based within the block).
    struct Problem: Error {
        var line: Int?
        var message: String
    }

    /// A step attribute given as a YAML key.
    struct Setting {
        var key: String
        var value: String
        var line: Int?
    }

    /// The YAML keys that are step attributes rather than arguments.
    static let settingKeys = ["timeout", "retries", "delay", "confirm", "on_failure", "check"]

    var name: String
    var arguments: JSONValue
    var settings: [Setting] = []

    init(yaml: String) throws(Problem) {
        let root: Node?
        do throws(RunbookYAML.Problem) {
            root = try RunbookYAML.compose(yaml)
        } catch {
            throw Problem(line: error.line, message: error.message)
        }
        guard let root, !RunbookYAML.isNull(root) else {
            throw Problem(line: nil, message: "the block is empty; expected YAML with `action:` and the action's arguments")
        }
        guard case .mapping(let mapping) = root else {
            throw Problem(line: root.mark?.line, message: "expected a mapping with `action:` and the action's arguments, found \(RunbookYAML.describe(root))")
        }
        var name: String?
        var arguments: [String: JSONValue] = [:]
        for (key, value) in mapping {
            guard case .scalar(let keyScalar) = key, !RunbookYAML.isNull(key) else {
                throw Problem(line: key.mark?.line, message: "expected a plain text key, found \(RunbookYAML.describe(key))")
            }
            let line = key.mark?.line
            switch keyScalar.string {
            case "action":
                guard case .scalar(let scalar) = value, !RunbookYAML.isNull(value),
                      !scalar.string.isEmpty, scalar.string.allSatisfy({ $0.isLetter || $0.isNumber || "._-".contains($0) })
                else {
                    throw Problem(line: line, message: "`action` expects an action name such as `git.restore-bundle`, found \(RunbookYAML.describe(value))")
                }
                name = scalar.string
            case let key where Self.settingKeys.contains(key):
                guard case .scalar(let scalar) = value, !RunbookYAML.isNull(value) else {
                    throw Problem(line: line, message: "step attribute `\(key)` expects a value, found \(RunbookYAML.describe(value))")
                }
                if key == "confirm" && RunbookYAML.tag(value) != .bool && scalar.style == .plain {
                    throw Problem(line: line, message: "`confirm` expects true or false, found `\(scalar.string)`")
                }
                settings.append(Setting(key: key, value: scalar.string, line: line))
                // `timeout` is also an argument of the waiting actions (`k8s.wait`, `argocd.wait`).
                if key == "timeout" { arguments[key] = .string(scalar.string) }
            case let key:
                do throws(RunbookYAML.Problem) {
                    arguments[key] = try RunbookYAML.json(value)
                } catch {
                    throw Problem(line: error.line ?? line, message: error.message)
                }
            }
        }
        guard let name else {
            throw Problem(line: nil, message: "missing `action:`; a drctl block names the built-in action it runs (`action: git.restore-bundle`)")
        }
        self.name = name
        self.arguments = .object(arguments)
    }
}
