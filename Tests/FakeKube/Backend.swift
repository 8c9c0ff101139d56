import DRCore
import Foundation
import NIOConcurrencyHelpers
import NIOCore

/// One HTTP request as the API layer sees it.
struct APIRequest: Sendable {
    var method: String
    var path: String
    var query: [String: String]
    var rawQuery: String
    var headers: [String: String]
    var body: Data
    var user: String?

    var accept: String { headers["accept"] ?? "" }
    var contentType: String { headers["content-type"] ?? "" }
}

/// One HTTP response.
struct APIResponse: Sendable {
    var status: Int
    var contentType = "application/json"
    var body: Data
    /// Whether the connection closes after this response (watch streams).
    var close = false

    static func json(_ value: JSONValue, status: Int = 200) -> APIResponse {
        APIResponse(status: status, body: (try? value.jsonData()) ?? Data("{}".utf8))
    }

    static func error(_ error: APIError) -> APIResponse { json(error.status, status: error.code) }
}

/// A request the server logged: what tests assert on.
public struct RecordedRequest: Sendable, Hashable {
    public var method: String
    public var path: String
    /// The raw query string (without `?`).
    public var query: String
    /// The authenticated user, or nil when authentication failed.
    public var user: String?
    public var contentType: String?
}

/// Authentication, logging, failure injection and routing; shared by every connection of one server.
final class Backend: Sendable {
    struct Failure: Sendable {
        var method: String?
        var pathPrefix: String
        var status: Int
        var remaining: Int
    }

    let store: ResourceStore
    let authority: CertificateAuthority
    let tokens = NIOLockedValueBox<[String: String]>([:])
    let log = NIOLockedValueBox<[RecordedRequest]>([])
    let failures = NIOLockedValueBox<[Failure]>([])
    let port = NIOLockedValueBox<Int>(0)
    let aggregatedDiscovery: Bool
    /// Open client connections, closed on shutdown.
    let connections = NIOLockedValueBox<[ObjectIdentifier: any Channel]>([:])

    init(store: ResourceStore, authority: CertificateAuthority, aggregatedDiscovery: Bool) {
        self.store = store
        self.authority = authority
        self.aggregatedDiscovery = aggregatedDiscovery
    }

    /// Tracks a client connection until it closes.
    func register(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        connections.withLockedValue { $0[id] = channel }
        channel.closeFuture.whenComplete { [weak self] _ in
            _ = self?.connections.withLockedValue { $0.removeValue(forKey: id) }
        }
    }

    /// Closes every open client connection.
    func closeConnections() {
        let open = connections.withLockedValue { connections in
            defer { connections.removeAll() }
            return Array(connections.values)
        }
        for channel in open { channel.close(promise: nil) }
    }

    /// Answers one request; `certificateUser` is the CN of a verified client certificate.
    func handle(_ request: APIRequest, bearerToken: String?, certificateUser: String?) -> APIResponse {
        var request = request
        if let bearerToken {
            request.user = tokens.withLockedValue { $0[bearerToken] }
        } else {
            request.user = certificateUser
        }
        log.withLockedValue {
            $0.append(RecordedRequest(method: request.method, path: request.path, query: request.rawQuery,
                                      user: request.user, contentType: request.headers["content-type"]))
        }
        guard request.user != nil else { return .error(.unauthorized) }
        if let injected = takeFailure(request) {
            let error = APIError(code: injected, reason: APIError.reason(forCode: injected),
                                 message: "injected failure (\(injected)) for \(request.method) \(request.path)")
            return .error(error)
        }
        do {
            return try route(request)
        } catch let error as APIError {
            return .error(error)
        } catch {
            return .error(APIError(code: 500, reason: "InternalError", message: "\(error)"))
        }
    }

    private func takeFailure(_ request: APIRequest) -> Int? {
        failures.withLockedValue { failures in
            guard let index = failures.firstIndex(where: {
                ($0.method == nil || $0.method?.uppercased() == request.method) && request.path.hasPrefix($0.pathPrefix)
                    && $0.remaining > 0
            }) else { return nil }
            failures[index].remaining -= 1
            let status = failures[index].status
            if failures[index].remaining == 0 { failures.remove(at: index) }
            return status
        }
    }

