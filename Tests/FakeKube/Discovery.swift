import DRCore
import Foundation

/// Discovery documents (`/api`, `/apis`, APIResourceLists) and the minimal OpenAPI v3 kubectl reads,
/// all computed from the store's current types (so CRDs appear as soon as they are established).
struct Discovery {
    let store: ResourceStore
    let port: Int

    static let version = JSONValue.object([
        "major": .string("1"), "minor": .string("32"), "gitVersion": .string("v1.32.0-fakekube"),
        "gitCommit": .string("0000000000000000000000000000000000000000"), "gitTreeState": .string("clean"),
        "buildDate": .string("2026-01-01T00:00:00Z"), "goVersion": .string("go1.23.0"),
        "compiler": .string("gc"), "platform": .string("linux/amd64"),
    ])

    func rootPaths() -> JSONValue {
        var paths = ["/api", "/api/v1", "/apis", "/healthz", "/openapi/v3", "/version"]
        for (group, versions) in groupedVersions() {
            paths.append("/apis/\(group)")
            paths += versions.map { "/apis/\(group)/\($0)" }
        }
        return .object(["paths": .array(paths.sorted().map(JSONValue.string))])
    }

    private var serverAddresses: JSONValue {
        .array([.object(["clientCIDR": .string("0.0.0.0/0"), "serverAddress": .string("127.0.0.1:\(port)")])])
    }

    func coreVersions() -> JSONValue {
        .object(["kind": .string("APIVersions"), "versions": .array([.string("v1")]),
                 "serverAddressByClientCIDRs": serverAddresses])
    }

    /// Non-core groups in registration order, each with its versions in order.
    private func groupedVersions() -> [(String, [String])] {
        var result: [(String, [String])] = []
        for type in store.types where !type.group.isEmpty {
            if let index = result.firstIndex(where: { $0.0 == type.group }) {
                if !result[index].1.contains(type.version) { result[index].1.append(type.version) }
            } else {
                result.append((type.group, [type.version]))
            }
        }
        return result
    }

    private func groupObject(_ group: String, _ versions: [String]) -> JSONValue {
        let entries = versions.map { JSONValue.object(["groupVersion": .string("\(group)/\($0)"), "version": .string($0)]) }
        return .object(["name": .string(group), "versions": .array(entries), "preferredVersion": entries.first ?? .null])
    }

    func groupList() -> JSONValue {
        .object(["kind": .string("APIGroupList"), "apiVersion": .string("v1"),
                 "groups": .array(groupedVersions().map { groupObject($0.0, $0.1) })])
    }

    func group(_ name: String) -> JSONValue? {
        guard let entry = groupedVersions().first(where: { $0.0 == name }) else { return nil }
        var object = groupObject(entry.0, entry.1)
        object["kind"] = .string("APIGroup")
        object["apiVersion"] = .string("v1")
        return object
    }

    func resourceList(group: String, version: String) -> JSONValue {
        var resources: [JSONValue] = []
        for type in store.types where type.group == group && type.version == version {
            var entry: [String: JSONValue] = [
                "name": .string(type.plural), "singularName": .string(type.singular),
                "namespaced": .bool(type.namespaced), "kind": .string(type.kind),
                "verbs": .array(type.verbs.map(JSONValue.string)),
            ]
            if !type.shortNames.isEmpty { entry["shortNames"] = .array(type.shortNames.map(JSONValue.string)) }
            if !type.categories.isEmpty { entry["categories"] = .array(type.categories.map(JSONValue.string)) }
            resources.append(.object(entry))
            if type.hasStatus {
                resources.append(.object([
                    "name": .string("\(type.plural)/status"), "singularName": .string(""),
                    "namespaced": .bool(type.namespaced), "kind": .string(type.kind),
                    "verbs": .array(["get", "patch", "update"].map(JSONValue.string)),
                ]))
            }
        }
        return .object([
            "kind": .string("APIResourceList"), "apiVersion": .string("v1"),
            "groupVersion": .string(group.isEmpty ? version : "\(group)/\(version)"), "resources": .array(resources),
        ])
    }

    // MARK: Aggregated discovery

    static let aggregatedContentType = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"

    /// Whether the client accepts aggregated discovery (`apidiscovery.k8s.io/v2`).
    static func wantsAggregated(_ accept: String) -> Bool {
        accept.split(separator: ",").contains { $0.contains("as=APIGroupDiscoveryList") && $0.contains("v=v2") && !$0.contains("v=v2beta1") }
    }

