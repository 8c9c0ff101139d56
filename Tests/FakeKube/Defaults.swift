import DRCore
import Foundation

/// Server-side defaulting and CustomResourceDefinition handling: what the API server adds to objects
/// and how a CRD becomes served types.
extension ResourceStore {
    /// Server-side defaults: namespace phase, CRD acceptance conditions.
    static func defaulted(_ object: JSONValue, type: ResourceType, name: String) -> JSONValue {
        var object = object
        switch (type.group, type.kind) {
        case ("", "Namespace"):
            if object[path: ["status", "phase"]] == nil { object["status"] = .object(["phase": .string("Active")]) }
            var labels = object[path: ["metadata", "labels"]]?.objectValue ?? [:]
            labels["kubernetes.io/metadata.name"] = .string(name)
            object[path: "metadata", "labels"] = .object(labels)
        case ("", "Secret"):
            // stringData is write-only: merged into base64 data, as the API server does.
            if let text = object["stringData"]?.objectValue {
                var data = object["data"]?.objectValue ?? [:]
                for (key, value) in text {
                    data[key] = .string(Data((value.stringValue ?? "").utf8).base64EncodedString())
                }
                object["data"] = .object(data)
                object["stringData"] = nil
            }
            if object["type"] == nil { object["type"] = .string("Opaque") }
        case ("apiextensions.k8s.io", "CustomResourceDefinition"):
            let time = object[path: ["metadata", "creationTimestamp"]] ?? .string(now())
            let condition = { (kind: String, reason: String, message: String) -> JSONValue in
                .object(["type": .string(kind), "status": .string("True"), "reason": .string(reason),
                         "message": .string(message), "lastTransitionTime": time])
            }
            let stored = (object[path: ["spec", "versions"]]?.arrayValue ?? [])
                .filter { $0["storage"]?.boolValue == true }.compactMap { $0["name"] }
            object["status"] = .object([
                "acceptedNames": object[path: ["spec", "names"]] ?? .object([:]),
                "storedVersions": .array(stored),
                "conditions": .array([
                    condition("NamesAccepted", "NoConflicts", "no conflicts found"),
                    condition("Established", "InitialNamesAccepted", "the initial names have been accepted"),
                ]),
            ])
        default:
            break
        }
        return object
    }

    static func validateCRD(_ crd: JSONValue, name: String, state: State) throws {
        let type = ResourceType.builtIns[ResourceType.builtIns.count - 1]
        guard let group = crd[path: ["spec", "group"]]?.stringValue, !group.isEmpty else {
            throw APIError.invalid(type, name, "spec.group: Required value")
        }
        guard let plural = crd[path: ["spec", "names", "plural"]]?.stringValue,
              crd[path: ["spec", "names", "kind"]]?.stringValue != nil else {
            throw APIError.invalid(type, name, "spec.names: Required value")
        }
        guard name == "\(plural).\(group)" else {
            throw APIError.invalid(type, name, "metadata.name: Invalid value: \"\(name)\": must be spec.names.plural+\".\"+spec.group")
        }
        guard !(crd[path: ["spec", "versions"]]?.arrayValue ?? []).isEmpty else {
            throw APIError.invalid(type, name, "spec.versions: Invalid value: must have exactly one version marked as storage version")
        }
    }

    /// The served types a CRD defines, one per served version.
    static func types(ofCRD crd: JSONValue) -> [ResourceType] {
        guard let group = crd[path: ["spec", "group"]]?.stringValue,
              let kind = crd[path: ["spec", "names", "kind"]]?.stringValue,
              let plural = crd[path: ["spec", "names", "plural"]]?.stringValue else { return [] }
        let names = crd[path: ["spec", "names"]]
        return (crd[path: ["spec", "versions"]]?.arrayValue ?? []).compactMap { version in
            guard let versionName = version["name"]?.stringValue, version["served"]?.boolValue != false else { return nil }
            return ResourceType(
                group: group, version: versionName, kind: kind, plural: plural,
                singular: names?["singular"]?.stringValue ?? kind.lowercased(),
                shortNames: (names?["shortNames"]?.arrayValue ?? []).compactMap(\.stringValue),
                namespaced: crd[path: ["spec", "scope"]]?.stringValue != "Cluster",
                hasStatus: version[path: ["subresources", "status"]] != nil,
                categories: (names?["categories"]?.arrayValue ?? []).compactMap(\.stringValue))
        }
    }

    static func register(_ state: inout State, crd: JSONValue) {
        let served = types(ofCRD: crd)
        guard let first = served.first else { return }
        state.types.removeAll { $0.storageKey == first.storageKey }
        state.types += served
    }
}
