public import Foundation
internal import Yams

/// A JSON document as a value: what Kubernetes objects, manifests and API bodies are.
///
/// Integers and floating-point numbers are kept apart so `replicas: 2` stays `2`.
/// Object keys are unordered; every encoder here writes them sorted, so equal values
/// always serialize to the same bytes.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])
}

extension JSONValue: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .int(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .double(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}

// MARK: - Access

extension JSONValue {
    /// The member `key` of an object, or `nil` for a missing key or a non-object.
    public subscript(key: String) -> JSONValue? {
        get {
            guard case .object(let members) = self else { return nil }
            return members[key]
        }
        set {
            guard case .object(var members) = self else { return }
            members[key] = newValue
            self = .object(members)
        }
    }

    /// The value at a dotted path of object keys (`"metadata.name"`).
    public subscript(path path: [String]) -> JSONValue? {
        var current: JSONValue? = self
        for key in path { current = current?[key] }
        return current
    }

    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    public var intValue: Int64? {
        switch self {
        case .int(let value): return value
        case .double(let value) where value == value.rounded(): return Int64(exactly: value)
        default: return nil
        }
    }

    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    public var objectValue: [String: JSONValue]? {
        if case .object(let value) = self { return value }
        return nil
    }

    /// Removes the value at `path`, leaving an emptied parent in place.
    public mutating func remove(_ path: [String]) {
        guard let first = path.first, case .object(var members) = self else { return }
        if path.count == 1 {
            members[first] = nil
        } else if var child = members[first] {
            child.remove(Array(path.dropFirst()))
            members[first] = child
        }
        self = .object(members)
    }
}

// MARK: - JSON and YAML text

extension JSONValue {
    /// Parses JSON text.
    public static func parse(json data: Data) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: data)
    }

    /// Compact JSON with sorted keys.
    public func jsonData(pretty: Bool = false) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    /// Parses every document of a YAML stream (empty documents are skipped).
    /// Scalars are typed by YAML 1.1 core rules, as Kubernetes' decoder does for plain scalars.
    public static func parseYAMLDocuments(_ text: String) throws -> [JSONValue] {
        // Not `Yams.compose_all`: its lazy sequence stops silently at a syntax error.
        try YAMLAliasGuard.check(text)
        let parser = try Parser(yaml: text)
        var result: [JSONValue] = []
        while let node = try parser.nextRoot() {
            let value = JSONValue(yaml: node)
            if value != .null { result.append(value) }
        }
        return result
    }

    /// YAML text with sorted keys, as `kubectl get -o yaml` would accept back.
    public func yamlString() throws -> String {
        try Yams.serialize(node: yamlNode(), sortKeys: true)
    }

    init(yaml node: Node) {
        switch node {
        case .scalar(let scalar):
            switch tagName(node) {
            case .null: self = .null
            case .bool: self = node.bool.map(JSONValue.bool) ?? .string(scalar.string)
            case .int: self = node.int.map { .int(Int64($0)) } ?? .string(scalar.string)
            case .float: self = node.float.map { .double(Double($0)) } ?? .string(scalar.string)
            default: self = .string(scalar.string)
            }
        case .sequence(let sequence):
            self = .array(sequence.map(JSONValue.init(yaml:)))
        case .mapping(let mapping):
            var members: [String: JSONValue] = [:]
            for (key, value) in mapping { members[key.string ?? ""] = JSONValue(yaml: value) }
            self = .object(members)
        case .alias:
            self = .null
        }
    }

    func yamlNode() -> Node {
        switch self {
        case .null: return Node("null", Tag(.null))
        case .bool(let value): return Node(value ? "true" : "false", Tag(.bool))
        case .int(let value): return Node(String(value), Tag(.int))
        case .double(let value): return Node(String(value), Tag(.float))
        case .string(let value):
            // Quote strings that would otherwise read back as another type ("true", "1", "null").
            // The resolver decides what a plain scalar would read back as; the emitter quotes
            // text that cannot be plain anyway. (Not composing `value`: it may be hostile YAML.)
            let plain = Node(value)
            if value.isEmpty || tagName(plain) != .str {
                return Node(value, Tag(.str), .doubleQuoted)
            }
            return plain
        case .array(let items): return Node(items.map { $0.yamlNode() })
        case .object(let members):
            return Node(members.sorted { $0.key < $1.key }.map { (Node($0.key), $0.value.yamlNode()) })
        }
    }
}