    /// `/api` (core only) or `/apis` (every group) as an `APIGroupDiscoveryList`.
    func aggregated(core: Bool) -> JSONValue {
        let groups: [(String, [String])] = core ? [("", ["v1"])] : groupedVersions()
        let items = groups.map { group, versions -> JSONValue in
            let versionEntries = versions.map { version -> JSONValue in
                let resources = store.types.filter { $0.group == group && $0.version == version }.map { type -> JSONValue in
                    let kind = JSONValue.object(["group": .string(group), "version": .string(version), "kind": .string(type.kind)])
                    var entry: [String: JSONValue] = [
                        "resource": .string(type.plural), "responseKind": kind,
                        "scope": .string(type.namespaced ? "Namespaced" : "Cluster"),
                        "singularResource": .string(type.singular), "verbs": .array(type.verbs.map(JSONValue.string)),
                    ]
                    if !type.shortNames.isEmpty { entry["shortNames"] = .array(type.shortNames.map(JSONValue.string)) }
                    if !type.categories.isEmpty { entry["categories"] = .array(type.categories.map(JSONValue.string)) }
                    if type.hasStatus {
                        entry["subresources"] = .array([.object([
                            "subresource": .string("status"), "responseKind": kind,
                            "verbs": .array(["get", "patch", "update"].map(JSONValue.string)),
                        ])])
                    }
                    return .object(entry)
                }
                return .object(["version": .string(version), "resources": .array(resources), "freshness": .string("Current")])
            }
            return .object(["metadata": .object(group.isEmpty ? [:] : ["name": .string(group)]), "versions": .array(versionEntries)])
        }
        return .object(["kind": .string("APIGroupDiscoveryList"), "apiVersion": .string("apidiscovery.k8s.io/v2"),
                        "metadata": .object([:]), "items": .array(items)])
    }

    // MARK: OpenAPI

    /// `/openapi/v3` (index) and `/openapi/v3/api/v1`, `/openapi/v3/apis/G/V`: just enough for kubectl to see that
    /// every resource's PATCH takes `fieldValidation`, so it validates server-side instead of fetching full schemas.
    func openAPI(_ segments: [String]) throws -> APIResponse {
        guard segments.first == "v3" else { throw APIError.notFoundPath("/openapi/" + segments.joined(separator: "/")) }
        let rest = Array(segments.dropFirst())
        if rest.isEmpty {
            var paths: [String: JSONValue] = [:]
            for key in ["api/v1"] + groupedVersions().flatMap({ group in group.1.map { "apis/\(group.0)/\($0)" } }) {
                let hash = String(format: "%08X", UInt32(truncatingIfNeeded: stableHash(key + gvDocumentKey(key))))
                paths[key] = .object(["serverRelativeURL": .string("/openapi/v3/\(key)?hash=\(hash)")])
            }
            return .json(.object(["paths": .object(paths)]))
        }
        let (group, version): (String, String)
        if rest.count == 2, rest[0] == "api" {
            (group, version) = ("", rest[1])
        } else if rest.count == 3, rest[0] == "apis" {
            (group, version) = (rest[1], rest[2])
        } else {
            throw APIError.notFoundPath("/openapi/" + segments.joined(separator: "/"))
        }
        let types = store.types.filter { $0.group == group && $0.version == version }
        guard !types.isEmpty else { throw APIError.notFoundPath("/openapi/" + segments.joined(separator: "/")) }
        return .json(gvDocument(types))
    }

    private func gvDocumentKey(_ key: String) -> String {
        store.types.filter { "\($0.group.isEmpty ? "api" : "apis/\($0.group)")/\($0.version)" == key }
            .map { $0.kind + $0.plural }.joined(separator: ",")
    }

    private func stableHash(_ text: String) -> UInt64 {
        text.utf8.reduce(UInt64(14_695_981_039_346_656_037)) { ($0 ^ UInt64($1)) &* 1_099_511_628_211 }
    }

    private func gvDocument(_ types: [ResourceType]) -> JSONValue {
        var paths: [String: JSONValue] = [:]
        func parameter(_ name: String, _ location: String = "query") -> JSONValue {
            .object(["name": .string(name), "in": .string(location), "schema": .object(["type": .string("string")]),
                     "uniqueItems": .bool(true)])
        }
        for type in types {
            let prefix = type.group.isEmpty ? "/api/\(type.version)" : "/apis/\(type.group)/\(type.version)"
            let base = type.namespaced ? "\(prefix)/namespaces/{namespace}/\(type.plural)" : "\(prefix)/\(type.plural)"
            let gvk = JSONValue.object(["group": .string(type.group), "version": .string(type.version), "kind": .string(type.kind)])
            let writeParameters = ["dryRun", "fieldManager", "fieldValidation"].map { parameter($0) }
            func operation(_ action: String, _ parameters: [JSONValue]) -> JSONValue {
                .object(["x-kubernetes-action": .string(action), "x-kubernetes-group-version-kind": gvk,
                         "parameters": .array(parameters),
                         "responses": .object(["200": .object(["description": .string("OK")])])])
            }
            paths[base] = .object([
                "get": operation("list", []), "post": operation("post", writeParameters),
            ])
            paths["\(base)/{name}"] = .object([
                "get": operation("get", []), "put": operation("put", writeParameters),
                "patch": operation("patch", writeParameters + [parameter("force")]), "delete": operation("delete", []),
            ])
        }
        return .object([
            "openapi": .string("3.0.0"),
            "info": .object(["title": .string("Kubernetes"), "version": .string("v1.32.0-fakekube")]),
            "paths": .object(paths),
            "components": .object(["schemas": .object([:])]),
        ])
    }
}
