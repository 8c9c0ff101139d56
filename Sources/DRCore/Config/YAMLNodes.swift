package import Yams

/// Shared state of one parse: the file, the base directory for relative paths, the environment.
struct ParseContext {
    let file: String
    let baseDirectory: String
    let environment: [String: String]

    func error(_ mark: Mark?, _ field: String, _ message: String) -> ConfigError {
        ConfigError(file: file, line: mark?.line, column: mark?.column, field: field, message: message)
    }
}

/// Joins a dotted field path.
func fieldPath(_ parent: String, _ key: String) -> String {
    parent.isEmpty ? key : "\(parent).\(key)"
}

/// The resolved tag name of a node (plain scalars resolved with the default resolver).
package func tagName(_ node: Node) -> Tag.Name {
    Tag.Name(rawValue: node.tag.rawValue)
}

/// A short, content-free description of what a node is ("a list", "a mapping" …).
package func describeKind(_ node: Node) -> String {
    switch node {
    case .mapping: return "a mapping"
    case .sequence: return "a list"
    case .alias: return "an alias"
    case .scalar(let scalar):
        guard scalar.style == .plain else { return "a string" }
        switch tagName(node) {
        case .null: return "an empty value"
        case .bool: return "a boolean"
        case .int, .float: return "a number"
        default: return "a string"
        }
    }
}

/// Reads a scalar as text. Accepts strings and numbers; rejects null, booleans, lists, mappings
/// and (unless `allowEmpty`) empty or blank text.
func scalarText(
    _ node: Node, field: String, typeMark: Mark?, expected: String, ctx: ParseContext, allowEmpty: Bool = false
) throws(ConfigError) -> String {
    guard case .scalar(let scalar) = node else {
        throw ctx.error(typeMark, field, "expected \(expected), found \(describeKind(node))")
    }
    if scalar.style == .plain {
        let tag = tagName(node)
        if tag == .null || tag == .bool {
            let hint = tag == .bool ? " (quote it if you mean the text)"
                : scalar.string == "~" ? " (a bare `~` is null in YAML; write \"~\" for the home directory)" : ""
            throw ctx.error(typeMark, field, "expected \(expected), found \(describeKind(node))\(hint)")
        }
    }
    if !allowEmpty && scalar.string.allSatisfy(\.isWhitespace) {
        throw ctx.error(scalar.mark ?? typeMark, field, "must not be empty; expected \(expected)")
    }
    return scalar.string
}

/// A YAML mapping with string keys, read key by key with field-path-aware errors.
struct MappingReader {
    struct Entry {
        let key: String
        let keyMark: Mark?
        let value: Node
    }

    let ctx: ParseContext
    /// Dotted path of this mapping ("" for the document root).
    let path: String
    /// Where the mapping starts; missing-key errors point here.
    let mark: Mark?
    let entries: [Entry]

    /// Wraps `node`, which must be a mapping (`typeMark` locates the type error otherwise).
    init(_ node: Node, path: String, typeMark: Mark?, expected: String, ctx: ParseContext) throws(ConfigError) {
        guard case .mapping(let mapping) = node else {
            throw ctx.error(typeMark, path, "expected \(expected), found \(describeKind(node))")
        }
        self.ctx = ctx
        self.path = path
        self.mark = mapping.mark
        var entries: [Entry] = []
        for (key, value) in mapping {
            guard case .scalar(let scalar) = key, !(scalar.style == .plain && tagName(key) == .null) else {
                throw ctx.error(key.mark, path, "expected a plain text key, found \(describeKind(key))")
            }
            entries.append(Entry(key: scalar.string, keyMark: scalar.mark, value: value))
        }
        self.entries = entries
    }

    func field(_ key: String) -> String { fieldPath(path, key) }

    func entry(_ key: String) -> Entry? { entries.first { $0.key == key } }

    /// Rejects keys not in `allowed`, suggesting the closest allowed key.
    func checkKeys(_ allowed: [String], what: String? = nil) throws(ConfigError) {
        for entry in entries where !allowed.contains(entry.key) {
            var message = "unknown key `\(entry.key)`"
            if let what { message += " for \(what)" }
            if let suggestion = closestMatch(to: entry.key, in: allowed) {
                message += "; did you mean `\(suggestion)`?"
            } else {
                message += "; expected one of: \(allowed.joined(separator: ", "))"
            }
            throw ctx.error(entry.keyMark, field(entry.key), message)
        }
    }

