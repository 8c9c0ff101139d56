import DRCore
import FakeKube
import Foundation
import Restore
import Snapshots
import Testing
import TestSupport

/// The `argocd-crash` and `cluster-loss` runbooks, as built into drctl, against the fake
/// API server: vendored install manifests, state and Secrets re-applied, volumes restored
/// before the applications sync, applications synced by really fetching the repository.
@Suite("argocd-crash and cluster-loss runbooks end to end")
struct RunbookEndToEndTests {
    static let apps = ["wordpress", "plugin-deployer"]

    /// ArgoCD as `kubectl apply -n argocd -f install/` left it, plus its state.
    func installArgo(on server: FakeKubeServer, repoURL: String) throws {
        try server.seed(yaml: ArgoCRDs.yaml)
        for var document in try JSONValue.parseYAMLDocuments(ArgoInstall.yaml) {
            var metadata = document["metadata"] ?? .object([:])
            metadata["namespace"] = .string("argocd")
            document["metadata"] = metadata
            try server.seed(document)
        }
        try server.seed(yaml: """
            apiVersion: argoproj.io/v1alpha1
            kind: AppProject
            metadata: {name: default, namespace: argocd}
            spec: {sourceRepos: ["*"], destinations: [{namespace: "*", server: "https://kubernetes.default.svc"}]}
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: argocd-cm, namespace: argocd}
            data: {url: "https://argocd.borg.tools", timeout.reconciliation: 180s}
            ---
            apiVersion: v1
            kind: Secret
            metadata:
              name: repo-gitops
              namespace: argocd
              labels: {argocd.argoproj.io/secret-type: repository}
            data: {url: \(SecretFixtures.b64(repoURL))}
            """)
        for app in Self.apps { try server.seed(yaml: applicationYAML(app, repoURL: repoURL)) }
    }

    func setup(_ fixture: ActionFixture, sources: String, runbook: String, params: [String: String]) throws -> Workspace {
        var top = "cluster:\n  kubeconfig: \(fixture.kubeconfig)\nrunbook_params:\n  \(runbook):\n"
        for (key, value) in params.sorted(by: { $0.key < $1.key }) { top += "    \(key): \(value)\n" }
        return try makeWorkspace(in: "\(fixture.dir)/drctl", sourcesYAML: sources, topLevelYAML: top)
    }

    func run(_ name: String, _ workspace: Workspace) async throws -> (ExecutionResult, String) {
        let runbook = try RunbookLoader.load(name: name, config: workspace.config)
        let output = OutputLog()
        let result = try await blocking {
            try Executor(workspace: workspace, confirmer: AssumeYes(), output: { output.append($0) }).run(runbook)
        }
        return (result, output.text)
    }

    /// The applications are Synced and Healthy at the repository's main, and deployed.
    func expectSynced(_ server: FakeKubeServer, main: String) {
        for app in Self.apps {
            let object = server.object(apiVersion: "argoproj.io/v1alpha1", kind: "Application", namespace: "argocd", name: app)
            #expect(object?[path: ["status", "sync", "status"]]?.stringValue == "Synced", "\(app)")
            #expect(object?[path: ["status", "health", "status"]]?.stringValue == "Healthy", "\(app)")
            #expect(object?[path: ["status", "sync", "revision"]]?.stringValue == main, "\(app)")
            #expect(object?[path: ["spec", "syncPolicy", "automated"]] != nil, "\(app): auto-sync not resumed")
            #expect(server.object(apiVersion: "apps/v1", kind: "Deployment", namespace: app, name: app) != nil, "\(app) not deployed")
        }
    }

    @Test("argocd-crash: ArgoCD reinstalled from vendored manifests, its state re-applied, apps synced")
    func argocdCrash() async throws {
        let git = try GitFixture()
        try await withActionFixture { fixture in
            let repo = "\(fixture.dir)/served/gitops.git"
            try makeServedGitOps(git, work: "\(fixture.dir)/work", bare: repo, apps: Self.apps)
            let main = try git("rev-parse", "main", in: repo).trimmingWhitespace()
            let vendor = "\(fixture.dir)/vendor/argocd"
            try ArgoInstall.write(to: vendor)
            try installArgo(on: fixture.server, repoURL: repo)
            let workspace = try setup(fixture, sources: "  - name: argocd\n    kind: argocd-state\n",
                                      runbook: "argocd-crash", params: ["argocd_install": vendor])
            _ = try fixture.backup(workspace, "argocd")

            // The crash: ArgoCD's namespace and everything in it are gone.
            #expect(fixture.server.remove(apiVersion: "v1", kind: "Namespace", name: "argocd"))
            #expect(fixture.server.objects(apiVersion: "argoproj.io/v1alpha1", kind: "Application").isEmpty)

            let (result, output) = try await run("argocd-crash", workspace)
            #expect(result.status == .succeeded, "\(result.error ?? "")\n\(output)")
            for workload in ArgoInstall.workloads {
                let parts = workload.split(separator: "/").map(String.init)
                #expect(fixture.server.object(apiVersion: "apps/v1", kind: parts[0], namespace: "argocd", name: parts[1]) != nil, "\(workload)")
            }
            let settings = fixture.server.object(apiVersion: "v1", kind: "ConfigMap", namespace: "argocd", name: "argocd-cm")
            #expect(settings?[path: ["data", "url"]]?.stringValue == "https://argocd.borg.tools")
            #expect(fixture.server.object(apiVersion: "v1", kind: "Secret", namespace: "argocd", name: "repo-gitops") != nil)
            expectSynced(fixture.server, main: main)
        }
    }

