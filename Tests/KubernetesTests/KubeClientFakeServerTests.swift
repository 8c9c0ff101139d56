@testable import DRCore
import FakeKube
import Foundation
import Logging
import Testing
import TestSupport

/// Log messages a client emitted, for asserting on notices; may run a hook on each message.
final class LogRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [(level: Logger.Level, message: String, metadata: Logger.Metadata)] = []
    private let hook: (@Sendable (String, Logger.Metadata) -> Void)?

    init(hook: (@Sendable (String, Logger.Metadata) -> Void)? = nil) { self.hook = hook }

    var logger: Logger {
        var logger = Logger(label: "drctl-kube-test") { _ in RecordingHandler(recorder: self) }
        logger.logLevel = .trace
        return logger
    }

    func record(_ level: Logger.Level, _ message: String, _ metadata: Logger.Metadata) {
        lock.lock()
        entries.append((level, message, metadata))
        lock.unlock()
        hook?(message, metadata)
    }

    func messages(at level: Logger.Level) -> [String] {
        lock.lock()
        defer { lock.unlock() }
        return entries.filter { $0.level == level }.map(\.message)
    }

    /// Every message and metadata value as one text, to check nothing secret leaked.
    var allText: String {
        lock.lock()
        defer { lock.unlock() }
        return entries.map { "\($0.message) \($0.metadata)" }.joined(separator: "\n")
    }
}

private struct RecordingHandler: LogHandler {
    let recorder: LogRecorder
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) {
        recorder.record(event.level, "\(event.message)", metadata.merging(event.metadata ?? [:]) { $1 })
    }
}

/// One fake API server and a temporary folder for its kubeconfigs.
struct FakeCluster {
    let server: FakeKubeServer
    let dir: String

    static let fast: KubeClient.Options = {
        var options = KubeClient.Options()
        options.timeout = .seconds(10)
        options.retries = 3
        options.initialBackoff = .milliseconds(10)
        return options
    }()

    /// A client for a kubeconfig with `credential` (a token "tok" for user "tester" by default).
    func client(
        _ credential: KubeconfigCredential = .token("tok"), options: KubeClient.Options = fast, logger: Logger = testLogger
    ) throws -> KubeClient {
        let path = "\(dir)/kubeconfig-\(UUID().uuidString.prefix(6))"
        try server.writeKubeconfig(to: path, user: credential)
        return try client(kubeconfig: path, options: options, logger: logger)
    }

    func client(kubeconfig path: String, options: KubeClient.Options = fast, logger: Logger = testLogger) throws -> KubeClient {
        let endpoint = try KubeEndpoint.resolve(
            .init(kubeconfigPath: path), environment: Environment(["HOME": dir, "PATH": "/usr/bin:/bin"]), logger: logger)
        return try KubeClient(endpoint: endpoint, logger: logger, options: options)
    }

    /// Seeds YAML documents into the store.
    func seed(_ yaml: String) throws { try server.seed(yaml: yaml) }

    /// A stored object in drctl's JSON type.
    func object(apiVersion: String, kind: String, namespace: String? = nil, name: String) throws -> DRCore.JSONValue? {
        guard let value = server.object(apiVersion: apiVersion, kind: kind, namespace: namespace, name: name) else { return nil }
        return try DRCore.JSONValue.parse(json: value.jsonData())
    }

    /// Requests the server saw whose path starts with `prefix`.
    func requests(_ prefix: String) -> [RecordedRequest] { server.requests.filter { $0.path.hasPrefix(prefix) } }
}

/// Starts a fake server (token "tok" → user "tester"), runs `body`, shuts the server down.
func withFakeCluster(_ body: (FakeCluster) throws -> Void) async throws {
    let server = try await FakeKubeServer.start(options: .init(tokens: ["tok": "tester"]))
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-kube-fake-\(UUID().uuidString.prefix(8))").path
    do {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try body(FakeCluster(server: server, dir: dir))
    } catch {
        await server.shutdown()
        try? FileManager.default.removeItem(atPath: dir)
        throw error
    }
    await server.shutdown()
    try? FileManager.default.removeItem(atPath: dir)
}

private func configMaps(_ count: Int, namespace: String, labels: (Int) -> String = { _ in "app: web" }) -> String {
    (0..<count).map { index in
        """
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: cm-\(String(format: "%03d", index))
          namespace: \(namespace)
          labels:
            \(labels(index))
        data:
          index: "\(index)"
        """
    }.joined(separator: "\n---\n")
}

