public import DRCore
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// An in-process fake Kubernetes API server on loopback TLS, for tests.
///
/// Each test starts its own server on an ephemeral port. `kubectl` works against it through
/// `writeKubeconfig(to:user:)`. Test hooks seed and inspect the store, inject failures, manage tokens
/// and steer the simulated controllers.
public final class FakeKubeServer: Sendable {
    /// Start-up settings.
    public struct Options: Sendable {
        /// Bearer tokens accepted from the start (token → user name).
        public var tokens: [String: String]
        /// Namespaces that exist from the start.
        public var namespaces: [String]
        /// How long a Deployment/StatefulSet takes to roll out after a spec change.
        public var rolloutDelay: Duration
        /// The `git` binary the simulated ArgoCD controller runs.
        public var gitPath: String
        /// How long one git fetch of a sync may take before the sync fails.
        public var gitTimeout: Duration
        /// Answer `/api` and `/apis` with aggregated discovery (`apidiscovery.k8s.io/v2`) when the client asks
        /// for it; when false, only the legacy documents are served (clients must fall back).
        public var aggregatedDiscovery: Bool

        public init(
            tokens: [String: String] = [:], namespaces: [String] = ["default", "kube-system"],
            rolloutDelay: Duration = .milliseconds(30), gitPath: String = "/usr/bin/git", gitTimeout: Duration = .seconds(30),
            aggregatedDiscovery: Bool = true
        ) {
            self.aggregatedDiscovery = aggregatedDiscovery
            self.tokens = tokens
            self.namespaces = namespaces
            self.rolloutDelay = rolloutDelay
            self.gitPath = gitPath
            self.gitTimeout = gitTimeout
        }
    }

    /// `https://127.0.0.1:PORT`.
    public let url: String
    /// The listening port.
    public let port: Int
    /// PEM of the CA that signed the serving certificate and client certificates.
    public var caPEM: String { backend.authority.caPEM }

    let backend: Backend
    let rollouts: RolloutController
    let argo: ArgoController
    private let channel: any Channel

    private init(backend: Backend, channel: any Channel, port: Int, rollouts: RolloutController, argo: ArgoController) {
        self.backend = backend
        self.channel = channel
        self.port = port
        self.url = "https://127.0.0.1:\(port)"
        self.rollouts = rollouts
        self.argo = argo
    }

