internal import DRCore
internal import Yams

/// YAML inside a runbook (front matter, `drctl` blocks): composing with file lines in errors,
/// and converting nodes to ``JSONValue``.
enum RunbookYAML {
    /// A YAML problem at a 1-based line of the YAML text.
    struct Problem: Error {
        var line: Int?
        var message: String
    }

    /// Composes one YAML document; nil for an empty one.
    static func compose(_ text: String) throws(Problem) -> Node? {
        do {
            try YAMLAliasGuard.check(text)
            return try Yams.compose(yaml: text)
        } catch let violation as YAMLAliasGuard.Violation {
            throw Problem(line: violation.line, message: violation.message)
        } catch let error as YamlError {
            throw problem(error, text: text)
        } catch {
            throw Problem(line: nil, message: "invalid YAML")
        }
    }

    private static func problem(_ error: YamlError, text: String) -> Problem {
        func contextText(_ context: YamlError.Context?) -> String {
            guard let context else { return "" }
            return "\(context.text): "
        }
        switch error {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _),
             let .composer(context, problem, mark, _):
            return Problem(line: mark.line, message: "invalid YAML: \(contextText(context))\(problem)")
        case let .reader(problem, offset, _, _):
            var line: Int?
            if let offset { line = text.utf8.prefix(offset).filter { $0 == UInt8(ascii: "\n") }.count + 1 }
            return Problem(line: line, message: "invalid YAML input: \(problem)")
        case let .duplicatedKeysInMapping(duplicates, context):
            let name = duplicates.first ?? "?"
            return Problem(line: context.mark.line,
                           message: "duplicate key `\(name)`; each key may appear only once in a mapping")
        default:
            return Problem(line: nil, message: "invalid YAML")
        }
    }

    /// The resolved tag of a node (DRCore's config reader's rule).
    static func tag(_ node: Node) -> Tag.Name { tagName(node) }

    /// A short, content-free description of a node ("a list", "a number" …).
    static func describe(_ node: Node) -> String { describeKind(node) }

    /// True for a plain scalar YAML reads as null (`key:`, `null`, `~`).
    static func isNull(_ node: Node) -> Bool {
        if case .scalar(let scalar) = node, scalar.style == .plain, tag(node) == .null { return true }
        return false
    }

    /// A node as JSON: plain scalars typed by YAML's core rules, quoted scalars as strings.
    static func json(_ node: Node) throws(Problem) -> JSONValue {
        switch node {
        case .scalar(let scalar):
            guard scalar.style == .plain else { return .string(scalar.string) }
            switch tag(node) {
            case .null: return .null
            case .bool: return node.bool.map(JSONValue.bool) ?? .string(scalar.string)
            case .int: return node.int.map { .int(Int64($0)) } ?? .string(scalar.string)
            case .float: return node.float.map { .double(Double($0)) } ?? .string(scalar.string)
            default: return .string(scalar.string)
            }
        case .sequence(let sequence):
            var items: [JSONValue] = []
            for item in sequence { items.append(try json(item)) }
            return .array(items)
        case .mapping(let mapping):
            var members: [String: JSONValue] = [:]
            for (key, value) in mapping {
                guard case .scalar(let scalar) = key else {
                    throw Problem(line: key.mark?.line, message: "expected a plain text key, found \(describe(key))")
                }
                members[scalar.string] = try json(value)
            }
            return .object(members)
        case .alias:
            throw Problem(line: node.mark?.line, message: "YAML aliases are not supported here; write the value out")
        }
    }
}