private let configMapResource = KubeClient.Resource(group: "", version: "v1", name: "configmaps", kind: "ConfigMap", namespaced: true)

@Suite struct KubeClientFakeServerTests {
    @Test func listPaginatesAndFillsKinds() async throws {
        try await withFakeCluster { cluster in
            try cluster.seed(configMaps(23, namespace: "app", labels: { $0 % 3 == 0 ? "tier: db" : "tier: web" }))
            let client = try cluster.client()
            let resource = try client.resource(apiVersion: "v1", kind: "ConfigMap")
            #expect(resource == configMapResource)

            let items = try client.list(resource, namespace: "app", pageSize: 5)
            #expect(items.count == 23)
            #expect(Set(items.compactMap { $0[path: ["metadata", "name"]]?.stringValue }).count == 23)
            #expect(items.allSatisfy { $0["apiVersion"]?.stringValue == "v1" && $0["kind"]?.stringValue == "ConfigMap" })
            let pages = cluster.requests("/api/v1/namespaces/app/configmaps")
            #expect(pages.count == 5)
            #expect(pages.dropFirst().allSatisfy { $0.query.contains("continue=") })
            #expect(pages.allSatisfy { $0.query.contains("limit=5") })

            // Selectors with `=`, `,` and `!` survive the query string.
            let web = try client.list(resource, namespace: "app", labelSelector: "tier=web,tier!=db", pageSize: 4)
            #expect(web.count == 15)
            #expect(cluster.requests("/api/v1/namespaces/app/configmaps").last?.query.contains("labelSelector=tier%3Dweb%2Ctier%21%3Ddb") == true)
            let one = try client.list(resource, namespace: "app", fieldSelector: "metadata.name=cm-007")
            #expect(one.count == 1)
            // All namespaces.
            try cluster.seed(configMaps(2, namespace: "other"))
            #expect(try client.list(resource).count >= 25)
        }
    }

    @Test func listStartsOverAfterExpiredContinueToken() async throws {
        try await withFakeCluster { cluster in
            try cluster.seed(configMaps(12, namespace: "app"))
            let server = cluster.server
            let expired = LockedFlag()
            // After the first page arrives, compact the store: the next continue token is stale.
            let recorder = LogRecorder { message, metadata in
                if message == "kubernetes request", metadata["status"] == "200",
                   "\(metadata["request"] ?? "")".hasPrefix("GET /api/v1/namespaces/app/configmaps"), expired.setOnce() {
                    server.expireContinueTokens()
                }
            }
            let client = try cluster.client(logger: recorder.logger)
            let items = try client.list(configMapResource, namespace: "app", pageSize: 5)
            #expect(items.count == 12)
            #expect(Set(items.compactMap { $0[path: ["metadata", "name"]]?.stringValue }).count == 12)
            #expect(recorder.messages(at: .notice).contains("kubernetes list expired (410 Gone); starting it over"))
            // page 1, page 2 (410), then pages 1–3 again.
            #expect(cluster.requests("/api/v1/namespaces/app/configmaps").count == 5)
        }
    }

    @Test func listGivesUpAfterRepeated410() async throws {
        try await withFakeCluster { cluster in
            try cluster.seed(configMaps(3, namespace: "app"))
            cluster.server.injectFailures(method: "GET", pathPrefix: "/api/v1/namespaces/app/configmaps", status: 410, count: 10)
            var options = FakeCluster.fast
            options.listRestarts = 2
            let error = drError { _ = try cluster.client(options: options).list(configMapResource, namespace: "app") }
            #expect(error?.code == .failed)
            #expect(error?.kubeStatus?.code == 410)
            #expect(cluster.requests("/api/v1/namespaces/app/configmaps").count == 3)
        }
    }

    @Test func serverErrorThenSuccessIsRetried() async throws {
        try await withFakeCluster { cluster in
            try cluster.seed(configMaps(1, namespace: "app"))
            cluster.server.injectFailures(method: "GET", pathPrefix: "/api/v1/namespaces/app/configmaps/cm-000", status: 500, count: 2)
            let recorder = LogRecorder()
            let object = try cluster.client(logger: recorder.logger).get(configMapResource, namespace: "app", name: "cm-000")
            #expect(object?[path: ["data", "index"]] == .string("0"))
            #expect(cluster.requests("/api/v1/namespaces/app/configmaps/cm-000").count == 3)
            #expect(recorder.messages(at: .notice).count == 2)
            #expect(!recorder.allText.contains("tok\""))

            // 429 without Retry-After backs off and retries too.
            cluster.server.injectFailures(method: "GET", pathPrefix: "/api/v1/namespaces/app/configmaps/cm-000", status: 429, count: 1)
            #expect(try cluster.client().get(configMapResource, namespace: "app", name: "cm-000") != nil)
        }
    }