    // MARK: Routing

    private func route(_ request: APIRequest) throws -> APIResponse {
        let segments = request.path.split(separator: "/").map(String.init)
        let discovery = Discovery(store: store, port: port.withLockedValue { $0 })
        guard let first = segments.first else { return .json(discovery.rootPaths()) }
        switch first {
        case "version": return .json(Discovery.version)
        case "healthz", "readyz", "livez":
            return APIResponse(status: 200, contentType: "text/plain", body: Data("ok".utf8))
        case "openapi":
            return try discovery.openAPI(Array(segments.dropFirst()))
        case "api":
            if segments.count == 1 {
                if aggregatedDiscovery, Discovery.wantsAggregated(request.accept) {
                    var response = APIResponse.json(discovery.aggregated(core: true))
                    response.contentType = Discovery.aggregatedContentType
                    return response
                }
                return .json(discovery.coreVersions())
            }
            guard segments[1] == "v1" else { throw APIError.notFoundPath(request.path) }
            if segments.count == 2 { return .json(discovery.resourceList(group: "", version: "v1")) }
            return try resource(request, group: "", version: "v1", rest: Array(segments.dropFirst(2)))
        case "apis":
            if segments.count == 1 {
                if aggregatedDiscovery, Discovery.wantsAggregated(request.accept) {
                    var response = APIResponse.json(discovery.aggregated(core: false))
                    response.contentType = Discovery.aggregatedContentType
                    return response
                }
                return .json(discovery.groupList())
            }
            if segments.count == 2 {
                guard let group = discovery.group(segments[1]) else { throw APIError.notFoundPath(request.path) }
                return .json(group)
            }
            if segments.count == 3 {
                let list = discovery.resourceList(group: segments[1], version: segments[2])
                guard !(list["resources"]?.arrayValue ?? []).isEmpty else { throw APIError.notFoundPath(request.path) }
                return .json(list)
            }
            return try resource(request, group: segments[1], version: segments[2], rest: Array(segments.dropFirst(3)))
        default:
            throw APIError.notFoundPath(request.path)
        }
    }

    private func resource(_ request: APIRequest, group: String, version: String, rest: [String]) throws -> APIResponse {
        var rest = rest
        var namespace: String?
        if rest.count >= 3, rest[0] == "namespaces", !(rest.count == 3 && ["status", "finalize"].contains(rest[2])) {
            namespace = rest[1]
            rest = Array(rest.dropFirst(2))
        }
        guard let plural = rest.first, rest.count <= 3,
              let type = store.type(group: group, version: version, resource: plural) else {
            throw APIError.notFoundPath(request.path)
        }
        let name = rest.count > 1 ? rest[1] : nil
        let subresource = rest.count > 2 ? rest[2] : nil
        if namespace != nil && !type.namespaced { throw APIError.notFoundPath(request.path) }
        if type.namespaced && namespace == nil && name != nil { throw APIError.notFoundPath(request.path) }
        if let subresource, subresource != "status" || !type.hasStatus { throw APIError.notFoundPath(request.path) }

        let dryRun = request.query["dryRun"] == "All"
        let options = WriteOptions(fieldManager: request.query["fieldManager"] ?? defaultManager(request),
                                   dryRun: dryRun, subresource: subresource)
        let wantsTable = request.accept.contains("as=Table")

        switch (request.method, name) {
        case ("GET", let name?):
            let object = try store.get(type, namespace: namespace, name: name)
            if wantsTable { return .json(Table.render(type: type, objects: [object], request: request)) }
            return .json(object)
        case ("GET", nil):
            let query = try listQuery(request)
            if request.query["watch"] == "true" || request.query["watch"] == "1" {
                return try watch(type, namespace: namespace, query: query, table: wantsTable ? request : nil)
            }
            let list = try store.list(type, namespace: namespace, query: query)
            if wantsTable {
                return .json(Table.render(type: type, objects: list["items"]?.arrayValue ?? [], request: request,
                                          listMetadata: list["metadata"]))
            }
            return .json(list)
        case ("POST", nil):
            try requireVerb("create", type, request)
            let body = try parseBody(request)
            return .json(try store.create(type, namespace: namespace, object: body, options: options), status: 201)
        case ("PUT", let name?):
            try requireVerb("update", type, request)
            let body = try parseBody(request)
            return .json(try store.update(type, namespace: namespace, name: name, object: body, options: options))
        case ("PATCH", let name?):
            try requireVerb("patch", type, request)
            guard let kind = PatchKind(contentType: request.contentType) else {
                throw APIError(code: 415, reason: "UnsupportedMediaType",
                               message: "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json")
            }
            if kind == .apply, options.fieldManager == nil || request.query["fieldManager"] == nil {
                throw APIError.invalid(type, name, "metadata.managedFields.fieldManager: Required value: is required for apply patch")
            }
            let body = try parseBody(request)
            let (object, created) = try store.patch(type, namespace: namespace, name: name, kind: kind, body: body, options: options)
            return .json(object, status: created ? 201 : 200)
        case ("DELETE", let name?):
            try requireVerb("delete", type, request)
            var options = options
            if let body = try? parseBody(request), body["dryRun"]?.arrayValue?.contains(.string("All")) == true {
                options.dryRun = true
            }
            return .json(try store.delete(type, namespace: namespace, name: name, options: options))
        case ("DELETE", nil):
            try requireVerb("deletecollection", type, request)
            return .json(try store.deleteCollection(type, namespace: namespace, query: try listQuery(request), options: options))
        default:
            throw APIError.methodNotAllowed("the server does not allow this method on the requested resource")
        }
    }