    @Test("cluster-loss: a new cluster gets infrastructure, ArgoCD, Secrets, the repository and volume data before apps sync, from a recovered catalog")
    func clusterLoss() async throws {
        let git = try GitFixture()
        try await withActionFixture { fixture in
            // The old cluster and the data around it.
            let repo = "\(fixture.dir)/served/gitops.git"
            try makeServedGitOps(git, work: "\(fixture.dir)/work", bare: repo, apps: Self.apps)
            let main = try git("rev-parse", "main", in: repo).trimmingWhitespace()
            try installArgo(on: fixture.server, repoURL: repo)
            let secrets = try #require(try JSONValue.parseYAMLDocuments(SecretFixtures.kubectlList()).first?["items"]?.arrayValue)
            for secret in secrets { try fixture.server.seed(KubeExport.clean(secret)) }
            let volumes = "\(fixture.dir)/volumes"
            for (volume, files) in [("wp-content", ["uploads/2026/11/photo.jpg", "plugins/transkrypt/transkrypt.php"]),
                                    ("mysql", ["drctl-dump.sql", "wordpress/wp_posts.ibd"])] {
                for file in files { try writeFile("\(volumes)/\(volume)/\(file)", "\(volume)/\(file) content\n") }
            }
            let before = try ["wp-content", "mysql"].map { try treeManifest("\(volumes)/\($0)") }

            // Vendored manifests on the recovery machine.
            let vendor = "\(fixture.dir)/vendor"
            try ArgoInstall.write(to: "\(vendor)/argocd")
            try writeFile("\(vendor)/infra/cert-manager.yaml", """
                apiVersion: v1
                kind: Namespace
                metadata: {name: cert-manager}
                ---
                \(deploymentYAML("cert-manager-webhook", namespace: "cert-manager"))
                """)
            try writeFile("\(vendor)/infra/ingress-nginx.yaml", """
                apiVersion: v1
                kind: Namespace
                metadata: {name: ingress-nginx}
                ---
                \(deploymentYAML("ingress-nginx-controller", namespace: "ingress-nginx"))
                """)
            try writeFile("\(vendor)/git-daemon/deployment.yaml", deploymentYAML("gitops-git-daemon"))

            let sources = """
                  - name: gitops
                    kind: git-bundle
                    repo: \(repo)
                  - name: secrets
                    kind: secrets
                  - name: argocd
                    kind: argocd-state
                  - name: wordpress-content
                    kind: pvc-archive
                    path: \(volumes)/wp-content
                  - name: mariadb
                    kind: pvc-archive
                    path: \(volumes)/mysql

                """
            let workspace = try setup(fixture, sources: sources, runbook: "cluster-loss", params: [
                "infra_manifests": "\(vendor)/infra", "argocd_install": "\(vendor)/argocd",
                "git_daemon_manifests": "\(vendor)/git-daemon",
            ])
            let outcomes = try Backup.run(workspace).outcomes
            let failures = outcomes.filter { !$0.succeeded }.map { "\($0.source): \($0.error ?? "")" }
            #expect(failures.isEmpty, "\(failures)")

            // The loss: a new, empty cluster; the repository and the volumes are gone; so is
            // drctl's own data folder (config, catalog) — only its repository and an offline
            // copy of the identity are left, and `catalog recover` brings the catalog back.
            let newCluster = try await FakeKubeServer.start(options: .init(tokens: ["tok": "tester"]))
            try newCluster.writeKubeconfig(to: fixture.kubeconfig, user: .token("tok"))
            try FileManager.default.removeItem(atPath: repo)
            try FileManager.default.removeItem(atPath: volumes)
            let home = "\(fixture.dir)/drctl"
            let identity = try #require(workspace.config.encryption?.identity)
            try FileManager.default.copyItem(atPath: identity, toPath: "\(fixture.dir)/offline-identity.txt")
            for name in FileIO.list(home) where name != "repository" && name != "keys" { FileIO.remove("\(home)/\(name)") }
            let recovery = try CatalogRecovery.recover(
                from: RepositoryConfig(name: "default", location: .local(path: "\(home)/repository")),
                identity: "\(fixture.dir)/offline-identity.txt", configPath: nil, environment: .current, logger: testLogger)
            #expect(recovery.snapshotsInCopy == 5 && recovery.problems.isEmpty, "\(recovery)")
            let recovered = try Workspace.open(
                config: try DRConfig.load(path: recovery.config, environment: Environment.current.variables),
                environment: .current, logger: testLogger)
            #expect(try recovered.catalog.snapshots().count == 5)

            let (result, output) = try await run("cluster-loss", recovered)
            #expect(result.status == .succeeded, "\(result.error ?? "")\n\(output)")
            #expect(try ["wp-content", "mysql"].map { try treeManifest("\(volumes)/\($0)") } == before)
            #expect(try git("rev-parse", "main", in: repo).trimmingWhitespace() == main)
            for secret in secrets where secret["type"]?.stringValue != "kubernetes.io/service-account-token" {
                let namespace = secret[path: ["metadata", "namespace"]]?.stringValue
                let name = secret[path: ["metadata", "name"]]?.stringValue ?? ""
                let restored = newCluster.object(apiVersion: "v1", kind: "Secret", namespace: namespace, name: name)
                #expect(restored.map { KubeExport.clean($0)["data"] } == KubeExport.clean(secret)["data"], "\(name)")
            }
            for (namespace, name) in [("cert-manager", "cert-manager-webhook"), ("ingress-nginx", "ingress-nginx-controller"),
                                      ("gitops-system", "gitops-git-daemon")] {
                #expect(newCluster.object(apiVersion: "apps/v1", kind: "Deployment", namespace: namespace, name: name) != nil, "\(name)")
            }
            expectSynced(newCluster, main: main)
            await newCluster.shutdown()
        }
    }
}
