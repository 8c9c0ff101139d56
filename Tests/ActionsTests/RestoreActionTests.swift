import DRCore
import FakeKube
import Foundation
import Restore
import Snapshots
import Testing
import TestSupport

let jobCRD = """
    apiVersion: apiextensions.k8s.io/v1
    kind: CustomResourceDefinition
    metadata: {name: jobs.batch}
    spec:
      group: batch
      names: {kind: Job, listKind: JobList, plural: jobs, singular: job}
      scope: Namespaced
      versions:
      - name: v1
        served: true
        storage: true
        subresources: {status: {}}
        schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
    """

@Suite("secrets, argocd-state, pvc and manual restores")
struct RestoreActionTests {
    @Test("secrets.restore applies the newest verified export into an empty cluster; no value in the output")
    func secretsIntoEmptyCluster() async throws {
        let target = try await FakeKubeServer.start(options: .init(tokens: ["tok": "tester"]))
        do {
            try await withActionFixture { f in
                let list = try #require(try JSONValue.parseYAMLDocuments(SecretFixtures.kubectlList()).first)
                for item in list["items"]?.arrayValue ?? [] {
                    var item = KubeExport.clean(item)
                    item.remove(["metadata", "ownerReferences"])
                    _ = try f.server.seed(item)
                }
                let workspace = try f.workspace("  - name: secrets\n    kind: secrets\n    exclude_helm_releases: true\n")
                let snapshot = try f.backup(workspace, "secrets")
                let kubeconfig = "\(f.dir)/target.kubeconfig"
                try target.writeKubeconfig(to: kubeconfig, user: .token("tok"))
                let client = try ActionFixture.client(kubeconfig: kubeconfig, home: f.dir)
                let plan = PlanContext(workspace: workspace, at: Date().addingTimeInterval(1), params: [:], cluster: { client }, runbookDirectory: nil)
                let action = try SecretsRestoreAction(arguments: .object(["source": .string("secrets")]), context: plan)
                #expect(action.snapshots == [snapshot.id])
                #expect(action.plan.first?.contains("3 object(s)") == true)
                #expect(action.plan.contains { $0.contains("wordpress-db") })
                let output = OutputLog()
                let context = ExecutionContext(workspace: workspace, cluster: { client }, deadline: .now + .seconds(60), output: { output.append($0) })
                #expect(try !action.isDone(context))
                #expect(try action.run(context) == .changed)
                let restored = try #require(target.object(apiVersion: "v1", kind: "Secret", namespace: "wordpress", name: "wordpress-db"))
                #expect(restored[path: ["data", "password"]]?.stringValue == SecretFixtures.b64(SecretFixtures.values[0]))
                #expect(try action.isDone(context))
                #expect(try action.run(context) == .ok)
                let text = output.text + action.plan.joined(separator: "\n")
                #expect(text.contains("secret/wordpress/wordpress-db created"))
                for needle in SecretFixtures.values + SecretFixtures.base64Values { #expect(!text.contains(needle)) }

                // Without an identity binding fails before anything runs.
                var config = workspace.config
                config.encryption?.identity = nil
                let locked = try Workspace.open(config: config, environment: .current, logger: testLogger)
                let lockedPlan = PlanContext(workspace: locked, at: Date(), params: [:], cluster: { client }, runbookDirectory: nil)
                let error = bindError { _ = try SecretsRestoreAction(arguments: .object(["source": .string("secrets")]), context: lockedPlan) }
                #expect(error?.code == .crypto)
                #expect(bindError { _ = try ArgoStateRestoreAction(arguments: .object(["source": .string("secrets")]), context: plan) }?.code == .config)
            }
        } catch {
            await target.shutdown()
            throw error
        }
        await target.shutdown()
    }

    @Test("argocd-state.restore brings CRDs, the AppProject, Applications and settings back into an empty cluster")
    func argocdStateIntoEmptyCluster() async throws {
        let target = try await FakeKubeServer.start(options: .init(tokens: ["tok": "tester"]))
        do {
            try await withActionFixture { f in
                try f.seed(ArgoCRDs.yaml)
                try f.seed("""
                    apiVersion: argoproj.io/v1alpha1
                    kind: AppProject
                    metadata: {name: default, namespace: argocd}
                    spec: {sourceRepos: ["*"]}
                    ---
                    \(application("wordpress", automated: "{prune: true, selfHeal: true}"))
                    ---
                    apiVersion: v1
                    kind: ConfigMap
                    metadata: {name: argocd-cm, namespace: argocd}
                    data: {url: "https://argocd.borg.tools"}
                    """)
                let workspace = try f.workspace("  - name: argocd\n    kind: argocd-state\n")
                let snapshot = try f.backup(workspace, "argocd")
                let kubeconfig = "\(f.dir)/target.kubeconfig"
                try target.writeKubeconfig(to: kubeconfig, user: .token("tok"))
                let client = try ActionFixture.client(kubeconfig: kubeconfig, home: f.dir)
                let plan = PlanContext(workspace: workspace, at: Date().addingTimeInterval(1), params: [:], cluster: { client }, runbookDirectory: nil)
                let action = try ArgoStateRestoreAction(arguments: .object(["source": .string("argocd")]), context: plan)
                #expect(action.snapshots == [snapshot.id])
                #expect(action.plan.contains { $0.contains("wordpress") })
                let context = ExecutionContext(workspace: workspace, cluster: { client }, deadline: .now + .seconds(60), output: { _ in })
                #expect(try !action.isDone(context))
                #expect(try action.run(context) == .changed)
                let app = try #require(target.object(apiVersion: "argoproj.io/v1alpha1", kind: "Application", namespace: "argocd", name: "wordpress"))
                #expect(app[path: ["spec", "syncPolicy", "automated", "selfHeal"]]?.boolValue == true)
                #expect(target.object(apiVersion: "v1", kind: "ConfigMap", namespace: "argocd", name: "argocd-cm") != nil)
                #expect(try action.isDone(context))
            }
        } catch {
            await target.shutdown()
            throw error
        }
        await target.shutdown()
    }

    @Test("pvc.restore into a path moves the current tree aside and restores the snapshot's; isDone after")
    func pvcIntoPath() async throws {
        try await withActionFixture { f in
            let volume = "\(f.dir)/volumes/wp-content"
            try writeFile("\(volume)/uploads/photo.txt", "original photo\n")
            try writeFile("\(volume)/plugins/transkrypt.php", "<?php // plugin\n")
            let workspace = try f.workspace("  - name: wp-content\n    kind: pvc-archive\n    path: \(volume)\n")
            let snapshot = try f.backup(workspace, "wp-content")
            try writeFile("\(volume)/uploads/photo.txt", "damaged\n")
            try writeFile("\(volume)/ransom-note.txt", "pay\n")

            let action = try PVCRestoreAction(arguments: .object(["source": .string("wp-content")]), context: f.plan(workspace, cluster: false))
            #expect(action.snapshots == [snapshot.id])
            #expect(action.plan.joined().contains(volume))
            let context = f.execution(workspace)
            #expect(try !action.isDone(context))
            #expect(try action.run(context) == .changed)
            #expect(try String(contentsOfFile: "\(volume)/uploads/photo.txt", encoding: .utf8) == "original photo\n")
            #expect(!FileManager.default.fileExists(atPath: "\(volume)/ransom-note.txt"))
            let aside = FileIO.list("\(f.dir)/volumes").filter { $0.hasPrefix("wp-content.pre-restore-") }
            #expect(aside.count == 1)
            #expect(FileManager.default.fileExists(atPath: "\(f.dir)/volumes/\(aside.first ?? "")/ransom-note.txt"))
            #expect(try action.isDone(context))

            // A missing folder is simply filled.
            let copy = try PVCRestoreAction(arguments: .object(["source": .string("wp-content"), "path": .string("\(f.dir)/fresh")]),
                                            context: f.plan(workspace, cluster: false))
            #expect(try copy.run(context) == .changed)
            #expect(try String(contentsOfFile: "\(f.dir)/fresh/plugins/transkrypt.php", encoding: .utf8) == "<?php // plugin\n")
            #expect(!FileIO.list(f.dir).contains { $0.hasPrefix("fresh.pre-restore-") })
        }
    }

    @Test("pvc.restore into a PVC: the plan shows the Job; run creates it and waits for it to succeed")
    func pvcIntoClaim() async throws {
        // The fake has no Job controller: the test registers a Job CRD and sets the status itself.
        try await withActionFixture { f in
            let volume = "\(f.dir)/volume"
            try writeFile("\(volume)/db/ibdata1", "data\n")
            let workspace = try f.workspace("  - name: mariadb\n    kind: pvc-archive\n    path: \(volume)\n")
            let snapshot = try f.backup(workspace, "mariadb")
            try f.seed(jobCRD)
            try f.seed("apiVersion: v1\nkind: Namespace\nmetadata: {name: wordpress}\n")
            let action = try PVCRestoreAction(
                arguments: .object(["source": .string("mariadb"), "pvc": .string("wordpress/mariadb-data"), "image": .string("registry.local/drctl:1.4")]),
                context: f.plan(workspace))
            let plan = action.plan.joined(separator: "\n")
            #expect(plan.contains("kind: Job"))
            #expect(plan.contains("claimName: mariadb-data"))
            #expect(plan.contains("image: registry.local/drctl:1.4"))
            #expect(plan.contains("snapshots extract"))
            #expect(plan.contains(snapshot.id))
            #expect(plan.contains("secretName: drctl-config"))

            let short = f.execution(workspace, timeout: .milliseconds(1500))
            #expect(try !action.isDone(short))
            let error = await blockingError { _ = try action.run(short) }
            #expect(error?.message.contains("did not finish in time") == true, "\(error?.description ?? "no error")")
            let jobs = f.server.objects(apiVersion: "batch/v1", kind: "Job", namespace: "wordpress")
            #expect(jobs.count == 1)
            let job = try DRCore.JSONValue.parse(json: try #require(jobs.first).jsonData())
            let name = try #require(job[path: ["metadata", "name"]]?.stringValue)
            #expect(job[path: ["spec", "template", "spec", "volumes"]]?.arrayValue?.count == 2)
            try f.server.setStatus(apiVersion: "batch/v1", kind: "Job", namespace: "wordpress", name: name, status: .object(["succeeded": .int(1)]))
            #expect(try action.isDone(short))
            let full = f.execution(workspace)
            #expect(try await blocking { try action.run(full) } == .changed)
        }
    }

    @Test("binding errors: no snapshot, a later --at, unknown source or argument, no cluster, a URL repo without path")
    func bindingErrors() async throws {
        try await withActionFixture { f in
            let git = try GitFixture()
            let (bare, _) = try makeServedRepository(in: f.dir, git: git)
            let workspace = try f.workspace(gitSource(bare) + gitSource("https://git.example.invalid/gitops.git", name: "remote"))
            let source: JSONValue = .object(["source": .string("gitops")])
            let none = bindError { _ = try GitRestoreBundleAction(arguments: source, context: f.plan(workspace)) }
            #expect(none?.code == .notFound)
            #expect(none?.message.contains("no verified snapshot of source gitops at or before") == true, "\(none?.message ?? "")")
            _ = try f.backup(workspace, "gitops")
            let early = bindError { _ = try GitVerifyAction(arguments: source, context: f.plan(workspace, at: Date(timeIntervalSince1970: 0))) }
            #expect(early?.code == .notFound)
            #expect(bindError { _ = try GitRestoreBundleAction(arguments: .object(["source": .string("nope")]), context: f.plan(workspace)) }?.code == .config)
            let typo = bindError { _ = try GitRestoreBundleAction(arguments: .object(["source": .string("gitops"), "paht": .string("/x")]), context: f.plan(workspace)) }
            #expect(typo?.code == .config)
            #expect(typo?.message.contains("unknown argument `paht`") == true)
            let remote = bindError { _ = try GitRestoreBundleAction(arguments: .object(["source": .string("remote")]), context: f.plan(workspace)) }
            #expect(remote?.hint?.contains("give `path:`") == true, "\(remote?.description ?? "no error")")
            let noCluster = bindError { _ = try K8sWaitAction(arguments: .object(["deployment": .string("shop/web")]), context: f.plan(workspace, cluster: false)) }
            #expect(noCluster?.code == .config)
            #expect(noCluster?.message.contains("needs a Kubernetes cluster") == true)
            #expect(bindError { _ = try K8sWaitAction(arguments: .object(["deployment": .string("web")]), context: f.plan(workspace)) }?.code == .config)
            #expect(bindError { _ = try K8sWaitAction(arguments: .object(["deployment": .string("a/b"), "timeout": .string("soon")]), context: f.plan(workspace)) }?.code == .config)
            #expect(bindError { _ = try ArgoSyncAction(arguments: .object([:]), context: f.plan(workspace)) }?.code == .config)
            #expect(bindError { _ = try PVCRestoreAction(arguments: .object(["source": .string("gitops")]), context: f.plan(workspace)) }?.code == .config)
            #expect(bindError { _ = try K8sApplyAction(arguments: .object(["path": .string("missing.yaml")]), context: f.plan(workspace)) }?.code == .notFound)
        }
    }

    @Test("manual shows its instructions in the plan and prints them when run; every action is registered once")
    func manualAndRegistry() throws {
        try withTemporaryDirectory { dir in
            let workspace = try makeWorkspace(in: dir, sourcesYAML: "  []\n", encrypt: false)
            let plan = PlanContext(workspace: workspace, at: Date(), params: [:], cluster: nil, runbookDirectory: nil)
            let action = try ManualAction(arguments: .object(["instructions": .string("Provision a new cluster.\nPoint KUBECONFIG at it.")]), context: plan)
            #expect(action.plan == ["manual step; the operator does this and confirms:", "  Provision a new cluster.", "  Point KUBECONFIG at it."])
            let output = OutputLog()
            let context = ExecutionContext(workspace: workspace, cluster: nil, deadline: .now + .seconds(5), output: { output.append($0) })
            #expect(try action.run(context) == .ok)
            #expect(output.text == "Provision a new cluster.\nPoint KUBECONFIG at it.")
            let names = ActionRegistry.all.map { $0.name }
            #expect(Set(names).count == names.count)
            for name in ["git.restore-bundle", "git.verify", "k8s.apply", "k8s.create-namespace", "k8s.rollout-restart", "k8s.wait",
                         "argocd.pause-autosync", "argocd.resume-autosync", "argocd.sync", "argocd.wait", "secrets.restore",
                         "argocd-state.restore", "pvc.restore", "manual"] {
                #expect(ActionRegistry.type(named: name) != nil, "\(name) is not registered")
            }
        }
    }
}
