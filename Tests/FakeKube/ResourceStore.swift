import DRCore
import Foundation
import NIOConcurrencyHelpers

/// A change to a stored object, delivered to in-process controllers after the write.
struct StoreEvent: Sendable {
    enum Kind: Sendable { case added, modified, deleted }
    var kind: Kind
    var type: ResourceType
    var object: JSONValue
}

/// How a write is made: who makes it and whether it persists.
struct WriteOptions: Sendable {
    var fieldManager: String?
    var dryRun = false
    var subresource: String?
}

/// The `limit`/`continue`/selector part of a LIST.
struct ListQuery: Sendable {
    var labelSelector: LabelSelector?
    var fieldSelector: FieldSelector?
    var limit: Int?
    var continueToken: String?
}

/// The generic object store behind every resource: validation, metadata bookkeeping,
/// resource versions, generations, managed fields, CRD registration and cascades.
final class ResourceStore: Sendable {
    struct State {
        var types: [ResourceType]
        var objects: [String: [String: JSONValue]] = [:]
        var resourceVersion: Int64 = 0
        var compactedRevision: Int64 = 0
    }

    let state: NIOLockedValueBox<State>
    private let observers = NIOLockedValueBox<[@Sendable (StoreEvent) -> Void]>([])

    init(types: [ResourceType] = ResourceType.builtIns, namespaces: [String] = ["default", "kube-system"]) {
        state = NIOLockedValueBox(State(types: types))
        for namespace in namespaces {
            let object = JSONValue.object(["apiVersion": .string("v1"), "kind": .string("Namespace"),
                                           "metadata": .object(["name": .string(namespace)])])
            _ = try? create(Self.namespaceType, namespace: nil, object: object, options: WriteOptions(fieldManager: "fakekube"))
        }
    }

    static let namespaceType = ResourceType.builtIns[0]

    /// Registers a callback for every committed change.
    func observe(_ observer: @escaping @Sendable (StoreEvent) -> Void) {
        observers.withLockedValue { $0.append(observer) }
    }

    private func notify(_ events: [StoreEvent]) {
        guard !events.isEmpty else { return }
        let callbacks = observers.withLockedValue { $0 }
        for event in events { for callback in callbacks { callback(event) } }
    }

    // MARK: Types

    var types: [ResourceType] { state.withLockedValue { $0.types } }

    /// The type served at `/…/GROUP/VERSION/RESOURCE` (plural, singular or short name accepted).
    func type(group: String, version: String, resource: String) -> ResourceType? {
        let types = self.types
        return types.first { $0.group == group && $0.version == version && $0.plural == resource }
    }

    func type(apiVersion: String, kind: String) -> ResourceType? {
        types.first { $0.apiVersion == apiVersion && $0.kind == kind }
    }

    /// Advances the compaction point: every continue token issued so far answers 410 Expired.
    func expireContinueTokens() {
        state.withLockedValue {
            $0.resourceVersion += 1
            $0.compactedRevision = $0.resourceVersion
        }
    }

    // MARK: Reads

    static func key(_ namespace: String?, _ name: String) -> String { "\(namespace ?? "")/\(name)" }

    func get(_ type: ResourceType, namespace: String?, name: String) throws -> JSONValue {
        let object = state.withLockedValue { $0.objects[type.storageKey]?[Self.key(type.namespaced ? namespace : nil, name)] }
        guard let object else { throw APIError.notFound(type, name) }
        return Self.presented(object, as: type)
    }

    /// The object as served at `type`'s version.
    static func presented(_ object: JSONValue, as type: ResourceType) -> JSONValue {
        var object = object
        object["apiVersion"] = .string(type.apiVersion)
        object["kind"] = .string(type.kind)
        return object
    }

    /// Built-in lists omit `kind`/`apiVersion` on items, as the real API server does; custom resources keep them.
    static func listItem(_ object: JSONValue, as type: ResourceType) -> JSONValue {
        guard ResourceType.builtIns.contains(type) else { return presented(object, as: type) }
        var object = object
        object["apiVersion"] = nil
        object["kind"] = nil
        return object
    }

    /// Objects of `type` (in `namespace`, or everywhere when nil), sorted by namespace and name.
    func all(_ type: ResourceType, namespace: String?) -> [JSONValue] {
        let (items, _) = state.withLockedValue { state in
            (state.objects[type.storageKey] ?? [:], state.resourceVersion)
        }
        return items.sorted { $0.key < $1.key }.compactMap { key, object in
            if let namespace, type.namespaced, !key.hasPrefix(namespace + "/") { return nil }
            return Self.presented(object, as: type)
        }
    }

    static func labels(_ object: JSONValue) -> [String: String] {
        (object[path: ["metadata", "labels"]]?.objectValue ?? [:]).compactMapValues(\.stringValue)
    }