    @Test func exhaustedRetriesCarryTheStatusMessage() async throws {
        try await withFakeCluster { cluster in
            cluster.server.injectFailures(pathPrefix: "/api/v1/namespaces/app/configmaps/x", status: 503, count: 10)
            var options = FakeCluster.fast
            options.retries = 2
            let error = drError { _ = try cluster.client(options: options).get(configMapResource, namespace: "app", name: "x") }
            #expect(error?.code == .unreachable)
            #expect(error?.message == "GET /api/v1/namespaces/app/configmaps/x: injected failure (503) for GET /api/v1/namespaces/app/configmaps/x")
            #expect(cluster.requests("/api/v1/namespaces/app/configmaps/x").count == 3)

            // A 400-class answer is not retried.
            cluster.server.injectFailures(pathPrefix: "/api/v1/namespaces/app/configmaps/y", status: 422, count: 10)
            let invalid = drError { _ = try cluster.client(options: options).get(configMapResource, namespace: "app", name: "y") }
            #expect(invalid?.code == .failed)
            #expect(cluster.requests("/api/v1/namespaces/app/configmaps/y").count == 1)
        }
    }

    @Test func createApplyPatchGetDelete() async throws {
        try await withFakeCluster { cluster in
            try cluster.seed("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: app\n")
            let client = try cluster.client()
            let object: DRCore.JSONValue = .object([
                "apiVersion": .string("v1"), "kind": .string("ConfigMap"),
                "metadata": .object(["name": .string("settings"), "namespace": .string("app")]),
                "data": .object(["mode": .string("a")]),
            ])
            #expect(try client.get(configMapResource, namespace: "app", name: "settings") == nil)

            // Apply creates, then updates.
            let created = try client.apply(object)
            #expect(created[path: ["data", "mode"]] == .string("a"))
            var changed = object
            changed["data"] = .object(["mode": .string("b"), "extra": .string("1")])
            let updated = try client.apply(changed)
            #expect(updated[path: ["data", "mode"]] == .string("b"))
            #expect(try cluster.object(apiVersion: "v1", kind: "ConfigMap", namespace: "app", name: "settings")?[path: ["data", "extra"]] == .string("1"))
            let applies = cluster.requests("/api/v1/namespaces/app/configmaps/settings").filter { $0.method == "PATCH" }
            #expect(applies.count == 2)
            #expect(applies.allSatisfy { $0.contentType == "application/apply-patch+yaml" })
            #expect(applies.allSatisfy { $0.query.contains("fieldManager=drctl") && $0.query.contains("force=true") })

            // Dry run stores nothing.
            var dry = changed
            dry["data"] = .object(["mode": .string("dry")])
            #expect(try client.apply(dry, dryRun: true)[path: ["data", "mode"]] == .string("dry"))
            #expect(try client.get(configMapResource, namespace: "app", name: "settings")?[path: ["data", "mode"]] == .string("b"))

            // Merge patch.
            let patched = try client.patch(
                configMapResource, namespace: "app", name: "settings", type: .merge, body: .object(["data": .object(["extra": .null])]))
            #expect(patched[path: ["data", "extra"]] == nil)

            // Create in the context's default namespace, then a duplicate is refused with the API's message.
            var second = object
            second["metadata"] = .object(["name": .string("second")])
            let stored = try client.create(second)
            #expect(stored[path: ["metadata", "namespace"]] == .string("default"))
            let duplicate = drError { _ = try client.create(second) }
            #expect(duplicate?.code == .refused)
            #expect(duplicate?.kubeStatus?.reason == "AlreadyExists")
            #expect(duplicate?.message.hasPrefix("POST /api/v1/namespaces/default/configmaps: ") == true)
            #expect(duplicate?.message.contains("already exists") == true)

            // Delete, then get is nil and a second delete is notFound.
            try client.delete(configMapResource, namespace: "app", name: "settings")
            #expect(try client.get(configMapResource, namespace: "app", name: "settings") == nil)
            let again = drError { try client.delete(configMapResource, namespace: "app", name: "settings") }
            #expect(again?.code == .notFound)
            #expect(again?.message.hasPrefix("DELETE /api/v1/namespaces/app/configmaps/settings: ") == true)
        }
    }