    /// Starts a server on `127.0.0.1` with a fresh CA and an ephemeral port.
    public static func start(options: Options = .init()) async throws -> FakeKubeServer {
        let authority = try CertificateAuthority()
        let store = ResourceStore(namespaces: options.namespaces)
        let backend = Backend(store: store, authority: authority, aggregatedDiscovery: options.aggregatedDiscovery)
        backend.tokens.withLockedValue { $0 = options.tokens }

        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: [.certificate(try NIOSSLCertificate(bytes: Array(authority.serverCertificatePEM.utf8), format: .pem))],
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(authority.serverKeyPEM.utf8), format: .pem)))
        tls.trustRoots = .certificates([try NIOSSLCertificate(bytes: Array(authority.caPEM.utf8), format: .pem)])
        tls.certificateVerification = .optionalVerification
        tls.applicationProtocols = ["http/1.1"]
        let sslContext = try NIOSSLContext(configuration: tls)

        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.backlog, value: 256)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    backend.register(channel)
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: sslContext))
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(HTTPHandler(backend: backend))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let port = channel.localAddress?.port ?? 0
        backend.port.withLockedValue { $0 = port }
        let rollouts = RolloutController(store: store, delay: options.rolloutDelay)
        let argo = ArgoController(store: store, gitPath: options.gitPath, gitTimeout: options.gitTimeout)
        rollouts.attach()
        argo.attach()
        return FakeKubeServer(backend: backend, channel: channel, port: port, rollouts: rollouts, argo: argo)
    }

    /// Stops listening and stops the simulated controllers. Safe to call more than once.
    public func shutdown() async {
        rollouts.stop()
        argo.stop()
        try? await channel.close()
        backend.closeConnections()
    }

    deinit {
        rollouts.stop()
        argo.stop()
        channel.close(promise: nil)
        backend.closeConnections()
    }

    // MARK: Credentials

    /// Issues a client certificate signed by the fake CA (`CN = user`, `O = group` for each group).
    public func issueClientCertificate(user: String, groups: [String] = []) throws -> (certificatePEM: String, privateKeyPEM: String) {
        try backend.authority.issueClient(user: user, groups: groups)
    }

    /// Accepts `token` as a bearer token for `user`.
    public func addToken(_ token: String, user: String) {
        backend.tokens.withLockedValue { $0[token] = user }
    }

    /// Stops accepting `token` (later requests with it get 401).
    public func removeToken(_ token: String) {
        backend.tokens.withLockedValue { $0[token] = nil }
    }

    // MARK: Store hooks

    /// Creates `object` directly (no authentication); its namespace is created when missing.
    @discardableResult
    public func seed(_ object: JSONValue) throws -> JSONValue {
        let type = try resourceType(object)
        let namespace = type.namespaced ? (object[path: ["metadata", "namespace"]]?.stringValue ?? "default") : nil
        if let namespace, (try? backend.store.get(ResourceStore.namespaceType, namespace: nil, name: namespace)) == nil {
            _ = try backend.store.create(
                ResourceStore.namespaceType, namespace: nil,
                object: .object(["metadata": .object(["name": .string(namespace)])]), options: WriteOptions(fieldManager: "fakekube-seed"))
        }
        return try backend.store.create(type, namespace: namespace, object: object, options: WriteOptions(fieldManager: "fakekube-seed"))
    }

    /// Parses a YAML stream and seeds every document in order.
    public func seed(yaml: String) throws {
        for document in try JSONValue.parseYAMLDocuments(yaml) { try seed(document) }
    }

    /// The stored object, or nil.
    public func object(apiVersion: String, kind: String, namespace: String? = nil, name: String) -> JSONValue? {
        guard let type = backend.store.type(apiVersion: apiVersion, kind: kind) else { return nil }
        return try? backend.store.get(type, namespace: namespace, name: name)
    }

    /// Every stored object of a kind (in `namespace`, or in all namespaces when nil), sorted by namespace and name.
    public func objects(apiVersion: String, kind: String, namespace: String? = nil) -> [JSONValue] {
        guard let type = backend.store.type(apiVersion: apiVersion, kind: kind) else { return [] }
        return backend.store.all(type, namespace: namespace)
    }

    /// Replaces a stored object's `status` (as a controller would), bypassing authentication.
    @discardableResult
    public func setStatus(apiVersion: String, kind: String, namespace: String? = nil, name: String, status: JSONValue) throws -> JSONValue {
        guard let type = backend.store.type(apiVersion: apiVersion, kind: kind) else {
            throw APIError(code: 404, reason: "NotFound", message: "no kind \(kind) in \(apiVersion)")
        }
        var object = try backend.store.get(type, namespace: namespace, name: name)
        object["status"] = status
        return try backend.store.update(type, namespace: namespace, name: name, object: object,
                                        options: WriteOptions(fieldManager: "fakekube", subresource: type.hasStatus ? "status" : nil))
    }

    /// Deletes a stored object directly; returns whether it existed.
    @discardableResult
    public func remove(apiVersion: String, kind: String, namespace: String? = nil, name: String) -> Bool {
        guard let type = backend.store.type(apiVersion: apiVersion, kind: kind) else { return false }
        return (try? backend.store.delete(type, namespace: namespace, name: name, options: WriteOptions())) != nil
    }

    private func resourceType(_ object: JSONValue) throws -> ResourceType {
        guard let apiVersion = object["apiVersion"]?.stringValue, let kind = object["kind"]?.stringValue,
              let type = backend.store.type(apiVersion: apiVersion, kind: kind) else {
            throw APIError(code: 404, reason: "NotFound",
                           message: "no matches for kind \"\(object["kind"]?.stringValue ?? "")\" in version \"\(object["apiVersion"]?.stringValue ?? "")\"")
        }
        return type
    }

    // MARK: Test hooks

    /// The next `count` requests whose path starts with `pathPrefix` (and method matches, when given)
    /// fail with `status` and a Status body, after authentication.
    public func injectFailures(method: String? = nil, pathPrefix: String, status: Int, count: Int = 1) {
        backend.failures.withLockedValue {
            $0.append(Backend.Failure(method: method, pathPrefix: pathPrefix, status: status, remaining: count))
        }
    }

    /// Every request received so far, in order.
    public var requests: [RecordedRequest] { backend.log.withLockedValue { $0 } }

    /// Forgets the request log.
    public func clearRequests() { backend.log.withLockedValue { $0.removeAll() } }

    /// Compacts the store: every continue token handed out so far answers 410 Expired.
    public func expireContinueTokens() { backend.store.expireContinueTokens() }

    /// While frozen, Deployments and StatefulSets do not progress to their new generation.
    public func setRolloutsFrozen(_ frozen: Bool) { rollouts.setFrozen(frozen) }

    /// The types currently served (built-ins and established CRDs).
    public var resourceTypes: [ResourceType] { backend.store.types }
}