    func missing(_ key: String, expected: String) -> ConfigError {
        let place = path.isEmpty ? "" : " in `\(path)`"
        return ctx.error(mark, field(key), "missing required key `\(key)`\(place); expected \(expected)")
    }

    /// A text value; `nil` when absent and not required.
    func string(_ key: String, required: Bool, expected: String) throws(ConfigError) -> String? {
        guard let entry = entry(key) else {
            if required { throw missing(key, expected: expected) }
            return nil
        }
        return try scalarText(entry.value, field: field(key), typeMark: entry.keyMark, expected: expected, ctx: ctx)
    }

    /// A text value that must be present.
    func requiredString(_ key: String, expected: String) throws(ConfigError) -> String {
        guard let value = try string(key, required: true, expected: expected) else { throw missing(key, expected: expected) }
        return value
    }

    /// A path value that must be present.
    func requiredPath(_ key: String, expected: String = "a string (a file system path)") throws(ConfigError) -> String {
        guard let value = try path(key, required: true, expected: expected) else { throw missing(key, expected: expected) }
        return value
    }

    /// A list value that must be present.
    func requiredSequence(_ key: String, expected: String) throws(ConfigError) -> [Node] {
        guard let value = try sequence(key, required: true, expected: expected) else { throw missing(key, expected: expected) }
        return value
    }

    /// A path value, resolved against the configuration file's directory.
    func path(_ key: String, required: Bool, expected: String = "a string (a file system path)") throws(ConfigError) -> String? {
        guard let raw = try string(key, required: required, expected: expected) else { return nil }
        return try resolvePath(raw, field: field(key), mark: entry(key)?.value.mark, ctx: ctx)
    }

    /// A nested mapping; `nil` when absent.
    func mapping(_ key: String, expected: String) throws(ConfigError) -> MappingReader? {
        guard let entry = entry(key) else { return nil }
        return try MappingReader(entry.value, path: field(key), typeMark: entry.keyMark, expected: expected, ctx: ctx)
    }

    /// A list of strings; empty when absent.
    func strings(_ key: String, expected: String) throws(ConfigError) -> [String] {
        var result: [String] = []
        for (index, node) in (try sequence(key, required: false, expected: expected) ?? []).enumerated() {
            result.append(try scalarText(node, field: "\(field(key))[\(index)]", typeMark: node.mark, expected: "a string", ctx: ctx))
        }
        return result
    }

    /// A positive duration in seconds (`90`, `30s`, `10m`, `6h`, `7d`, `2w`, `1y`); `nil` when absent.
    func duration(_ key: String) throws(ConfigError) -> Int? {
        let expected = "a duration such as 30m, 6h, 7d, 2w or 1y"
        guard let text = try string(key, required: false, expected: expected) else { return nil }
        guard let seconds = parseDuration(text), seconds > 0 else {
            throw ctx.error(entry(key)?.value.mark, field(key), "expected \(expected), found `\(text)`")
        }
        return seconds
    }

    /// A boolean (`true` or `false`); `nil` when absent.
    func bool(_ key: String) throws(ConfigError) -> Bool? {
        guard let entry = entry(key) else { return nil }
        guard case .scalar(let scalar) = entry.value, tagName(entry.value) == .bool, let value = entry.value.bool else {
            throw ctx.error(entry.keyMark, field(key), "expected `true` or `false`, found \(describeKind(entry.value))")
        }
        _ = scalar
        return value
    }

    /// A list value; `nil` when absent and not required.
    func sequence(_ key: String, required: Bool, expected: String) throws(ConfigError) -> [Node]? {
        guard let entry = entry(key) else {
            if required { throw missing(key, expected: expected) }
            return nil
        }
        guard case .sequence(let sequence) = entry.value else {
            throw ctx.error(entry.keyMark, field(key), "expected \(expected), found \(describeKind(entry.value))")
        }
        return Array(sequence)
    }
}

/// Resolves a configured path (see ``ConfigPaths/resolve(_:relativeTo:environment:)``) with config errors.
func resolvePath(_ raw: String, field: String, mark: Mark?, ctx: ParseContext) throws(ConfigError) -> String {
    do {
        return try ConfigPaths.resolve(raw, relativeTo: ctx.baseDirectory, environment: ctx.environment)
    } catch {
        switch error {
        case .noHome:
            throw ctx.error(mark, field, "cannot expand `~`: HOME is not set; expected an absolute or relative path")
        case .userHome(let prefix):
            throw ctx.error(mark, field, "`\(prefix)` paths are not supported; expected `~`, `~/…`, an absolute or a relative path")
        }
    }
}