    @Test func discoveryFindsBuiltinsAndNewCRDs() async throws {
        try await withFakeCluster { cluster in
            let client = try cluster.client()
            let deployments = try client.resource(apiVersion: "apps/v1", kind: "Deployment")
            #expect(deployments.name == "deployments")
            #expect(deployments.namespaced)
            #expect(deployments.verbs.contains("list"))
            #expect(try client.resource(apiVersion: "v1", kind: "Namespace").namespaced == false)
            #expect(drError { _ = try client.resource(apiVersion: "apps/v1", kind: "Nope") }?.code == .notFound)
            let unknownGroup = drError { _ = try client.resource(apiVersion: "widgets.drctl.io/v1", kind: "Widget") }
            #expect(unknownGroup?.code == .notFound)

            let all = try client.preferredResources()
            #expect(all.contains(deployments))
            #expect(all.contains(configMapResource))
            #expect(!all.contains { $0.name.contains("/") })

            // A CRD registered after the first lookup is found by discovering again.
            let crd = try DRCore.JSONValue.parseYAMLDocuments("""
            apiVersion: apiextensions.k8s.io/v1
            kind: CustomResourceDefinition
            metadata:
              name: widgets.widgets.drctl.io
            spec:
              group: widgets.drctl.io
              names: {kind: Widget, listKind: WidgetList, plural: widgets, singular: widget}
              scope: Namespaced
              versions:
              - name: v1
                served: true
                storage: true
                schema:
                  openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
            """)
            _ = try client.create(try #require(crd.first))
            let widgets = try client.resource(apiVersion: "widgets.drctl.io/v1", kind: "Widget")
            #expect(widgets.name == "widgets")
            let widget = try client.apply(.object([
                "apiVersion": .string("widgets.drctl.io/v1"), "kind": .string("Widget"),
                "metadata": .object(["name": .string("w1"), "namespace": .string("default")]),
                "spec": .object(["size": .int(3)]),
            ]))
            #expect(widget[path: ["spec", "size"]] == .int(3))
            #expect(try client.list(widgets).count == 1)
        }
    }

    @Test func tokenFileRotation() async throws {
        try await withFakeCluster { cluster in
            try cluster.seed(configMaps(1, namespace: "app"))
            let tokenFile = "\(cluster.dir)/token"
            try writeFile(tokenFile, "rotating-1\n")
            cluster.server.addToken("rotating-1", user: "robot")
            let kubeconfig = "\(cluster.dir)/kubeconfig-file"
            try writeFile(kubeconfig, """
            apiVersion: v1
            kind: Config
            current-context: c
            clusters:
            - name: c
              cluster:
                server: \(cluster.server.url)
                certificate-authority-data: \(Data(cluster.server.caPEM.utf8).base64EncodedString())
            contexts:
            - name: c
              context: {cluster: c, user: robot}
            users:
            - name: robot
              user:
                tokenFile: token
            """)
            let recorder = LogRecorder()
            let client = try cluster.client(kubeconfig: kubeconfig, logger: recorder.logger)
            #expect(try client.get(configMapResource, namespace: "app", name: "cm-000") != nil)

            // The old token is revoked and the file rewritten: the next request uses the new one.
            cluster.server.removeToken("rotating-1")
            cluster.server.addToken("rotating-2", user: "robot")
            try writeFile(tokenFile, "rotating-2\n")
            #expect(try client.get(configMapResource, namespace: "app", name: "cm-000") != nil)
            #expect(cluster.server.requests.last?.user == "robot")

            // A revoked token that is not replaced: 401, with a hint and no token in the error or logs.
            cluster.server.removeToken("rotating-2")
            let error = drError { _ = try client.get(configMapResource, namespace: "app", name: "cm-000") }
            #expect(error?.code == .failed)
            #expect(error?.kubeStatus?.code == 401)
            #expect(error?.hint?.contains("token file") == true)
            #expect(!(error?.description.contains("rotating-2") ?? true))
            #expect(!recorder.allText.contains("rotating"))
        }
    }

    @Test func execPluginTokenAndRerunAfter401() async throws {
        try await withFakeCluster { cluster in
            try cluster.seed(configMaps(1, namespace: "app"))
            let dir = cluster.dir
            try writeFile("\(dir)/current-token", "exec-1")
            cluster.server.addToken("exec-1", user: "exec-user")
            try writeFile("\(dir)/plugin.sh", """
            #!/bin/sh
            echo run >> "\(dir)/runs"
            printf '%s' "$KUBERNETES_EXEC_INFO" > "\(dir)/exec-info.json"
            printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s"}}' "$(cat "\(dir)/current-token")"
            """, mode: 0o755)
            let kubeconfig = "\(dir)/kubeconfig-exec"
            try writeFile(kubeconfig, """
            apiVersion: v1
            kind: Config
            current-context: c
            clusters:
            - name: c
              cluster:
                server: \(cluster.server.url)
                certificate-authority-data: \(Data(cluster.server.caPEM.utf8).base64EncodedString())
            contexts:
            - name: c
              context: {cluster: c, user: exec}
            users:
            - name: exec
              user:
                exec:
                  apiVersion: client.authentication.k8s.io/v1
                  command: \(dir)/plugin.sh
                  interactiveMode: Never
                  provideClusterInfo: true
            """)
            let client = try cluster.client(kubeconfig: kubeconfig)
            #expect(try client.get(configMapResource, namespace: "app", name: "cm-000") != nil)
            #expect(try client.get(configMapResource, namespace: "app", name: "cm-000") != nil)
            #expect(cluster.server.requests.last?.user == "exec-user")
            let runs = { ((try? String(contentsOfFile: "\(dir)/runs", encoding: .utf8)) ?? "").split(separator: "\n").count }
            #expect(runs() == 1)
            let info = try DRCore.JSONValue.parse(json: Data(FileIO.read("\(dir)/exec-info.json")))
            #expect(info[path: ["spec", "cluster", "server"]]?.stringValue == cluster.server.url)
            #expect(info[path: ["spec", "interactive"]] == .bool(false))

            // The cached token is revoked: one 401, the plugin runs again and the request succeeds.
            cluster.server.removeToken("exec-1")
            cluster.server.addToken("exec-2", user: "exec-user")
            try writeFile("\(dir)/current-token", "exec-2")
            #expect(try client.get(configMapResource, namespace: "app", name: "cm-000") != nil)
            #expect(runs() == 2)
            let last = cluster.requests("/api/v1/namespaces/app/configmaps/cm-000").suffix(2).map(\.user)
            #expect(last == [nil, "exec-user"])
        }
    }

    @Test func clientCertificateAuthentication() async throws {
        try await withFakeCluster { cluster in
            try cluster.seed(configMaps(1, namespace: "app"))
            // Inline data from the kubeconfig.
            let client = try cluster.client(.clientCertificate(user: "alice", groups: ["system:masters"]))
            #expect(try client.get(configMapResource, namespace: "app", name: "cm-000") != nil)
            #expect(cluster.server.requests.last?.user == "alice")

            // Files, relative to the kubeconfig, and tls-server-name (the certificate names localhost).
            let issued = try cluster.server.issueClientCertificate(user: "bob", groups: ["system:masters"])
            try writeFile("\(cluster.dir)/pki/bob.crt", issued.certificatePEM)
            try writeFile("\(cluster.dir)/pki/bob.key", issued.privateKeyPEM, mode: 0o600)
            try writeFile("\(cluster.dir)/pki/ca.crt", cluster.server.caPEM)
            let kubeconfig = "\(cluster.dir)/kubeconfig-files"
            try writeFile(kubeconfig, """
            apiVersion: v1
            kind: Config
            current-context: c
            clusters:
            - name: c
              cluster:
                server: \(cluster.server.url)
                certificate-authority: pki/ca.crt
                tls-server-name: localhost
            contexts:
            - name: c
              context: {cluster: c, user: bob, namespace: app}
            users:
            - name: bob
              user:
                client-certificate: pki/bob.crt
                client-key: pki/bob.key
            """)
            let files = try cluster.client(kubeconfig: kubeconfig)
            #expect(try files.get(configMapResource, namespace: nil, name: "cm-000") != nil)
            #expect(cluster.server.requests.last?.user == "bob")
            #expect(cluster.server.requests.last?.path == "/api/v1/namespaces/app/configmaps/cm-000")

            // A certificate and key handed out by an exec plugin.
            let carol = try cluster.server.issueClientCertificate(user: "carol", groups: ["system:masters"])
            let credential: DRCore.JSONValue = .object([
                "apiVersion": .string("client.authentication.k8s.io/v1beta1"), "kind": .string("ExecCredential"),
                "status": .object([
                    "clientCertificateData": .string(carol.certificatePEM), "clientKeyData": .string(carol.privateKeyPEM),
                ]),
            ])
            try writeFile("\(cluster.dir)/carol.json", String(decoding: try credential.jsonData(), as: UTF8.self))
            try writeFile("\(cluster.dir)/carol.sh", "#!/bin/sh\ncat \"\(cluster.dir)/carol.json\"\n", mode: 0o755)
            let execConfig = "\(cluster.dir)/kubeconfig-exec-cert"
            try writeFile(execConfig, """
            apiVersion: v1
            kind: Config
            current-context: c
            clusters:
            - name: c
              cluster:
                server: \(cluster.server.url)
                certificate-authority-data: \(Data(cluster.server.caPEM.utf8).base64EncodedString())
            contexts:
            - name: c
              context: {cluster: c, user: carol}
            users:
            - name: carol
              user:
                exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: ./carol.sh}
            """)
            #expect(try cluster.client(kubeconfig: execConfig).get(configMapResource, namespace: "app", name: "cm-000") != nil)
            #expect(cluster.server.requests.last?.user == "carol")
        }
    }

    @Test func wrongCertificateAuthorityIsATLSFailure() async throws {
        let other = try await FakeKubeServer.start()
        let otherCA = other.caPEM
        await other.shutdown()
        try await withFakeCluster { cluster in
            let kubeconfig = "\(cluster.dir)/kubeconfig-wrong-ca"
            try writeFile(kubeconfig, """
            apiVersion: v1
            kind: Config
            current-context: c
            clusters:
            - name: c
              cluster:
                server: \(cluster.server.url)
                certificate-authority-data: \(Data(otherCA.utf8).base64EncodedString())
            contexts:
            - name: c
              context: {cluster: c, user: u}
            users:
            - name: u
              user: {token: tok}
            """)
            var options = FakeCluster.fast
            options.retries = 0
            let error = drError { _ = try cluster.client(kubeconfig: kubeconfig, options: options).serverVersion() }
            #expect(error?.code == .failed)
            #expect(error?.message.contains("TLS") == true)
        }
    }

    @Test func unreachableServer() async throws {
        var closedPort = 0
        var kubeconfig = ""
        var dir = ""
        try await withFakeCluster { cluster in
            closedPort = cluster.server.port
            dir = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-kube-closed-\(UUID().uuidString.prefix(8))").path
            kubeconfig = "\(dir)/kubeconfig"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try cluster.server.writeKubeconfig(to: kubeconfig, user: .token("tok"))
        }
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(closedPort > 0)
        var options = FakeCluster.fast
        options.retries = 2
        let endpoint = try KubeEndpoint.resolve(.init(kubeconfigPath: kubeconfig), environment: Environment([:]), logger: testLogger)
        let client = try KubeClient(endpoint: endpoint, logger: testLogger, options: options)
        let error = drError { _ = try client.list(configMapResource, namespace: "app") }
        #expect(error?.code == .unreachable)
        #expect(error?.code.exitCode == 7)
        #expect(error?.message.hasPrefix("GET /api/v1/namespaces/app/configmaps: cannot reach the Kubernetes API") == true)
        #expect(error?.message.contains("after 3 attempts") == true)
    }

    @Test func secretsNeverReachTheLogs() async throws {
        try await withFakeCluster { cluster in
            let value = Data("hunter2-database-password".utf8).base64EncodedString()
            try cluster.seed("""
            apiVersion: v1
            kind: Secret
            metadata: {name: db, namespace: app}
            type: Opaque
            data: {password: \(value)}
            """)
            let recorder = LogRecorder()
            let client = try cluster.client(logger: recorder.logger)
            let secrets = try client.resource(apiVersion: "v1", kind: "Secret")
            #expect(try client.get(secrets, namespace: "app", name: "db")?[path: ["data", "password"]] == .string(value))
            #expect(try client.list(secrets, namespace: "app").count == 1)
            var secret = try #require(try client.get(secrets, namespace: "app", name: "db"))
            secret["data"] = .object(["password": .string(Data("rotated-value".utf8).base64EncodedString())])
            _ = try client.apply(secret)
            cluster.server.injectFailures(pathPrefix: "/api/v1/namespaces/app/secrets/db", status: 500, count: 10)
            var options = FakeCluster.fast
            options.retries = 1
            let error = drError { _ = try cluster.client(options: options, logger: recorder.logger).apply(secret) }
            #expect(error?.message.hasPrefix("PATCH /api/v1/namespaces/app/secrets/db: ") == true)
            let text = recorder.allText + (error?.description ?? "")
            #expect(!text.contains(value))
            #expect(!text.contains(Data("rotated-value".utf8).base64EncodedString()))
            #expect(!text.contains("tok\""))
            #expect(recorder.messages(at: .debug).contains("kubernetes request"))
        }
    }

    @Test func concurrentRequestsFromManyThreads() async throws {
        try await withFakeCluster { cluster in
            try cluster.seed(configMaps(16, namespace: "app"))
            let client = try cluster.client()
            let failures = LockedCounter()
            DispatchQueue.concurrentPerform(iterations: 16) { index in
                let name = "cm-\(String(format: "%03d", index))"
                do {
                    let object = try client.get(configMapResource, namespace: "app", name: name)
                    if object?[path: ["data", "index"]] != .string("\(index)") { failures.add() }
                    _ = try client.resource(apiVersion: "apps/v1", kind: "Deployment")
                } catch {
                    failures.add()
                }
            }
            #expect(failures.value == 0)
        }
    }
}

@Suite struct KubeRetryAfterTests {
    private func client(_ server: ScriptedHTTPServer, retries: Int) throws -> KubeClient {
        let endpoint = KubeEndpoint(
            server: server.url, source: .inCluster(serviceAccountDirectory: "/x"), namespace: nil,
            insecureSkipTLSVerify: false, tlsServerName: nil, certificateAuthority: nil, proxyURL: nil,
            auth: KubeAuth(), environment: Environment([:]))
        var options = KubeClient.Options()
        options.initialBackoff = .milliseconds(5)
        options.retries = retries
        return try KubeClient(endpoint: endpoint, logger: testLogger, options: options)
    }

