import DRCore
import FakeKube
import Foundation
import Restore
import Snapshots
import Testing
import TestSupport

/// Lines an action wrote through `context.output`.
final class OutputLog: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []

    func append(_ line: String) {
        lock.lock()
        lines.append(line)
        lock.unlock()
    }

    var text: String {
        lock.lock()
        defer { lock.unlock() }
        return lines.joined(separator: "\n")
    }
}

/// One fake API server (token "tok"), a temporary folder and helpers to bind and run actions.
struct ActionFixture: Sendable {
    let server: FakeKubeServer
    let dir: String
    let kubeconfig: String
    let client: KubeClient

    static let fast: KubeClient.Options = {
        var options = KubeClient.Options()
        options.timeout = .seconds(10)
        options.retries = 3
        options.initialBackoff = .milliseconds(10)
        return options
    }()

    static func client(kubeconfig: String, home: String) throws -> KubeClient {
        let endpoint = try KubeEndpoint.resolve(
            .init(kubeconfigPath: kubeconfig), environment: Environment(["HOME": home, "PATH": "/usr/bin:/bin"]), logger: testLogger)
        return try KubeClient(endpoint: endpoint, logger: testLogger, options: fast)
    }

    /// A drctl setup in `dir/drctl` whose `cluster:` is this server.
    func workspace(_ sourcesYAML: String, encrypt: Bool = true, environment: Environment = .current) throws -> Workspace {
        try makeWorkspace(in: "\(dir)/drctl", sourcesYAML: sourcesYAML.isEmpty ? "  []\n" : sourcesYAML, encrypt: encrypt, environment: environment,
                          topLevelYAML: "cluster:\n  kubeconfig: \(kubeconfig)\n")
    }

    /// A plan context on this server (or none), binding at `at`.
    func plan(_ workspace: Workspace, at: Date = Date().addingTimeInterval(1), cluster: Bool = true,
              params: [String: String] = [:], runbookDirectory: String? = nil) -> PlanContext {
        let client = self.client
        let provider: (@Sendable () throws -> KubeClient)? = cluster ? { @Sendable in client } : nil
        return PlanContext(workspace: workspace, at: at, params: params, cluster: provider,
                           runbookDirectory: runbookDirectory)
    }

    func execution(_ workspace: Workspace, timeout: Duration = .seconds(60), output: OutputLog = OutputLog()) -> ExecutionContext {
        let client = self.client
        return ExecutionContext(workspace: workspace, cluster: { client }, deadline: .now + timeout, output: { output.append($0) })
    }

    func seed(_ yaml: String) throws { try server.seed(yaml: yaml) }

    /// A stored object as drctl's JSON.
    func object(_ apiVersion: String, _ kind: String, _ namespace: String?, _ name: String) throws -> DRCore.JSONValue? {
        guard let value = server.object(apiVersion: apiVersion, kind: kind, namespace: namespace, name: name) else { return nil }
        return try DRCore.JSONValue.parse(json: value.jsonData())
    }

    func backup(_ workspace: Workspace, _ source: String) throws -> SnapshotRecord {
        let outcome = try #require(try Backup.run(workspace, sources: [source]).outcomes.first)
        #expect(outcome.succeeded, "backup failed: \(outcome.error ?? "")")
        return try #require(outcome.snapshot)
    }

    /// An available ArgoCD application controller in `namespace` (the fake controller acts only then).
    func installArgo(namespace: String = "argocd") throws {
        try seed(ArgoCRDs.yaml)
        try seed("""
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: argocd-application-controller, namespace: \(namespace)}
            spec:
              replicas: 1
              selector: {matchLabels: {app: argocd-application-controller}}
              template:
                metadata: {labels: {app: argocd-application-controller}}
                spec: {containers: [{name: controller, image: argocd}]}
            """)
    }
}

/// Runs `body` with a fresh fake server and folder. Calls that wait for the fake's controllers
/// go through ``blocking(_:)``: the controllers run on the cooperative pool.
func withActionFixture(_ body: (ActionFixture) async throws -> Void) async throws {
    let server = try await FakeKubeServer.start(options: .init(tokens: ["tok": "tester"]))
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-actions-\(UUID().uuidString.prefix(8))").path
    var failure: (any Error)?
    do {
        try FileIO.createDirectory(dir)
        let kubeconfig = "\(dir)/fake.kubeconfig"
        try server.writeKubeconfig(to: kubeconfig, user: .token("tok"))
        let fixture = ActionFixture(server: server, dir: dir, kubeconfig: kubeconfig,
                                    client: try ActionFixture.client(kubeconfig: kubeconfig, home: dir))
        try await body(fixture)
    } catch {
        failure = error
    }
    await server.shutdown()
    try? FileManager.default.removeItem(atPath: dir)
    if let failure { throw failure }
}

/// The `DRError` a blocking call raised on its own thread, or nil.
func blockingError(_ body: @escaping @Sendable () throws -> Void) async -> DRError? {
    do {
        try await blocking(body)
        return nil
    } catch {
        return DRError.wrap(error)
    }
}

/// The `DRError` a throwing call raised, or nil.
func bindError(_ body: () throws -> Void) -> DRError? {
    do {
        try body()
        return nil
    } catch {
        return DRError.wrap(error)
    }
}

/// Writes `text` to `path`, creating parent folders.
func writeFile(_ path: String, _ text: String) throws {
    try FileIO.createDirectory((path as NSString).deletingLastPathComponent)
    try FileIO.atomicWrite(Array(text.utf8), to: path)
}

/// Deletes every loose object file of a repository (what "corrupted" means in these tests).
func corruptRepository(_ gitDir: String) throws {
    let objects = "\(gitDir)/objects"
    for folder in FileIO.list(objects) where folder.count == 2 {
        for file in FileIO.list("\(objects)/\(folder)") { FileIO.remove("\(objects)/\(folder)/\(file)") }
    }
    for file in FileIO.list("\(objects)/pack") { FileIO.remove("\(objects)/pack/\(file)") }
}

/// A runbook restoring the volume and the Secrets; `shell` is a drill-safe shell line
/// run between the restores and the verification.
func volumeAndExportRunbook(_ fixture: ActionFixture, afterRestores shell: String = "true") throws -> Runbook {
    try RunbookParser.parse(text: """
        # Volume and Secrets

        ```drctl {id=restore-volume}
        action: pvc.restore
        source: data
        ```

        ```drctl {id=restore-secrets}
        action: secrets.restore
        source: secrets
        ```

        ```sh {id=after drill=run}
        \(shell)
        ```
        """, name: "volume-and-secrets", origin: "\(fixture.dir)/volume-and-secrets.md")
}
