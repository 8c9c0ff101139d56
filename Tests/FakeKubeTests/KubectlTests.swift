import DRCore
import FakeKube
import Foundation
import Testing

private let kubectlPath = "/usr/bin/kubectl"

/// Runs the real kubectl against a fake server with its own kubeconfig, HOME and cache dir.
private struct Kubectl {
    let dir: TempDir
    let kubeconfig: String

    init(_ server: FakeKubeServer, dir: TempDir, user: KubeconfigCredential = .token("t0ken")) throws {
        self.dir = dir
        kubeconfig = dir.file("kubeconfig")
        try server.writeKubeconfig(to: kubeconfig, user: user)
    }

    func callAsFunction(_ arguments: String...) async throws -> CommandResult {
        let result = try await runCommand(
            kubectlPath, ["--kubeconfig", kubeconfig, "--cache-dir", dir.file("kube-cache"), "--request-timeout=20s"] + arguments,
            in: dir, timeoutSeconds: 60)
        #expect(result.status == 0, "kubectl \(arguments.joined(separator: " ")) failed: \(result.stderr)")
        return result
    }
}

@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: kubectlPath), "kubectl is not installed at /usr/bin/kubectl"))
struct KubectlTests {
    @Test func getSecretsYAMLMatchesStore() async throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let (server, _) = try await startServer()
        defer { Task { await server.shutdown() } }
        try server.seed(yaml: """
        apiVersion: v1
        kind: Secret
        metadata: {name: db, namespace: default, labels: {app: db}}
        data: {password: aHVudGVyMg==}
        ---
        apiVersion: v1
        kind: Secret
        metadata: {name: tls, namespace: prod}
        type: kubernetes.io/tls
        data: {tls.crt: Y2VydA==, tls.key: a2V5}
        """)
        let kubectl = try Kubectl(server, dir: dir)
        let output = try await kubectl("get", "secrets", "-A", "-o", "yaml")
        let list = try #require(try JSONValue.parseYAMLDocuments(output.stdout).first)
        #expect(list["kind"]?.stringValue == "List")
        let items = list["items"]?.arrayValue ?? []
        let stored = server.objects(apiVersion: "v1", kind: "Secret")
        #expect(items.count == stored.count)
        for (item, expected) in zip(items, stored) {
            #expect(item[path: ["metadata", "name"]] == expected[path: ["metadata", "name"]])
            #expect(item[path: ["metadata", "namespace"]] == expected[path: ["metadata", "namespace"]])
            #expect(item[path: ["metadata", "uid"]] == expected[path: ["metadata", "uid"]])
            #expect(item["data"] == expected["data"])
            #expect(item["type"] == expected["type"])
        }
        #expect(server.requests.contains { $0.path == "/api/v1/secrets" && $0.user == "tester" })
    }

    @Test func applyServerSideGetRolloutRestartDelete() async throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let (server, _) = try await startServer()
        defer { Task { await server.shutdown() } }
        let kubectl = try Kubectl(server, dir: dir)
        let manifest = try dir.write("app.yaml", """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
          namespace: default
        spec:
          replicas: 2
          selector:
            matchLabels: {app: web}
          template:
            metadata:
              labels: {app: web}
            spec:
              containers:
              - name: web
                image: nginx:1.27
                ports: [{containerPort: 80}]
        ---
        apiVersion: v1
        kind: Secret
        metadata:
          name: creds
          namespace: default
        stringData:
          password: hunter2
        """)
        let applied = try await kubectl("apply", "--server-side", "-f", manifest)
        #expect(applied.stdout.contains("deployment.apps/web serverside-applied"))
        let deployment = try #require(server.object(apiVersion: "apps/v1", kind: "Deployment", namespace: "default", name: "web"))
        #expect(deployment[path: ["spec", "replicas"]]?.intValue == 2)
        #expect(deployment[path: ["metadata", "managedFields"]]?.arrayValue?.first?["manager"]?.stringValue == "kubectl")
        let secret = try #require(server.object(apiVersion: "v1", kind: "Secret", namespace: "default", name: "creds"))
        #expect(secret[path: ["data", "password"]]?.stringValue == Data("hunter2".utf8).base64EncodedString())
        #expect(server.requests.contains { $0.method == "PATCH" && $0.contentType == "application/apply-patch+yaml" })

        // Re-applying is accepted and leaves the generation alone.
        _ = try await kubectl("apply", "--server-side", "-f", manifest)
        #expect(server.object(apiVersion: "apps/v1", kind: "Deployment", namespace: "default", name: "web")?[path: ["metadata", "generation"]]?.intValue == 1)

        #expect(await eventually {
            server.object(apiVersion: "apps/v1", kind: "Deployment", namespace: "default", name: "web")?[path: ["status", "availableReplicas"]]?.intValue == 2
        })
        let table = try await kubectl("get", "deploy")
        let lines = table.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
                == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"])
        #expect(lines.contains { $0.hasPrefix("web ") && $0.contains("2/2") })

        let restarted = try await kubectl("rollout", "restart", "deployment/web")
        #expect(restarted.stdout.contains("restarted"))
        let after = try #require(server.object(apiVersion: "apps/v1", kind: "Deployment", namespace: "default", name: "web"))
        #expect(after[path: ["spec", "template", "metadata", "annotations", "kubectl.kubernetes.io/restartedAt"]]?.stringValue != nil)
        #expect(after[path: ["metadata", "generation"]]?.intValue == 2)
        #expect(await eventually {
            server.object(apiVersion: "apps/v1", kind: "Deployment", namespace: "default", name: "web")?[path: ["status", "observedGeneration"]]?.intValue == 2
        })

        let deleted = try await kubectl("delete", "secret", "creds")
        #expect(deleted.stdout.contains("deleted"))
        #expect(server.object(apiVersion: "v1", kind: "Secret", namespace: "default", name: "creds") == nil)
    }

    @Test func clientCertificateKubeconfigAndCRDs() async throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let (server, _) = try await startServer()
        defer { Task { await server.shutdown() } }
        let kubectl = try Kubectl(server, dir: dir, user: .clientCertificate(user: "alice", groups: ["system:masters"]))
        let crds = try dir.write("crds.yaml", ArgoCRDs.yaml)
        _ = try await kubectl("apply", "--server-side", "-f", crds)
        let app = try dir.write("app.yaml", """
        apiVersion: argoproj.io/v1alpha1
        kind: Application
        metadata: {name: guestbook, namespace: default}
        spec: {project: default}
        """)
        _ = try await kubectl("apply", "--server-side", "-f", app)
        let listed = try await kubectl("get", "applications")
        #expect(listed.stdout.contains("guestbook"))
        #expect(server.objects(apiVersion: "argoproj.io/v1alpha1", kind: "Application").count == 1)
        #expect(server.requests.allSatisfy { $0.user == "alice" })
    }

    @Test func legacyDiscoveryFallback() async throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let (server, _) = try await startServer(.init(aggregatedDiscovery: false))
        defer { Task { await server.shutdown() } }
        try server.seed(yaml("{apiVersion: apps/v1, kind: StatefulSet, metadata: {name: db, namespace: default}, spec: {replicas: 1}}"))
        let kubectl = try Kubectl(server, dir: dir)
        let manifest = try dir.write("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg, namespace: default}\ndata: {a: b}\n")
        _ = try await kubectl("apply", "--server-side", "-f", manifest)
        #expect(server.object(apiVersion: "v1", kind: "ConfigMap", namespace: "default", name: "cfg")?[path: ["data", "a"]]?.stringValue == "b")
        let listed = try await kubectl("get", "sts")
        #expect(listed.stdout.contains("db"))
        #expect(server.requests.contains { $0.path == "/apis/apps/v1" })
    }
}
