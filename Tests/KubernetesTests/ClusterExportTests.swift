import DRCore
import FakeKube
import Foundation
import Restore
import Snapshots
import Testing
import TestSupport

/// Two fake clusters (a source and an empty restore target) and a drctl setup whose
/// `cluster:` points at the source.
struct ExportFixture {
    let source: FakeCluster
    let target: FakeCluster
    let root: String
    let kubeconfig: String

    func workspace(_ sourcesYAML: String) throws -> Workspace {
        try makeWorkspace(in: root, sourcesYAML: sourcesYAML, topLevelYAML: "cluster:\n  kubeconfig: \(kubeconfig)\n")
    }

    func backup(_ workspace: Workspace) throws -> SnapshotRecord {
        let outcome = try #require(try Backup.run(workspace).outcomes.first)
        #expect(outcome.succeeded, "backup failed: \(outcome.error ?? "")")
        return try #require(outcome.snapshot)
    }

    /// Applies a snapshot to the target cluster; returns action by object.
    func apply(_ snapshot: SnapshotRecord, _ workspace: Workspace, _ options: ExportApply.Options = .init()) throws -> [String: String] {
        let report = try ExportApply.apply(snapshot.id, options: options, client: try target.client(), in: workspace)
        return Dictionary(report.results.map { ($0.object, $0.action + ($0.error.map { ": \($0)" } ?? "")) }, uniquingKeysWith: { a, _ in a })
    }
}

func withExportFixture(_ body: (ExportFixture) throws -> Void) async throws {
    let sourceServer = try await FakeKubeServer.start(options: .init(tokens: ["tok": "tester"]))
    let targetServer = try await FakeKubeServer.start(options: .init(tokens: ["tok": "tester"]))
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-export-\(UUID().uuidString.prefix(8))").path
    var failure: (any Error)?
    do {
        try FileIO.createDirectory(dir)
        let kubeconfig = "\(dir)/source.kubeconfig"
        try sourceServer.writeKubeconfig(to: kubeconfig, user: .token("tok"))
        try body(ExportFixture(
            source: FakeCluster(server: sourceServer, dir: dir), target: FakeCluster(server: targetServer, dir: dir),
            root: "\(dir)/drctl", kubeconfig: kubeconfig))
    } catch {
        failure = error
    }
    await sourceServer.shutdown()
    await targetServer.shutdown()
    try? FileManager.default.removeItem(atPath: dir)
    if let failure { throw failure }
}

@Suite("secrets and argocd-state exports against a fake cluster")
struct ClusterExportTests {
    static let secretSource = "  - name: secrets\n    kind: secrets\n    exclude_helm_releases: true\n"

    func seedSecrets(_ cluster: FakeCluster) throws {
        let list = try #require(try JSONValue.parseYAMLDocuments(SecretFixtures.kubectlList()).first)
        for item in list["items"]?.arrayValue ?? [] {
            var item = KubeExport.clean(item)
            item.remove(["metadata", "ownerReferences"])
            _ = try cluster.server.seed(item)
        }
    }

    /// The object as stored by a fake server, without the fields the server owns.
    func stored(_ cluster: FakeCluster, _ kind: String, _ apiVersion: String = "v1", _ namespace: String?, _ name: String) throws -> JSONValue? {
        try cluster.object(apiVersion: apiVersion, kind: kind, namespace: namespace, name: name).map { KubeExport.clean($0) }
    }