    // MARK: Writes

    func create(_ type: ResourceType, namespace: String?, object: JSONValue, options: WriteOptions) throws -> JSONValue {
        let (result, events) = try state.withLockedValue { state in
            try Self.create(&state, type, namespace: namespace, object: object, options: options)
        }
        notify(events)
        return result
    }

    func update(_ type: ResourceType, namespace: String?, name: String, object: JSONValue, options: WriteOptions) throws -> JSONValue {
        let (result, events) = try state.withLockedValue { state -> (JSONValue, [StoreEvent]) in
            let key = Self.key(type.namespaced ? namespace : nil, name)
            guard let old = state.objects[type.storageKey]?[key] else { throw APIError.notFound(type, name) }
            if let bodyName = object[path: ["metadata", "name"]]?.stringValue, bodyName != name {
                throw APIError.badRequest("the name of the object (\(bodyName)) does not match the name on the URL (\(name))")
            }
            if let version = object[path: ["metadata", "resourceVersion"]]?.stringValue, !version.isEmpty,
               version != old[path: ["metadata", "resourceVersion"]]?.stringValue {
                throw APIError.conflict(type, name)
            }
            return try Self.commit(&state, type, key: key, old: old, proposed: object, options: options, operation: "Update")
        }
        notify(events)
        return result
    }

    /// PATCH of every kind; server-side apply creates a missing object. Returns whether it created.
    func patch(_ type: ResourceType, namespace: String?, name: String, kind: PatchKind, body: JSONValue,
               options: WriteOptions) throws -> (JSONValue, created: Bool) {
        let (result, created, events) = try state.withLockedValue { state -> (JSONValue, Bool, [StoreEvent]) in
            let key = Self.key(type.namespaced ? namespace : nil, name)
            let old = state.objects[type.storageKey]?[key]
            if kind == .apply {
                guard body.objectValue != nil else { throw APIError.badRequest("apply patch must be an object") }
                if let bodyName = body[path: ["metadata", "name"]]?.stringValue, bodyName != name {
                    throw APIError.badRequest("the name of the object (\(bodyName)) does not match the name on the URL (\(name))")
                }
                guard body["apiVersion"]?.stringValue != nil, body["kind"]?.stringValue != nil else {
                    throw APIError.badRequest("apiVersion and kind must be set in an apply patch")
                }
                guard let old else {
                    if options.subresource != nil { throw APIError.notFound(type, name) }
                    var object = body
                    object[path: "metadata", "name"] = .string(name)
                    let (created, events) = try Self.create(&state, type, namespace: namespace, object: object,
                                                            options: options, operation: "Apply")
                    return (created, true, events)
                }
                var applied = body
                applied["apiVersion"] = nil
                applied["kind"] = nil
                let merged = try Patch.strategic(old, applied) ?? old
                let (result, events) = try Self.commit(&state, type, key: key, old: old, proposed: merged, options: options, operation: "Apply")
                return (result, false, events)
            }
            guard let old else { throw APIError.notFound(type, name) }
            let proposed: JSONValue
            switch kind {
            case .merge: proposed = Patch.merge(old, body)
            case .strategic: proposed = try Patch.strategic(old, body) ?? old
            case .json: proposed = try Patch.json(old, body)
            case .apply: proposed = old
            }
            if let version = body[path: ["metadata", "resourceVersion"]]?.stringValue, kind != .json,
               version != old[path: ["metadata", "resourceVersion"]]?.stringValue {
                throw APIError.conflict(type, name)
            }
            let (result, events) = try Self.commit(&state, type, key: key, old: old, proposed: proposed, options: options, operation: "Update")
            return (result, false, events)
        }
        notify(events)
        return (result, created)
    }

    func delete(_ type: ResourceType, namespace: String?, name: String, options: WriteOptions) throws -> JSONValue {
        let (result, events) = try state.withLockedValue { state -> (JSONValue, [StoreEvent]) in
            let key = Self.key(type.namespaced ? namespace : nil, name)
            guard let old = state.objects[type.storageKey]?[key] else { throw APIError.notFound(type, name) }
            if options.dryRun { return (old, []) }
            return (old, Self.remove(&state, type, key: key))
        }
        notify(events)
        return Self.presented(result, as: type)
    }

    /// DELETE on a collection: removes every matching object.
    func deleteCollection(_ type: ResourceType, namespace: String?, query: ListQuery, options: WriteOptions) throws -> JSONValue {
        var unlimited = query
        unlimited.limit = nil
        unlimited.continueToken = nil
        let list = try self.list(type, namespace: namespace, query: unlimited)
        if !options.dryRun {
            for item in list["items"]?.arrayValue ?? [] {
                guard let name = item[path: ["metadata", "name"]]?.stringValue else { continue }
                _ = try? delete(type, namespace: item[path: ["metadata", "namespace"]]?.stringValue, name: name, options: options)
            }
        }
        return list
    }

