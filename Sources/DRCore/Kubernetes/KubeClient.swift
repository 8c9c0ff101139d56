import Foundation
public import Logging

/// A blocking Kubernetes REST client over libcurl: discovery, list/get/create/apply/patch/delete.
///
/// Thread-safe: requests may be sent from several threads at once. Each request retries
/// connection failures, 429 (honouring `Retry-After`) and 500/502/503/504 with exponential
/// backoff and jitter; an exec-plugin or token-file credential is fetched again once after a 401.
///
/// ```swift
/// let endpoint = try KubeEndpoint.resolve(settings, environment: .current, logger: logger)
/// let client = try KubeClient(endpoint: endpoint, logger: logger)
/// let deployments = try client.resource(apiVersion: "apps/v1", kind: "Deployment")
/// let items = try client.list(deployments, namespace: "wordpress")
/// ```
public final class KubeClient: Sendable {
    /// Timeouts and retry policy.
    public struct Options: Sendable {
        /// The whole of one request attempt (connect, send, receive).
        public var timeout: Duration = .seconds(30)
        /// The TCP + TLS connection part of one attempt (never more than `timeout`).
        public var connectTimeout: Duration = .seconds(10)
        /// Further attempts after the first for connection failures, 429 and 5xx answers.
        public var retries: Int = 4
        /// The first backoff; it doubles with every retry, with jitter.
        public var initialBackoff: Duration = .milliseconds(200)
        /// The longest backoff between two attempts (also caps `Retry-After`).
        public var maxBackoff: Duration = .seconds(30)
        /// How often a paginated list starts over after its continue token expired (410).
        public var listRestarts: Int = 3
        /// Appended to every namespace the client addresses (a drill cluster shared with other
        /// workloads): request paths, `metadata.namespace` of created and applied objects, and
        /// the names of Namespace objects. A namespace that already ends with it is kept.
        public var namespaceSuffix: String?

        /// The defaults: 30 s per attempt, 4 retries from 200 ms.
        public init() {}
    }

    /// A kind of object the server serves: group, version, plural name and scope.
    public struct Resource: Sendable, Hashable, CustomStringConvertible {
        /// The API group, empty for the core group.
        public var group: String
        /// The version within the group (`v1`, `v1alpha1`).
        public var version: String
        /// The plural resource name used in URLs (`deployments`).
        public var name: String
        /// The object kind (`Deployment`).
        public var kind: String
        /// True when objects live in a namespace.
        public var namespaced: Bool
        /// What the server allows on it (`list`, `create`, `patch` …), as discovery says.
        public var verbs: [String]

        /// A resource as discovery describes it.
        public init(group: String, version: String, name: String, kind: String, namespaced: Bool, verbs: [String] = []) {
            self.group = group
            self.version = version
            self.name = name
            self.kind = kind
            self.namespaced = namespaced
            self.verbs = verbs
        }

        /// `apps/v1`, or `v1` for the core group.
        public var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }

        /// `deployments.v1.apps`, `secrets.v1`.
        public var description: String { group.isEmpty ? "\(name).\(version)" : "\(name).\(version).\(group)" }

        /// True for core Secrets, whose bodies never appear in logs or errors.
        var isSecret: Bool { group.isEmpty && name == "secrets" }
        /// True for core Namespaces.
        var isNamespace: Bool { group.isEmpty && name == "namespaces" }

        /// Equal when group, version, name, kind and scope match (verbs are not compared).
        public static func == (lhs: Resource, rhs: Resource) -> Bool {
            lhs.group == rhs.group && lhs.version == rhs.version && lhs.name == rhs.name
                && lhs.kind == rhs.kind && lhs.namespaced == rhs.namespaced
        }

