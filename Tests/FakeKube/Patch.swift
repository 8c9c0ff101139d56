import Foundation
import DRCore

/// The patch formats the API server accepts (`Content-Type` of a PATCH).
enum PatchKind: Sendable {
    case merge, strategic, json, apply

    init?(contentType: String) {
        switch contentType.split(separator: ";").first.map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) {
        case "application/merge-patch+json": self = .merge
        case "application/strategic-merge-patch+json": self = .strategic
        case "application/json-patch+json": self = .json
        case "application/apply-patch+yaml", "application/apply-patch+cbor": self = .apply
        default: return nil
        }
    }
}

enum Patch {
    /// RFC 7386 JSON merge patch.
    static func merge(_ target: JSONValue?, _ patch: JSONValue) -> JSONValue {
        guard case .object(let patchMembers) = patch else { return patch }
        var result = target?.objectValue ?? [:]
        for (key, value) in patchMembers {
            if value == .null {
                result[key] = nil
            } else {
                result[key] = merge(result[key], value)
            }
        }
        return .object(result)
    }

    /// The merge key strategic merge patch uses for a list field, for the lists kubectl touches.
    static func mergeKey(field: String, items: [JSONValue]) -> String? {
        switch field {
        case "containers", "initContainers", "ephemeralContainers", "env", "volumes", "imagePullSecrets",
             "volumeClaimTemplates", "hostAliases":
            return field == "hostAliases" ? "ip" : "name"
        case "volumeMounts", "volumeDevices": return field == "volumeMounts" ? "mountPath" : "devicePath"
        case "ports":
            return items.contains { $0["containerPort"] != nil } ? "containerPort" : "port"
        case "conditions": return "type"
        default: return nil
        }
    }

    /// Strategic merge patch (the subset kubectl uses): merge keys for known lists, `$patch` directives,
    /// `$deleteFromPrimitiveList/…`; `$setElementOrder/…` and `$retainKeys` are ignored.
    static func strategic(_ target: JSONValue?, _ patch: JSONValue) throws(APIError) -> JSONValue? {
        guard case .object(var patchMembers) = patch else { return patch }
        if let directive = patchMembers.removeValue(forKey: "$patch")?.stringValue {
            switch directive {
            case "delete": return nil
            case "replace": return .object(patchMembers.filter { !$0.key.hasPrefix("$") })
            case "merge": break
            default: throw APIError.badRequest("unknown patch type: \(directive)")
            }
        }
        patchMembers["$retainKeys"] = nil
        var result = target?.objectValue ?? [:]
        for (key, value) in patchMembers {
            if key.hasPrefix("$setElementOrder/") { continue }
            if key.hasPrefix("$deleteFromPrimitiveList/") {
                let field = String(key.dropFirst("$deleteFromPrimitiveList/".count))
                let removals = value.arrayValue ?? []
                if let items = result[field]?.arrayValue {
                    result[field] = .array(items.filter { !removals.contains($0) })
                }
                continue
            }
            if value == .null {
                result[key] = nil
                continue
            }
            switch value {
            case .object:
                result[key] = try strategic(result[key], value)
            case .array(let patchItems):
                result[key] = try mergeList(field: key, result[key]?.arrayValue, patchItems)
            default:
                result[key] = value
            }
        }
        return .object(result)
    }

    private static func mergeList(field: String, _ target: [JSONValue]?, _ patchItems: [JSONValue]) throws(APIError) -> JSONValue {
        if patchItems.contains(where: { $0["$patch"]?.stringValue == "replace" }) {
            return .array(patchItems.filter { $0["$patch"] == nil })
        }
        guard let key = mergeKey(field: field, items: patchItems + (target ?? [])),
              patchItems.allSatisfy({ $0.objectValue != nil }) else {
            return .array(patchItems)
        }
        var result = target ?? []
        for item in patchItems {
            guard let keyValue = item[key] else { continue }
            let index = result.firstIndex { $0[key] == keyValue }
            if item["$patch"]?.stringValue == "delete" {
                if let index { result.remove(at: index) }
                continue
            }
            if let index {
                if let merged = try strategic(result[index], item) { result[index] = merged } else { result.remove(at: index) }
            } else if let merged = try strategic(nil, item) {
                result.append(merged)
            }
        }
        return .array(result)
    }