    // MARK: Internals (called with the lock held)

    static func now() -> String { Date().formatted(.iso8601) }

    private static func create(_ state: inout State, _ type: ResourceType, namespace: String?, object: JSONValue,
                               options: WriteOptions, operation: String = "Update") throws -> (JSONValue, [StoreEvent]) {
        guard object.objectValue != nil else { throw APIError.badRequest("the body of the request was not an object") }
        try checkKind(object, type)
        var object = object
        var metadata = object["metadata"]?.objectValue ?? [:]
        var name = metadata["name"]?.stringValue ?? ""
        if name.isEmpty, let prefix = metadata["generateName"]?.stringValue, !prefix.isEmpty {
            let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
            name = prefix + String((0..<5).compactMap { _ in alphabet.randomElement() })
        }
        guard !name.isEmpty else {
            throw APIError.invalid(type, "", "metadata.name: Required value: name or generateName is required")
        }
        try validateName(name, type: type)
        var namespaceName: String?
        if type.namespaced {
            let bodyNamespace = metadata["namespace"]?.stringValue
            if let namespace, let bodyNamespace, !bodyNamespace.isEmpty, bodyNamespace != namespace {
                throw APIError.badRequest("the namespace of the provided object does not match the namespace sent on the request")
            }
            guard let resolved = namespace ?? bodyNamespace, !resolved.isEmpty else {
                throw APIError.badRequest("the server could not find the requested resource: a namespace is required")
            }
            guard state.objects[namespaceType.storageKey]?[key(nil, resolved)] != nil else {
                throw APIError.notFound(namespaceType, resolved)
            }
            namespaceName = resolved
        }
        let key = key(namespaceName, name)
        if state.objects[type.storageKey]?[key] != nil { throw APIError.alreadyExists(type, name) }
        if type.group == "apiextensions.k8s.io", type.kind == "CustomResourceDefinition" {
            try validateCRD(object, name: name, state: state)
        }
        let revision = state.resourceVersion + 1
        let time = now()
        metadata["name"] = .string(name)
        metadata["namespace"] = namespaceName.map(JSONValue.string)
        metadata["uid"] = .string(UUID().uuidString.lowercased())
        metadata["creationTimestamp"] = .string(time)
        metadata["resourceVersion"] = .string(String(revision))
        metadata["generation"] = .int(1)
        metadata["deletionTimestamp"] = nil
        metadata["managedFields"] = managedFields(nil, manager: options.fieldManager, operation: operation,
                                                  apiVersion: type.apiVersion, subresource: nil, time: time)
        object["metadata"] = .object(metadata)
        object["apiVersion"] = .string(type.apiVersion)
        object["kind"] = .string(type.kind)
        object = defaulted(object, type: type, name: name)
        if options.dryRun { return (object, []) }
        state.resourceVersion = revision
        state.objects[type.storageKey, default: [:]][key] = object
        if type.kind == "CustomResourceDefinition" { register(&state, crd: object) }
        return (object, [StoreEvent(kind: .added, type: type, object: object)])
    }

    /// Writes `proposed` over `old`, keeping system metadata, honouring the status subresource,
    /// bumping generation on spec changes and skipping no-op writes.
    private static func commit(_ state: inout State, _ type: ResourceType, key: String, old: JSONValue, proposed: JSONValue,
                               options: WriteOptions, operation: String) throws -> (JSONValue, [StoreEvent]) {
        guard proposed.objectValue != nil else { throw APIError.badRequest("the body of the request was not an object") }
        try checkKind(proposed, type)
        var next: JSONValue
        if options.subresource == "status" {
            next = old
            next["status"] = proposed["status"]
        } else {
            next = proposed
            if type.hasStatus { next["status"] = old["status"] }
        }
        var metadata = next["metadata"]?.objectValue ?? [:]
        let oldMetadata = old["metadata"]?.objectValue ?? [:]
        for field in ["name", "namespace", "uid", "creationTimestamp", "generation", "resourceVersion", "managedFields"] {
            metadata[field] = oldMetadata[field]
        }
        next["metadata"] = .object(metadata)
        next["apiVersion"] = .string(type.apiVersion)
        next["kind"] = .string(type.kind)
        let name = metadata["name"]?.stringValue ?? ""
        try validateName(name, type: type)
        if type.kind == "CustomResourceDefinition" || type.kind == "Secret" { next = defaulted(next, type: type, name: name) }
        if next == old { return (presented(old, as: type), []) }
        // Like the real API: an immutable Secret or ConfigMap keeps its data and its flag.
        if type.group.isEmpty, type.kind == "Secret" || type.kind == "ConfigMap", old["immutable"]?.boolValue == true {
            for field in ["data", "stringData", "binaryData", "immutable"] where next[field] != old[field] {
                throw APIError.invalid(type, name, "\(field): Forbidden: field is immutable when `immutable` is set")
            }
        }
        var stripped = next, oldStripped = old
        for field in ["metadata", "status"] { stripped[field] = nil; oldStripped[field] = nil }
        if stripped != oldStripped {
            metadata["generation"] = .int((oldMetadata["generation"]?.intValue ?? 1) + 1)
        }
        let revision = state.resourceVersion + 1
        metadata["resourceVersion"] = .string(String(revision))
        metadata["managedFields"] = managedFields(oldMetadata["managedFields"], manager: options.fieldManager,
                                                  operation: operation, apiVersion: type.apiVersion,
                                                  subresource: options.subresource, time: now())
        next["metadata"] = .object(metadata)
        if options.dryRun { return (next, []) }
        state.resourceVersion = revision
        state.objects[type.storageKey, default: [:]][key] = next
        if type.kind == "CustomResourceDefinition" { register(&state, crd: next) }
        return (next, [StoreEvent(kind: .modified, type: type, object: next)])
    }