        public func hash(into hasher: inout Hasher) {
            hasher.combine(group)
            hasher.combine(version)
            hasher.combine(name)
        }
    }

    /// The body format of ``patch(_:namespace:name:type:body:)``.
    public enum PatchType: Sendable {
        /// JSON merge patch (RFC 7386).
        case merge
        /// Kubernetes strategic merge patch (built-in kinds only).
        case strategicMerge
        /// JSON patch (RFC 6902): an array of operations.
        case json

        var contentType: String {
            switch self {
            case .merge: "application/merge-patch+json"
            case .strategicMerge: "application/strategic-merge-patch+json"
            case .json: "application/json-patch+json"
            }
        }
    }

    /// The endpoint this client talks to.
    public let endpoint: KubeEndpoint
    let logger: Logger
    let options: Options
    let transport: KubeTransport
    let credentials: KubeCredentialProvider
    let discovery = KubeDiscoveryCache()

    /// Creates a client; nothing is sent until the first request.
    public init(endpoint: KubeEndpoint, logger: Logger, options: Options = .init()) throws {
        self.endpoint = endpoint
        self.logger = logger
        self.options = options
        transport = try KubeTransport(endpoint: endpoint)
        credentials = KubeCredentialProvider(endpoint: endpoint, logger: logger)
    }

    // MARK: - Objects

    /// Every object of `resource`, following `continue` tokens page by page. A nil namespace
    /// lists all namespaces. Items get `apiVersion` and `kind` filled in. When the server
    /// expires the continue token (410 Gone), the list starts over (``Options/listRestarts`` times).
    public func list(
        _ resource: Resource, namespace: String? = nil, labelSelector: String? = nil, fieldSelector: String? = nil,
        pageSize: Int = 500
    ) throws -> [JSONValue] {
        var restarts = 0
        restart: while true {
            var items: [JSONValue] = []
            var continueToken: String?
            var pages = 0
            repeat {
                var query: [(String, String)] = []
                if pageSize > 0 { query.append(("limit", String(pageSize))) }
                if let continueToken { query.append(("continue", continueToken)) }
                if let labelSelector, !labelSelector.isEmpty { query.append(("labelSelector", labelSelector)) }
                if let fieldSelector, !fieldSelector.isEmpty { query.append(("fieldSelector", fieldSelector)) }
                let request = KubeHTTPRequest(
                    method: "GET", path: KubePaths.resourcePath(resource, namespace: namespace.map(mapped)), query: query,
                    sensitive: resource.isSecret)
                let response = try send(request)
                if response.status == 410, restarts < options.listRestarts {
                    restarts += 1
                    logger.notice("kubernetes list expired (410 Gone); starting it over", metadata: [
                        "resource": "\(resource)", "namespace": "\(namespace ?? "(all)")",
                        "pages_read": "\(pages)", "restart": "\(restarts)",
                    ])
                    continue restart
                }
                let body = try decode(try checked(response, request), request)
                pages += 1
                for var item in body["items"]?.arrayValue ?? [] {
                    if item["apiVersion"] == nil { item["apiVersion"] = .string(resource.apiVersion) }
                    if item["kind"] == nil { item["kind"] = .string(resource.kind) }
                    items.append(item)
                }
                continueToken = body[path: ["metadata", "continue"]]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
            } while continueToken != nil
            return items
        }
    }

    /// One object, or nil when it does not exist (404). A nil namespace of a namespaced
    /// resource means ``KubeEndpoint/defaultNamespace``.
    public func get(_ resource: Resource, namespace: String?, name: String) throws -> JSONValue? {
        let request = KubeHTTPRequest(
            method: "GET", path: try objectPath(resource, namespace: namespace, name: name), sensitive: resource.isSecret)
        let response = try send(request)
        if response.status == 404 { return nil }
        return try decode(try checked(response, request), request)
    }

    /// Creates `object` (POST to its collection) and returns what the server stored.
    /// Its namespace defaults to ``KubeEndpoint/defaultNamespace``; 409 AlreadyExists is a
    /// ``DRError/Code/refused`` error.
    public func create(_ object: JSONValue) throws -> JSONValue {
        let (resource, namespace, _) = try target(of: object, needsName: false)
        let request = KubeHTTPRequest(
            method: "POST", path: KubePaths.resourcePath(resource, namespace: namespace),
            body: try encode(relocated(object, resource: resource, namespace: namespace), resource: resource),
            contentType: "application/json", sensitive: resource.isSecret)
        return try decode(try checked(try send(request), request), request)
    }

    /// Server-side apply: creates `object` or updates the fields `fieldManager` owns.
    /// `metadata.managedFields` is dropped (the server refuses it in an apply); a
    /// `metadata.resourceVersion`, if present, makes the apply conditional (409 when stale).
    /// With `force`, conflicts with other managers are overridden; with `dryRun` nothing is stored.
    public func apply(_ object: JSONValue, fieldManager: String = "drctl", force: Bool = true, dryRun: Bool = false) throws -> JSONValue {
        let (resource, namespace, name) = try target(of: object, needsName: true)
        var body = relocated(object, resource: resource, namespace: namespace)
        body.remove(["metadata", "managedFields"])
        var query: [(String, String)] = [("fieldManager", fieldManager)]
        if force { query.append(("force", "true")) }
        if dryRun { query.append(("dryRun", "All")) }
        let request = KubeHTTPRequest(
            method: "PATCH", path: KubePaths.resourcePath(resource, namespace: namespace, name: name), query: query,
            body: try encode(body, resource: resource), contentType: "application/apply-patch+yaml",
            sensitive: resource.isSecret)
        return try decode(try checked(try send(request), request), request)
    }

    /// Patches one object with a merge, strategic-merge or JSON patch and returns the result.
    public func patch(_ resource: Resource, namespace: String?, name: String, type: PatchType, body: JSONValue) throws -> JSONValue {
        let request = KubeHTTPRequest(
            method: "PATCH", path: try objectPath(resource, namespace: namespace, name: name),
            body: try encode(body, resource: resource), contentType: type.contentType, sensitive: resource.isSecret)
        return try decode(try checked(try send(request), request), request)
    }

    /// Deletes one object (the server may finish later, e.g. after finalizers).
    /// A missing object is a ``DRError/Code/notFound`` error, unless an earlier attempt of
    /// this same call may have deleted it.
    public func delete(_ resource: Resource, namespace: String?, name: String) throws {
        let request = KubeHTTPRequest(
            method: "DELETE", path: try objectPath(resource, namespace: namespace, name: name), sensitive: resource.isSecret)
        let response = try send(request)
        if response.status == 404, response.attempts > 1 { return }
        _ = try checked(response, request)
    }

    /// The server's `/version` document (`gitVersion`, `major`, `minor` …); a cheap reachability check.
    public func serverVersion() throws -> JSONValue {
        let request = KubeHTTPRequest(method: "GET", path: "/version")
        return try decode(try checked(try send(request), request), request)
    }

    // MARK: - Helpers

    /// The object path, with the default namespace for namespaced resources.
    func objectPath(_ resource: Resource, namespace: String?, name: String) throws -> String {
        guard !name.isEmpty else {
            throw DRError(.failed, "cannot address a \(resource.kind) with an empty name")
        }
        let namespace = resource.namespaced ? (namespace.flatMap { $0.isEmpty ? nil : $0 } ?? endpoint.defaultNamespace) : nil
        return KubePaths.resourcePath(resource, namespace: namespace.map(mapped), name: resource.isNamespace ? mapped(name) : name)
    }

    /// `namespace` with ``Options/namespaceSuffix`` appended (once).
    func mapped(_ namespace: String) -> String {
        guard let suffix = options.namespaceSuffix, !suffix.isEmpty, !namespace.hasSuffix(suffix) else { return namespace }
        return namespace + suffix
    }

    /// `object` with its namespace (and, for a Namespace, its name) mapped like its path.
    func relocated(_ object: JSONValue, resource: Resource, namespace: String?) -> JSONValue {
        guard options.namespaceSuffix != nil else { return object }
        var object = object
        if let namespace { object["metadata"]?["namespace"] = .string(namespace) }
        if resource.isNamespace, let name = object[path: ["metadata", "name"]]?.stringValue {
            object["metadata"]?["name"] = .string(mapped(name))
        }
        return object
    }

    /// The resource, namespace and name an object's `apiVersion`, `kind` and `metadata` point at.
    func target(of object: JSONValue, needsName: Bool) throws -> (Resource, String?, String) {
        guard let apiVersion = object["apiVersion"]?.stringValue, !apiVersion.isEmpty,
              let kind = object["kind"]?.stringValue, !kind.isEmpty else {
            throw DRError(.failed, "object has no apiVersion or kind")
        }
        let name = object[path: ["metadata", "name"]]?.stringValue ?? ""
        if needsName, name.isEmpty {
            throw DRError(.failed, "\(kind) (\(apiVersion)) has no metadata.name")
        }
        if !needsName, name.isEmpty, object[path: ["metadata", "generateName"]]?.stringValue?.isEmpty ?? true {
            throw DRError(.failed, "\(kind) (\(apiVersion)) has neither metadata.name nor metadata.generateName")
        }
        let resource = try self.resource(apiVersion: apiVersion, kind: kind)
        var namespace: String?
        if resource.namespaced {
            let given = object[path: ["metadata", "namespace"]]?.stringValue ?? ""
            namespace = mapped(given.isEmpty ? endpoint.defaultNamespace : given)
        }
        return (resource, namespace, resource.isNamespace && !name.isEmpty ? mapped(name) : name)
    }

    private func encode(_ object: JSONValue, resource: Resource) throws -> [UInt8] {
        do {
            return Array(try object.jsonData())
        } catch {
            throw DRError(.failed, "cannot encode a \(resource.kind) as JSON", cause: resource.isSecret ? nil : error)
        }
    }

    func decode(_ response: KubeHTTPResponse, _ request: KubeHTTPRequest) throws -> JSONValue {
        do {
            return try JSONValue.parse(json: Data(response.body))
        } catch {
            throw DRError(.failed, "\(request.summary): the server's answer (HTTP \(response.status)) is not valid JSON")
        }
    }
}