    @Test("a secrets export restores into an empty cluster equal to the originals minus server fields")
    func secretsRoundTrip() async throws {
        try await withExportFixture { fixture in
            try seedSecrets(fixture.source)
            let workspace = try fixture.workspace(Self.secretSource)
            let snapshot = try fixture.backup(workspace)
            let names = try workspace.catalog.kubeObjects(of: snapshot.id).map(\.name).sorted()
            #expect(names == ["argocd-initial-admin-secret", "plugin-deployer-tls", "wordpress-db"])

            let first = try fixture.apply(snapshot, workspace)
            #expect(first["namespace/wordpress"] == "created")
            #expect(first["secret/wordpress/wordpress-db"] == "created")
            #expect(first["secret/argocd/argocd-initial-admin-secret"] == "created")
            for (namespace, name) in [("wordpress", "wordpress-db"), ("argocd", "argocd-initial-admin-secret"), ("gitops-system", "plugin-deployer-tls")] {
                let original = try #require(try stored(fixture.source, "Secret", "v1", namespace, name))
                let restored = try #require(try stored(fixture.target, "Secret", "v1", namespace, name))
                #expect(original == restored, "\(namespace)/\(name) differs after restore")
            }
            #expect(try stored(fixture.target, "Secret", "v1", "wordpress", "default-token-abcde") == nil)

            let again = try fixture.apply(snapshot, workspace)
            #expect(Set(again.values) == ["unchanged"], "\(again)")

            _ = try fixture.target.client().patch(
                KubeClient.Resource(group: "", version: "v1", name: "secrets", kind: "Secret", namespaced: true),
                namespace: "wordpress", name: "wordpress-db", type: .merge,
                body: .object(["data": .object(["password": .string(SecretFixtures.b64("changed-in-target"))])]))
            let third = try fixture.apply(snapshot, workspace)
            #expect(third["secret/wordpress/wordpress-db"] == "configured")
            #expect(third["secret/argocd/argocd-initial-admin-secret"] == "unchanged")

            // Nothing drctl wrote holds a value in plain text or base64.
            let needles = SecretFixtures.values + SecretFixtures.base64Values
            let grep = try Command("/bin/grep", ["-r", "-l", "-a", "-F"] + needles.flatMap { ["-e", $0] } + [fixture.root]).run()
            #expect(grep.stdoutText.isEmpty, "values found in: \(grep.stdoutText)")
        }
    }

    @Test("namespace and name filters restore a subset; a dry run changes nothing")
    func filtersAndDryRun() async throws {
        try await withExportFixture { fixture in
            try seedSecrets(fixture.source)
            let workspace = try fixture.workspace(Self.secretSource)
            let snapshot = try fixture.backup(workspace)
            let dry = try fixture.apply(snapshot, workspace, .init(namespaces: ["wordpress"], dryRun: true))
            #expect(dry.keys.contains("secret/wordpress/wordpress-db"))
            #expect(!dry.keys.contains("secret/argocd/argocd-initial-admin-secret"))
            #expect(try stored(fixture.target, "Secret", "v1", "wordpress", "wordpress-db") == nil)

            let subset = try fixture.apply(snapshot, workspace, .init(names: ["plugin-deployer-tls"]))
            #expect(subset["secret/gitops-system/plugin-deployer-tls"] == "created")
            #expect(subset.keys.filter { $0.hasPrefix("secret/") }.count == 1)
            #expect(try stored(fixture.target, "Secret", "v1", "gitops-system", "plugin-deployer-tls") != nil)
        }
    }