    @Test func retryAfterIsHonoured() throws {
        let server = try ScriptedHTTPServer([
            .init(status: 429, headers: ["Retry-After": "1"], body: #"{"kind":"Status","message":"slow down","reason":"TooManyRequests","code":429}"#),
            .init(status: 200, body: #"{"gitVersion":"v1.31.0"}"#),
        ])
        defer { server.stop() }
        let version = try client(server, retries: 2).serverVersion()
        #expect(version["gitVersion"] == .string("v1.31.0"))
        let times = server.requests.map(\.at)
        #expect(times.count == 2)
        if times.count == 2 { #expect(times[1].timeIntervalSince(times[0]) >= 0.9) }
    }

    @Test func timeoutIsUnreachable() throws {
        let server = try ScriptedHTTPServer([.init(status: 200, body: "{}", delay: 1.5)])
        defer { server.stop() }
        var options = KubeClient.Options()
        options.timeout = .milliseconds(300)
        options.retries = 0
        let endpoint = KubeEndpoint(
            server: server.url, source: .inCluster(serviceAccountDirectory: "/x"), namespace: nil,
            insecureSkipTLSVerify: false, tlsServerName: nil, certificateAuthority: nil, proxyURL: nil,
            auth: KubeAuth(), environment: Environment([:]))
        let started = Date()
        let error = drError { _ = try KubeClient(endpoint: endpoint, logger: testLogger, options: options).serverVersion() }
        #expect(error?.code == .unreachable)
        #expect(error?.message.hasPrefix("GET /version: cannot reach the Kubernetes API") == true)
        #expect(Date().timeIntervalSince(started) < 1.2)
    }

    @Test func throttledTooLongFails() throws {
        let busy = ScriptedHTTPServer.Response(
            status: 429, headers: ["Retry-After": "0"], body: #"{"kind":"Status","message":"slow down","reason":"TooManyRequests","code":429}"#)
        let server = try ScriptedHTTPServer([busy, busy])
        defer { server.stop() }
        let error = drError { _ = try client(server, retries: 1).serverVersion() }
        #expect(error?.code == .failed)
        #expect(error?.message == "GET /version: slow down")
        #expect(error?.hint?.contains("2 attempts") == true)
    }
}

/// A thread-safe once-flag.
final class LockedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var set = false
    /// True the first time only.
    func setOnce() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if set { return false }
        set = true
        return true
    }
}

/// A thread-safe counter.
final class LockedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add() {
        lock.lock()
        count += 1
        lock.unlock()
    }
    var value: Int {
        lock.lock()
        defer { lock.unlock() }
        return count
    }
}

@Suite struct KubeRequestFormatTests {
    private let configMapList = #"{"kind":"APIResourceList","groupVersion":"v1","resources":[{"name":"configmaps","kind":"ConfigMap","namespaced":true,"verbs":["get","list","patch"]},{"name":"configmaps/status","kind":"ConfigMap","namespaced":true}]}"#