    private func requireVerb(_ verb: String, _ type: ResourceType, _ request: APIRequest) throws {
        guard type.verbs.contains(verb) else {
            throw APIError.methodNotAllowed("the server does not allow this method on the requested resource")
        }
    }

    /// The field manager Kubernetes derives from the user agent (`kubectl/v1.32 …` → `kubectl`).
    private func defaultManager(_ request: APIRequest) -> String? {
        guard let agent = request.headers["user-agent"], let name = agent.split(separator: "/").first else { return nil }
        return String(name)
    }

    private func listQuery(_ request: APIRequest) throws -> ListQuery {
        var query = ListQuery()
        if let text = request.query["labelSelector"], !text.isEmpty { query.labelSelector = try LabelSelector(text) }
        if let text = request.query["fieldSelector"], !text.isEmpty { query.fieldSelector = try FieldSelector(text) }
        if let text = request.query["limit"] {
            guard let limit = Int(text), limit >= 0 else { throw APIError.badRequest("invalid limit \(text)") }
            query.limit = limit
        }
        query.continueToken = request.query["continue"]
        return query
    }

    /// Bodies are JSON, or YAML (apply patches, `application/yaml`).
    private func parseBody(_ request: APIRequest) throws -> JSONValue {
        if let value = try? JSONValue.parse(json: request.body) { return value }
        let text = String(decoding: request.body, as: UTF8.self)
        if let documents = try? JSONValue.parseYAMLDocuments(text), let first = documents.first { return first }
        throw APIError.badRequest("the body of the request could not be decoded as JSON or YAML")
    }

    /// `?watch=true`: the current objects as ADDED events, then the stream ends.
    private func watch(_ type: ResourceType, namespace: String?, query: ListQuery, table: APIRequest?) throws -> APIResponse {
        var unlimited = query
        unlimited.limit = nil
        unlimited.continueToken = nil
        let list = try store.list(type, namespace: namespace, query: unlimited)
        var body = Data()
        for item in list["items"]?.arrayValue ?? [] {
            let full = ResourceStore.presented(item, as: type)
            let object = table.map { Table.render(type: type, objects: [full], request: $0) } ?? full
            let event = JSONValue.object(["type": .string("ADDED"), "object": object])
            body.append((try? event.jsonData()) ?? Data())
            body.append(0x0A)
        }
        return APIResponse(status: 200, body: body, close: true)
    }
}