    /// RFC 6902 JSON patch.
    static func json(_ target: JSONValue, _ operations: JSONValue) throws(APIError) -> JSONValue {
        guard let ops = operations.arrayValue else { throw APIError.badRequest("json patch must be a list of operations") }
        var document = target
        for op in ops {
            guard let name = op["op"]?.stringValue, let path = op["path"]?.stringValue else {
                throw APIError.badRequest("json patch operation needs op and path")
            }
            let pointer = try parsePointer(path)
            switch name {
            case "add":
                guard let value = op["value"] else { throw APIError.badRequest("add operation needs a value") }
                document = try set(document, pointer, value, insert: true)
            case "replace":
                guard let value = op["value"] else { throw APIError.badRequest("replace operation needs a value") }
                _ = try get(document, pointer)
                document = try set(document, pointer, value, insert: false)
            case "remove":
                document = try remove(document, pointer)
            case "test":
                guard try get(document, pointer) == op["value"] else {
                    throw APIError(code: 422, reason: "Invalid", message: "the server rejected our request due to an error in our request: testing value \(path) failed")
                }
            case "move", "copy":
                guard let from = op["from"]?.stringValue else { throw APIError.badRequest("\(name) operation needs from") }
                let fromPointer = try parsePointer(from)
                let value = try get(document, fromPointer)
                if name == "move" { document = try remove(document, fromPointer) }
                document = try set(document, pointer, value, insert: true)
            default:
                throw APIError.badRequest("unknown json patch operation \(name)")
            }
        }
        return document
    }

    static func parsePointer(_ path: String) throws(APIError) -> [String] {
        if path.isEmpty { return [] }
        guard path.hasPrefix("/") else { throw APIError.badRequest("invalid JSON pointer \(path)") }
        return path.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map {
            $0.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
        }
    }

    private static func missing(_ token: String) -> APIError {
        APIError(code: 422, reason: "Invalid", message: "the server rejected our request due to an error in our request: path element \(token) not found")
    }

    static func get(_ value: JSONValue, _ pointer: [String]) throws(APIError) -> JSONValue {
        guard let first = pointer.first else { return value }
        let rest = Array(pointer.dropFirst())
        switch value {
        case .object(let members):
            guard let child = members[first] else { throw missing(first) }
            return try get(child, rest)
        case .array(let items):
            guard let index = Int(first), items.indices.contains(index) else { throw missing(first) }
            return try get(items[index], rest)
        default:
            throw missing(first)
        }
    }

    static func set(_ value: JSONValue, _ pointer: [String], _ newValue: JSONValue, insert: Bool) throws(APIError) -> JSONValue {
        guard let first = pointer.first else { return newValue }
        let rest = Array(pointer.dropFirst())
        switch value {
        case .object(var members):
            if rest.isEmpty {
                members[first] = newValue
            } else {
                guard let child = members[first] else { throw missing(first) }
                members[first] = try set(child, rest, newValue, insert: insert)
            }
            return .object(members)
        case .array(var items):
            if rest.isEmpty {
                if first == "-", insert { items.append(newValue); return .array(items) }
                guard let index = Int(first), index >= 0, index <= items.count else { throw missing(first) }
                if insert {
                    items.insert(newValue, at: index)
                } else {
                    guard index < items.count else { throw missing(first) }
                    items[index] = newValue
                }
            } else {
                guard let index = Int(first), items.indices.contains(index) else { throw missing(first) }
                items[index] = try set(items[index], rest, newValue, insert: insert)
            }
            return .array(items)
        default:
            throw missing(first)
        }
    }

    static func remove(_ value: JSONValue, _ pointer: [String]) throws(APIError) -> JSONValue {
        guard let first = pointer.first else { throw APIError.badRequest("cannot remove the document root") }
        let rest = Array(pointer.dropFirst())
        switch value {
        case .object(var members):
            guard let child = members[first] else { throw missing(first) }
            members[first] = rest.isEmpty ? nil : try remove(child, rest)
            return .object(members)
        case .array(var items):
            guard let index = Int(first), items.indices.contains(index) else { throw missing(first) }
            if rest.isEmpty { items.remove(at: index) } else { items[index] = try remove(items[index], rest) }
            return .array(items)
        default:
            throw missing(first)
        }
    }
}
