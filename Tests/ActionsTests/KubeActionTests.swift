import DRCore
import FakeKube
import Foundation
import Restore
import Testing
import TestSupport

let webDeployment = """
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web, namespace: shop}
    spec:
      replicas: 2
      selector: {matchLabels: {app: web}}
      template:
        metadata: {labels: {app: web}}
        spec: {containers: [{name: web, image: "nginx:1.27"}]}
    """

@Suite("k8s actions against the fake API server")
struct KubeActionTests {
    @Test("k8s.apply of a folder: dependency order, relative path, default namespace; isDone after")
    func applyFolder() async throws {
        try await withActionFixture { f in
            let workspace = try f.workspace("")
            let runbooks = "\(f.dir)/runbooks"
            try writeFile("\(runbooks)/manifests/10-app.yaml", """
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: settings, namespace: shop}
                data: {mode: restore}
                ---
                \(webDeployment)
                """)
            try writeFile("\(runbooks)/manifests/00-namespace.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n")
            try writeFile("\(runbooks)/manifests/README.md", "not applied\n")
            let action = try K8sApplyAction(arguments: .object(["path": .string("manifests")]),
                                            context: f.plan(workspace, runbookDirectory: runbooks))
            #expect(action.path == "\(runbooks)/manifests")
            let listed = action.plan.dropFirst().map { $0.trimmingWhitespace() }
            #expect(listed == ["namespace/shop", "configmap/shop/settings", "deployment/shop/web"])
            let context = f.execution(workspace)
            #expect(try !action.isDone(context))
            #expect(try action.run(context) == .changed)
            #expect(try f.object("v1", "ConfigMap", "shop", "settings")?[path: ["data", "mode"]]?.stringValue == "restore")
            #expect(try f.object("apps/v1", "Deployment", "shop", "web") != nil)
            #expect(try action.isDone(context))
            #expect(try action.run(context) == .ok)

            // One file; namespaced objects without a namespace get `namespace:` (created when missing).
            try writeFile("\(f.dir)/drctl/single.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: lone}\ndata: {a: b}\n")
            let single = try K8sApplyAction(arguments: .object(["path": .string("single.yaml"), "namespace": .string("other")]),
                                            context: f.plan(workspace))
            #expect(try single.run(context) == .changed)
            #expect(try f.object("v1", "ConfigMap", "other", "lone") != nil)
        }
    }

    @Test("k8s.apply of a Kustomize folder needs kustomize or kubectl, checked at bind time")
    func kustomizeNeedsTool() async throws {
        try await withActionFixture { f in
            try writeFile("\(f.dir)/kust/kustomization.yaml", "resources: [cm.yaml]\nnamespace: kust\n")
            try writeFile("\(f.dir)/kust/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: from-kustomize}\ndata: {a: b}\n")
            let bare = try makeWorkspace(in: "\(f.dir)/drctl-nopath", sourcesYAML: "  []\n", encrypt: false,
                                         environment: Environment(["PATH": "/nonexistent", "HOME": f.dir]))
            let error = bindError { _ = try K8sApplyAction(arguments: .object(["path": .string("\(f.dir)/kust")]), context: f.plan(bare)) }
            #expect(error?.code == .missingTool)
            #expect(error?.message.contains("kustomize") == true)

            guard Environment.current.which("kubectl") != nil || Environment.current.which("kustomize") != nil else { return }
            let workspace = try f.workspace("")
            let action = try K8sApplyAction(arguments: .object(["path": .string("\(f.dir)/kust")]), context: f.plan(workspace))
            #expect(action.plan.contains { $0.contains("configmap/kust/from-kustomize") })
            #expect(try action.run(f.execution(workspace)) == .changed)
            #expect(try f.object("v1", "ConfigMap", "kust", "from-kustomize") != nil)
        }
    }

    @Test("k8s.create-namespace is idempotent")
    func createNamespace() async throws {
        try await withActionFixture { f in
            let workspace = try f.workspace("")
            let action = try K8sCreateNamespaceAction(arguments: .object(["name": .string("wordpress")]), context: f.plan(workspace))
            let context = f.execution(workspace)
            #expect(try !action.isDone(context))
            #expect(try action.run(context) == .changed)
            #expect(try action.isDone(context))
            #expect(try action.run(context) == .ok)
            #expect(bindError { _ = try K8sCreateNamespaceAction(arguments: .object(["name": .string("Bad_Name")]), context: f.plan(workspace)) }?.code == .config)
        }
    }

    @Test("rollout-restart patches restartedAt; k8s.wait sees the new generation available")
    func restartAndWait() async throws {
        try await withActionFixture { f in
            let workspace = try f.workspace("")
            try f.seed(webDeployment)
            let wait = try K8sWaitAction(arguments: .object(["deployment": .string("shop/web"), "timeout": .string("60s")]), context: f.plan(workspace))
            let context = f.execution(workspace)
            #expect(try await blocking { try wait.run(context) } == .ok)
            #expect(try wait.isDone(context))

            let restart = try K8sRolloutRestartAction(arguments: .object(["deployment": .string("shop/web")]), context: f.plan(workspace))
            #expect(restart.plan.first?.contains("rollout restart deployment") == true)
            #expect(try restart.run(context) == .changed)
            let restarted = try #require(try f.object("apps/v1", "Deployment", "shop", "web"))
            #expect(restarted[path: ["spec", "template", "metadata", "annotations", "kubectl.kubernetes.io/restartedAt"]]?.stringValue != nil)
            #expect(restarted[path: ["metadata", "generation"]]?.intValue == 2)
            #expect(try await blocking { try wait.run(context) } == .ok)
            let available = try #require(try f.object("apps/v1", "Deployment", "shop", "web"))
            #expect(available[path: ["status", "observedGeneration"]]?.intValue == 2)
        }
    }

    @Test("k8s.wait times out while rollouts are frozen, naming what is missing")
    func waitTimesOut() async throws {
        try await withActionFixture { f in
            let workspace = try f.workspace("")
            try f.seed(webDeployment)
            let context = f.execution(workspace)
            let first = try K8sWaitAction(arguments: .object(["deployment": .string("shop/web"), "timeout": .string("60s")]), context: f.plan(workspace))
            #expect(try await blocking { try first.run(context) } == .ok)
            let wait = try K8sWaitAction(arguments: .object(["deployment": .string("shop/web"), "timeout": .string("1s")]), context: f.plan(workspace))
            f.server.setRolloutsFrozen(true)
            defer { f.server.setRolloutsFrozen(false) }
            let restart = try K8sRolloutRestartAction(arguments: .object(["deployment": .string("shop/web")]), context: f.plan(workspace))
            _ = try restart.run(context)
            let started = ContinuousClock.now
            let error = await blockingError { _ = try wait.run(context) }
            let waited = ContinuousClock.now - started
            #expect(error?.message.contains("shop/web was not available") == true, "\(error?.message ?? "no error")")
            #expect(error?.message.contains("generation 2") == true)
            #expect(waited >= .milliseconds(900) && waited < .seconds(30), "the 1s timeout was not honoured: \(waited)")
            #expect(try !wait.isDone(context))
            let missing = try K8sWaitAction(arguments: .object(["statefulset": .string("shop/db"), "timeout": .string("300ms")]), context: f.plan(workspace))
            let absent = await blockingError { _ = try missing.run(context) }
            #expect(absent?.message.contains("does not exist") == true)
        }
    }
}