    private func kubeconfig(_ dir: String, server: String, user: String) throws -> KubeEndpoint {
        try writeFile("\(dir)/config", """
        apiVersion: v1
        kind: Config
        current-context: c
        clusters:
        - name: c
          cluster: {server: "\(server)"}
        contexts:
        - name: c
          context: {cluster: c, user: u, namespace: team}
        users:
        - name: u
          user:
        \(user)
        """)
        return try KubeEndpoint.resolve(.init(kubeconfigPath: "\(dir)/config"), environment: Environment([:]), logger: testLogger)
    }

    @Test func applySendsHeadersQueryAndBody() throws {
        try withTemporaryDirectory { dir in
            let server = try ScriptedHTTPServer([
                .init(status: 200, body: configMapList),
                .init(status: 200, body: #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm"}}"#),
            ])
            defer { server.stop() }
            let endpoint = try kubeconfig(dir, server: server.url, user: """
                token: sekret
                as: admin
                as-groups: [ops, "system:masters"]
            """)
            let client = try KubeClient(endpoint: endpoint, logger: testLogger)
            let object: DRCore.JSONValue = .object([
                "apiVersion": .string("v1"), "kind": .string("ConfigMap"),
                "metadata": .object(["name": .string("cm"), "managedFields": .array([.object([:])])]),
                "data": .object(["k": .string("v")]),
            ])
            _ = try client.apply(object, fieldManager: "drctl restore", dryRun: true)
            let requests = server.requests
            #expect(requests.map(\.line) == [
                "GET /api/v1 HTTP/1.1",
                "PATCH /api/v1/namespaces/team/configmaps/cm?fieldManager=drctl%20restore&force=true&dryRun=All HTTP/1.1",
            ])
            let apply = try #require(requests.last)
            #expect(apply.headers["content-type"] == "application/apply-patch+yaml")
            #expect(apply.headers["accept"] == "application/json")
            #expect(apply.headers["user-agent"] == "drctl/\(DRVersion.current)")
            #expect(apply.headers["authorization"] == "Bearer sekret")
            #expect(apply.headers["impersonate-user"] == "admin")
            #expect(apply.headers["impersonate-group"] == "ops, system:masters")
            var expected = object
            expected.remove(["metadata", "managedFields"])
            #expect(try DRCore.JSONValue.parse(json: Data(apply.body)) == expected)
        }
    }

    @Test func basicAuthAndPatchContentTypes() throws {
        try withTemporaryDirectory { dir in
            let ok = ScriptedHTTPServer.Response(status: 200, body: "{}")
            let server = try ScriptedHTTPServer([ok, ok, ok])
            defer { server.stop() }
            let endpoint = try kubeconfig(dir, server: server.url, user: """
                username: admin
                password: "p:w"
            """)
            let client = try KubeClient(endpoint: endpoint, logger: testLogger)
            let resource = KubeClient.Resource(group: "apps", version: "v1", name: "deployments", kind: "Deployment", namespaced: true)
            for type in [KubeClient.PatchType.merge, .strategicMerge, .json] {
                _ = try client.patch(resource, namespace: "web", name: "wp", type: type, body: .array([]))
            }
            let requests = server.requests
            #expect(requests.map { $0.headers["content-type"] } == [
                "application/merge-patch+json", "application/strategic-merge-patch+json", "application/json-patch+json",
            ])
            #expect(requests.allSatisfy { $0.line == "PATCH /apis/apps/v1/namespaces/web/deployments/wp HTTP/1.1" })
            #expect(requests.first?.headers["authorization"] == "Basic \(Data("admin:p:w".utf8).base64EncodedString())")
        }
    }
}