    @Test("an immutable Secret that differs is refused unless --replace-immutable")
    func immutableSecrets() async throws {
        try await withExportFixture { fixture in
            try seedSecrets(fixture.source)
            // Everything logged at any level, to check no value reaches a log or an error.
            let recorder = LogRecorder()
            let workspace = try Workspace.open(
                config: try fixture.workspace(Self.secretSource).config, environment: .current, logger: recorder.logger)
            let snapshot = try fixture.backup(workspace)
            _ = try fixture.target.server.seed(try #require(try JSONValue.parseYAMLDocuments("""
                apiVersion: v1
                kind: Secret
                metadata: {name: wordpress-db, namespace: wordpress}
                immutable: true
                data: {password: \(SecretFixtures.b64("old-immutable"))}
                """).first))
            let refused = try fixture.apply(snapshot, workspace, .init(names: ["wordpress-db"]))
            #expect(refused["secret/wordpress/wordpress-db"]?.hasPrefix("failed: immutable") == true, "\(refused)")
            let replaced = try fixture.apply(snapshot, workspace, .init(names: ["wordpress-db"], replaceImmutable: true))
            #expect(replaced["secret/wordpress/wordpress-db"] == "replaced", "\(replaced)")
            let restored = try #require(try stored(fixture.target, "Secret", "v1", "wordpress", "wordpress-db"))
            #expect(restored[path: ["data", "password"]]?.stringValue == SecretFixtures.b64(SecretFixtures.values[0]))
            let logged = recorder.allText + refused.values.joined(separator: "\n")
            #expect(!logged.isEmpty)
            for needle in SecretFixtures.values + SecretFixtures.base64Values + [SecretFixtures.b64("old-immutable")] {
                #expect(!logged.contains(needle), "a Secret value reached a log line or an error")
            }
        }
    }

    @Test("an argocd-state export holds what argocd admin export saves and restores into an empty cluster")
    func argocdStateRoundTrip() async throws {
        try await withExportFixture { fixture in
            try fixture.source.server.seed(yaml: ArgoCRDs.yaml)
            try fixture.source.server.seed(yaml: """
                apiVersion: argoproj.io/v1alpha1
                kind: AppProject
                metadata: {name: default, namespace: argocd}
                spec:
                  sourceRepos: ["*"]
                  destinations: [{namespace: "*", server: "https://kubernetes.default.svc"}]
                ---
                apiVersion: argoproj.io/v1alpha1
                kind: Application
                metadata: {name: wordpress, namespace: argocd}
                spec:
                  project: default
                  source: {repoURL: "git://gitops-git-daemon.gitops-system/gitops.git", targetRevision: main, path: environments/minikube}
                  destination: {server: "https://kubernetes.default.svc", namespace: wordpress}
                  syncPolicy: {automated: {prune: true, selfHeal: true}}
                operation:
                  sync: {revision: main}
                status:
                  sync: {status: Synced}
                ---
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: argocd-cm, namespace: argocd}
                data: {url: "https://argocd.borg.tools"}
                ---
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: argocd-rbac-cm, namespace: argocd}
                data: {policy.default: "role:readonly"}
                ---
                apiVersion: v1
                kind: Secret
                metadata: {name: argocd-secret, namespace: argocd}
                data: {server.secretkey: \(SecretFixtures.b64(SecretFixtures.values[1]))}
                ---
                apiVersion: v1
                kind: Secret
                metadata:
                  name: repo-gitops
                  namespace: argocd
                  labels: {argocd.argoproj.io/secret-type: repository}
                data: {url: \(SecretFixtures.b64("git://gitops-git-daemon.gitops-system/gitops.git"))}
                ---
                apiVersion: v1
                kind: Secret
                metadata: {name: unrelated, namespace: argocd}
                data: {x: \(SecretFixtures.b64("not-argocd-state"))}
                """)
            let workspace = try fixture.workspace("  - name: argocd\n    kind: argocd-state\n")
            let snapshot = try fixture.backup(workspace)
            let saved = Set(try workspace.catalog.kubeObjects(of: snapshot.id).map { "\($0.kind)/\($0.name)" })
            #expect(saved.isSuperset(of: ["Application/wordpress", "AppProject/default", "ConfigMap/argocd-cm", "ConfigMap/argocd-rbac-cm",
                                         "Secret/argocd-secret", "Secret/repo-gitops", "CustomResourceDefinition/applications.argoproj.io"]))
            #expect(!saved.contains("Secret/unrelated"))

            let results = try fixture.apply(snapshot, workspace)
            #expect(!results.values.contains { $0.hasPrefix("failed") }, "\(results)")
            let app = try #require(try stored(fixture.target, "Application", "argoproj.io/v1alpha1", "argocd", "wordpress"))
            #expect(app["operation"] == nil && app["status"] == nil)
            var original = try #require(try stored(fixture.source, "Application", "argoproj.io/v1alpha1", "argocd", "wordpress"))
            original.remove(["operation"])
            #expect(app == original)
            for (kind, name) in [("ConfigMap", "argocd-cm"), ("Secret", "argocd-secret"), ("Secret", "repo-gitops")] {
                #expect(try stored(fixture.target, kind, "v1", "argocd", name) == stored(fixture.source, kind, "v1", "argocd", name), "\(kind)/\(name)")
            }
            #expect(try stored(fixture.target, "AppProject", "argoproj.io/v1alpha1", "argocd", "default") != nil)
        }
    }

    @Test("drctl snapshots apply reports per object like kubectl and exits 0")
    func cliApply() async throws {
        try await withExportFixture { fixture in
            try seedSecrets(fixture.source)
            let workspace = try fixture.workspace(Self.secretSource)
            let snapshot = try fixture.backup(workspace)
            #expect(fixture.source.server.remove(apiVersion: "v1", kind: "Secret", namespace: "wordpress", name: "wordpress-db"))
            let result = try runDrctl(["snapshots", "apply", snapshot.shortID, "--name", "wordpress-db", "--config", workspace.config.file])
            #expect(result.succeeded, "\(result.stderr)")
            #expect(result.stdoutText.contains("secret/wordpress/wordpress-db created"), "\(result.stdoutText)")
            #expect(fixture.source.server.object(apiVersion: "v1", kind: "Secret", namespace: "wordpress", name: "wordpress-db") != nil)
            let volume = try runDrctl(["snapshots", "apply", "ffffffff", "--config", workspace.config.file])
            #expect(volume.status == 4, "\(volume.stderr)")
        }
    }
}