    private static func remove(_ state: inout State, _ type: ResourceType, key: String) -> [StoreEvent] {
        guard let old = state.objects[type.storageKey]?.removeValue(forKey: key) else { return [] }
        state.resourceVersion += 1
        var events = [StoreEvent(kind: .deleted, type: type, object: old)]
        let name = old[path: ["metadata", "name"]]?.stringValue ?? ""
        if type.storageKey == namespaceType.storageKey {
            for candidate in state.types where candidate.namespaced {
                for itemKey in (state.objects[candidate.storageKey] ?? [:]).keys where itemKey.hasPrefix(name + "/") {
                    events += remove(&state, candidate, key: itemKey)
                }
            }
        }
        if type.kind == "CustomResourceDefinition", let group = old[path: ["spec", "group"]]?.stringValue,
           let plural = old[path: ["spec", "names", "plural"]]?.stringValue {
            let storageKey = "\(group)/\(plural)"
            if let served = state.types.first(where: { $0.storageKey == storageKey }) {
                for itemKey in (state.objects[storageKey] ?? [:]).keys { events += remove(&state, served, key: itemKey) }
            }
            state.types.removeAll { $0.storageKey == storageKey }
            state.objects[storageKey] = nil
        }
        return events
    }

    /// A body naming another kind or group than the URL is rejected, as the API server does.
    private static func checkKind(_ object: JSONValue, _ type: ResourceType) throws {
        if let kind = object["kind"]?.stringValue, !kind.isEmpty, kind != type.kind {
            throw APIError.badRequest("the kind in the data (\(kind)) does not match the expected kind (\(type.kind))")
        }
        if let apiVersion = object["apiVersion"]?.stringValue, !apiVersion.isEmpty {
            let group = apiVersion.contains("/") ? String(apiVersion.split(separator: "/")[0]) : ""
            if group != type.group {
                throw APIError.badRequest("the API version in the data (\(apiVersion)) does not match the expected API version (\(type.apiVersion))")
            }
        }
    }

    private static func managedFields(_ existing: JSONValue?, manager: String?, operation: String, apiVersion: String,
                                      subresource: String?, time: String) -> JSONValue {
        var entries = existing?.arrayValue ?? []
        let manager = manager ?? "unknown"
        entries.removeAll {
            $0["manager"]?.stringValue == manager && $0["operation"]?.stringValue == operation
                && $0["subresource"]?.stringValue == subresource
        }
        var entry: [String: JSONValue] = [
            "manager": .string(manager), "operation": .string(operation), "apiVersion": .string(apiVersion),
            "time": .string(time), "fieldsType": .string("FieldsV1"), "fieldsV1": .object([:]),
        ]
        if let subresource { entry["subresource"] = .string(subresource) }
        entries.append(.object(entry))
        return .array(entries)
    }

    private static func validateName(_ name: String, type: ResourceType) throws {
        let label = type.kind == "Namespace"
        let allowed = name.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 45 || (!label && $0 == 46) }
        let edges = name.first.map { $0.isLetter || $0.isNumber } == true && name.last.map { $0.isLetter || $0.isNumber } == true
        if !allowed || !edges || name.count > (label ? 63 : 253) {
            let what = label ? "RFC 1123 label" : "RFC 1123 subdomain"
            throw APIError.invalid(type, name, "metadata.name: Invalid value: \"\(name)\": a lowercase \(what) must consist of lower case alphanumeric characters, '-'\(label ? "" : " or '.'"), and must start and end with an alphanumeric character")
        }
    }

}
