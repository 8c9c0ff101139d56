import DRCore
import FakeKube
import Foundation
import Restore
import Testing
import TestSupport

func application(_ name: String, namespace: String = "argocd", repo: String = "git://gitops-git-daemon.gitops-system/gitops.git",
                 automated: String? = nil) -> String {
    """
    apiVersion: argoproj.io/v1alpha1
    kind: Application
    metadata: {name: \(name), namespace: \(namespace)}
    spec:
      project: default
      source: {repoURL: "\(repo)", targetRevision: main, path: environments/minikube}
      destination: {server: "https://kubernetes.default.svc", namespace: wordpress}
    \(automated.map { "  syncPolicy:\n    automated: \($0)\n    syncOptions: [CreateNamespace=true, PruneLast=true]" } ?? "")
    """
}

@Suite("argocd actions against the fake API server and its simulated controller")
struct ArgoActionTests {
    @Test("pause-autosync remembers automated; resume-autosync restores it exactly; both idempotent")
    func pauseResume() async throws {
        try await withActionFixture { f in
            let workspace = try f.workspace("")
            try f.seed(ArgoCRDs.yaml)
            try f.seed(application("wordpress", automated: "{prune: true, selfHeal: true}"))
            try f.seed(application("plugin-deployer", automated: "{}"))
            let originals = try ["wordpress", "plugin-deployer"].map {
                try #require(try f.object("argoproj.io/v1alpha1", "Application", "argocd", $0)?[path: ["spec", "syncPolicy"]])
            }
            let apps: JSONValue = .object(["apps": .string("wordpress, plugin-deployer")])
            let pause = try ArgoPauseAutosyncAction(arguments: apps, context: f.plan(workspace))
            let resume = try ArgoResumeAutosyncAction(arguments: apps, context: f.plan(workspace))
            let context = f.execution(workspace)
            #expect(try !pause.isDone(context))
            #expect(try resume.isDone(context))
            #expect(try pause.run(context) == .changed)
            for name in ["wordpress", "plugin-deployer"] {
                let app = try #require(try f.object("argoproj.io/v1alpha1", "Application", "argocd", name))
                #expect(app[path: ["spec", "syncPolicy", "automated"]] == nil)
                #expect(app[path: ["spec", "syncPolicy", "syncOptions"]] != nil)
                #expect(app[path: ["metadata", "annotations", "drctl.io/paused-automated"]]?.stringValue != nil)
            }
            #expect(try pause.isDone(context))
            #expect(try pause.run(context) == .ok)
            #expect(try !resume.isDone(context))
            #expect(try resume.run(context) == .changed)
            for (index, name) in ["wordpress", "plugin-deployer"].enumerated() {
                let app = try #require(try f.object("argoproj.io/v1alpha1", "Application", "argocd", name))
                #expect(app[path: ["spec", "syncPolicy"]] == originals[index])
                #expect(app[path: ["metadata", "annotations", "drctl.io/paused-automated"]] == nil)
            }
            #expect(try resume.isDone(context))
            #expect(try resume.run(context) == .ok)
            let missing = try ArgoPauseAutosyncAction(arguments: .object(["apps": .string("nope")]), context: f.plan(workspace))
            #expect(bindError { _ = try missing.run(context) }?.message.contains("argocd/nope does not exist") == true)
        }
    }

    @Test("argocd.sync + argocd.wait: Synced and Healthy from a healthy repository, failing against a corrupted one")
    func syncAndWait() async throws {
        try await withActionFixture { f in
            let git = try GitFixture()
            let (bare, _) = try makeServedRepository(in: f.dir, git: git)
            let workspace = try f.workspace("")
            try f.installArgo()
            try f.seed(application("wordpress", repo: bare))
            let apps: JSONValue = .object(["apps": .string("wordpress"), "prune": .bool(true)])
            let sync = try ArgoSyncAction(arguments: apps, context: f.plan(workspace))
            let wait = try ArgoWaitAction(arguments: .object(["apps": .string("wordpress"), "timeout": .string("60s")]), context: f.plan(workspace))
            #expect(sync.plan.first?.contains("--prune") == true)
            let output = OutputLog()
            let context = f.execution(workspace, output: output)
            #expect(try !wait.isDone(context))
            #expect(try sync.run(context) == .changed)
            #expect(try await blocking { try wait.run(context) } == .ok)
            #expect(try wait.isDone(context))
            #expect(try f.object("v1", "ConfigMap", "wordpress", "site-config") != nil)
            let app = try #require(try f.object("argoproj.io/v1alpha1", "Application", "argocd", "wordpress"))
            let operation = try #require(app[path: ["status", "operationState", "operation"]])
            #expect(operation[path: ["initiatedBy", "username"]]?.stringValue == "drctl")
            #expect(operation[path: ["sync", "revision"]]?.stringValue == "main")
            #expect(operation[path: ["sync", "prune"]]?.boolValue == true)
            #expect(output.text.contains("Synced, Healthy"))

            try corruptRepository(bare)
            #expect(try sync.run(context) == .changed)
            let error = await blockingError { _ = try wait.run(context) }
            #expect(error?.code == .failed)
            #expect(error?.message.contains("the sync of Application argocd/wordpress failed") == true, "\(error?.message ?? "no error")")
            #expect(try !wait.isDone(context))
        }
    }

    @Test("argocd.sync refuses while another operation is running or pending; force sets the hook strategy")
    func syncRefusedWhileRunning() async throws {
        try await withActionFixture { f in
            let workspace = try f.workspace("")
            try f.seed(ArgoCRDs.yaml)
            try f.seed(application("wordpress"))
            try f.server.setStatus(apiVersion: "argoproj.io/v1alpha1", kind: "Application", namespace: "argocd", name: "wordpress",
                                   status: .object(["operationState": .object(["phase": .string("Running"), "startedAt": .string("2026-11-23T10:00:00Z")])]))
            let sync = try ArgoSyncAction(arguments: .object(["apps": .string("wordpress"), "force": .bool(true)]), context: f.plan(workspace))
            let context = f.execution(workspace)
            let error = bindError { _ = try sync.run(context) }
            #expect(error?.code == .refused)
            #expect(error?.message.contains("another operation running since 2026-11-23T10:00:00Z") == true, "\(error?.message ?? "no error")")
            #expect(try f.object("argoproj.io/v1alpha1", "Application", "argocd", "wordpress")?["operation"] == nil)

            // No controller runs here: the requested operation stays pending and a second sync is refused.
            try f.server.setStatus(apiVersion: "argoproj.io/v1alpha1", kind: "Application", namespace: "argocd", name: "wordpress",
                                   status: .object([:]))
            #expect(try sync.run(context) == .changed)
            let pending = try #require(try f.object("argoproj.io/v1alpha1", "Application", "argocd", "wordpress")?["operation"])
            #expect(pending[path: ["sync", "syncStrategy", "hook", "force"]]?.boolValue == true)
            #expect(pending[path: ["sync", "revision"]]?.stringValue == "main")
            #expect(bindError { _ = try sync.run(context) }?.code == .refused)
            let wait = try ArgoWaitAction(arguments: .object(["apps": .string("wordpress"), "timeout": .string("500ms")]), context: f.plan(workspace))
            let notStarted = await blockingError { _ = try wait.run(context) }
            #expect(notStarted?.message.contains("not started yet") == true)
        }
    }
}
