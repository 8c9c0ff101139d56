import DRCore
import FakeKube
import Foundation
import Restore
import Snapshots
import Testing
import TestSupport

/// DR drills of `corrupted-repo`, fully offline: the real repository served by `git daemon`
/// on loopback is backed up, then rehearsed into a sandbox with the fake API server as the
/// drill cluster (or without one), verified, measured and journaled.
@Suite("DR drills")
struct DrillTests {
    static let apps = ["wordpress", "plugin-deployer"]

    /// A served repository, its backup, and a workspace whose production cluster does not
    /// exist and whose drill cluster is the fake server (when `drillCluster`).
    struct Setup {
        let repo: String
        let served: String
        let workspace: Workspace
        let snapshot: SnapshotRecord
        let sandboxDir: String
    }

    /// `suffix`: the drill cluster's objects live in namespaces with this suffix, and
    /// `drills.namespace_suffix` says so.
    func setUp(_ fixture: ActionFixture, drillCluster: Bool, suffix: String = "", extraYAML: String = "") throws -> (Setup, GitDaemon) {
        let git = try GitFixture()
        let served = "\(fixture.dir)/served"
        let repo = "\(served)/gitops.git"
        try makeServedGitOps(git, work: "\(fixture.dir)/work", bare: repo, apps: Self.apps)
        let daemon = try GitDaemon(base: served)
        try fixture.installArgo(namespace: "argocd\(suffix)")
        try fixture.seed(deploymentYAML("gitops-git-daemon", namespace: "gitops-system\(suffix)"))
        for app in Self.apps {
            try fixture.seed(applicationYAML(app, repoURL: daemon.url("gitops.git"), namespace: "argocd\(suffix)"))
        }
        var top = "cluster:\n  kubeconfig: \(fixture.dir)/production.kubeconfig\n"
        top += "drills:\n  runbooks:\n    - runbook: corrupted-repo\n      rto_target: 30m\n"
        if drillCluster {
            top += "  cluster:\n    kubeconfig: \(fixture.kubeconfig)\n"
        }
        if !suffix.isEmpty { top += "  namespace_suffix: \(suffix)\n" }
        top += extraYAML
        let workspace = try makeWorkspace(
            in: "\(fixture.dir)/drctl",
            sourcesYAML: "  - name: gitops\n    kind: git-bundle\n    repo: \(repo)\n    rpo_target: 1d\n",
            topLevelYAML: top)
        let snapshot = try fixture.backup(workspace, "gitops")
        return (Setup(repo: repo, served: served, workspace: workspace, snapshot: snapshot,
                      sandboxDir: workspace.config.drillSettings.sandboxDir), daemon)
    }

    /// Every file below `path` with its content, to prove a tree unchanged.
    func tree(_ path: String) -> [String: [UInt8]] {
        var result: [String: [UInt8]] = [:]
        guard let walker = FileManager.default.enumerator(atPath: path) else { return result }
        while let relative = walker.nextObject() as? String {
            let full = "\(path)/\(relative)"
            if !FileIO.isDirectory(full) { result[relative] = (try? FileIO.read(full)) ?? [] }
        }
        return result
    }

    @Test("corrupted-repo drill with a drill cluster: SUCCESS, production untouched, sandbox removed, snapshot restore-tested")
    func drillSucceeds() async throws {
        try await withActionFixture { fixture in
            let (setup, daemon) = try setUp(fixture, drillCluster: true)
            defer { daemon.stop() }
            let before = tree(setup.served)
            let runbook = try RunbookLoader.load(name: "corrupted-repo", config: setup.workspace.config)
            let output = OutputLog()
            let at = Date()
            let report = try await blocking {
                try Drill(workspace: setup.workspace, output: { output.append($0) }).run(runbook, at: at)
            }
            #expect(report.result == .success, "\(report.problems)\n\(output.text)")
            #expect(report.notRehearsed.isEmpty)
            let allPassed = report.checks.allSatisfy { $0.passed }
            #expect(report.checks.count == 3 && allPassed, "\(report.checks)")
            #expect(report.snapshots.map(\.id) == [setup.snapshot.id])
            #expect(report.snapshots.first?.verified == true)
            let rpo = try #require(report.rpoSeconds)
            #expect(abs(rpo - at.timeIntervalSince(setup.snapshot.dataTime)) < 0.001)
            #expect((report.rtoSeconds ?? -1) > 0)
            // Production is untouched: same files, no corrupt copy aside; the sandbox is gone.
            #expect(tree(setup.served) == before)
            #expect(!FileIO.exists(report.sandbox))
            #expect(FileIO.list(setup.sandboxDir).isEmpty)
            // The drill cluster ran the Kubernetes steps.
            let daemonDeployment = try fixture.object("apps/v1", "Deployment", "gitops-system", "gitops-git-daemon")
            #expect(daemonDeployment?[path: ["spec", "template", "metadata", "annotations", "kubectl.kubernetes.io/restartedAt"]] != nil)
            // Journaled as a drill with its result; the snapshot is marked restore-tested.
            let executionID = try #require(report.executionID)
            let execution = try setup.workspace.catalog.execution(matching: executionID)
            #expect(execution.mode == .drill)
            #expect(execution.status == .succeeded)
            #expect(try setup.workspace.catalog.drillResult(executionID) == .success)
            let tested = try setup.workspace.catalog.restoreTests()[setup.snapshot.id]
            #expect(tested?.executionID == executionID)
            // The whole report is stored, with per-step timings and the configured targets.
            let stored = try setup.workspace.catalog.drillReports(runbook: "corrupted-repo")
            #expect(stored.count == 1)
            #expect(stored.first?.executionID == executionID)
            #expect(stored.first?.checks == report.checks)
            #expect(stored.first?.rtoTargetSeconds == 1800)
            #expect(stored.first?.rtoMet == true)
            #expect(stored.first?.snapshots.first?.rpoTargetSeconds == 86400)
            #expect(stored.first?.rpoMet == true)
            let ran = report.steps.filter { $0.status != Drill.notRehearsed }
            #expect(!ran.isEmpty && ran.allSatisfy { ($0.seconds ?? -1) >= 0 }, "\(report.steps)")
            #expect(try setup.workspace.catalog.lastDrillStart(runbook: "corrupted-repo") != nil)
            #expect(try setup.workspace.catalog.lastDrillStart(runbook: "cluster-loss") == nil)
        }
    }

    @Test("namespace_suffix: a drill on a shared drill cluster touches only the suffixed namespaces")
    func namespaceSuffix() async throws {
        try await withActionFixture { fixture in
            let (setup, daemon) = try setUp(fixture, drillCluster: true, suffix: "-drill")
            defer { daemon.stop() }
            // The shared cluster's own workload of the same name, which the drill must leave alone.
            try fixture.seed(deploymentYAML("gitops-git-daemon", namespace: "gitops-system"))
            let runbook = try RunbookLoader.load(name: "corrupted-repo", config: setup.workspace.config)
            let output = OutputLog()
            let report = try await blocking {
                try Drill(workspace: setup.workspace, output: { output.append($0) }).run(runbook)
            }
            #expect(report.result == .success, "\(report.problems)\n\(output.text)")
            let restarted = ["spec", "template", "metadata", "annotations", "kubectl.kubernetes.io/restartedAt"]
            let drilled = try fixture.object("apps/v1", "Deployment", "gitops-system-drill", "gitops-git-daemon")
            #expect(drilled?[path: restarted] != nil, "the drill did not restart the suffixed deployment")
            let shared = try fixture.object("apps/v1", "Deployment", "gitops-system", "gitops-git-daemon")
            #expect(shared != nil)
            #expect(shared?[path: restarted] == nil, "the drill touched an unsuffixed namespace")
            let paths = fixture.server.requests.map(\.path)
            #expect(!paths.contains { $0.contains("/namespaces/gitops-system/") || $0.contains("/namespaces/argocd/") },
                    "\(paths.filter { $0.contains("/namespaces/") })")
        }
    }

    @Test("without a drill cluster the Kubernetes steps are not rehearsed: WARNINGS, never SUCCESS")
    func drillWithoutCluster() async throws {
        try await withActionFixture { fixture in
            let (setup, daemon) = try setUp(fixture, drillCluster: false)
            defer { daemon.stop() }
            fixture.server.clearRequests()
            let runbook = try RunbookLoader.load(name: "corrupted-repo", config: setup.workspace.config)
            let output = OutputLog()
            let report = try await blocking {
                try Drill(workspace: setup.workspace, output: { output.append($0) }).run(runbook)
            }
            #expect(report.result == .warnings, "\(report.problems)\n\(output.text)")
            let skipped = Set(report.notRehearsed.map(\.id))
            #expect(skipped == ["pause-autosync", "restart-daemon", "wait-daemon", "sync-apps", "wait-apps", "resume-autosync"])
            #expect(report.steps.first { $0.id == "restore-repo" }?.status == "changed")
            let allPassed = report.checks.allSatisfy { $0.passed }
            #expect(allPassed, "\(report.checks)")
            #expect(fixture.server.requests.isEmpty, "a drill without a drill cluster called the API")
            let executionID = try #require(report.executionID)
            #expect(try setup.workspace.catalog.drillResult(executionID) == .warnings)
            let journal = try setup.workspace.catalog.executionSteps(executionID)
            let notRehearsed = journal.filter { $0.outputTail.hasPrefix("not-rehearsed") }.map(\.stepID)
            #expect(Set(notRehearsed) == skipped)
            #expect(!FileIO.exists(report.sandbox))
        }
    }

    @Test("a drill over a tampered backup fails and names the object")
    func tamperedBackup() async throws {
        try await withActionFixture { fixture in
            let (setup, daemon) = try setUp(fixture, drillCluster: false)
            defer { daemon.stop() }
            guard case .local(let root) = try #require(setup.workspace.config.repositories.first).location else {
                Issue.record("not a local repository")
                return
            }
            var names: [String] = []
            for folder in FileIO.list("\(root)/objects") {
                for name in FileIO.list("\(root)/objects/\(folder)") {
                    let path = "\(root)/objects/\(folder)/\(name)"
                    var bytes = try FileIO.read(path)
                    bytes[bytes.count / 2] ^= 0x01
                    try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
                    try FileIO.atomicWrite(bytes, to: path)
                    names.append(name)
                }
            }
            #expect(!names.isEmpty)
            let before = tree(setup.served)
            let runbook = try RunbookLoader.load(name: "corrupted-repo", config: setup.workspace.config)
            let output = OutputLog()
            let report = try await blocking {
                try Drill(workspace: setup.workspace, output: { output.append($0) }).run(runbook)
            }
            #expect(report.result == .failed)
            let problems = report.problems.joined(separator: "\n")
            #expect(names.contains { problems.contains($0) || problems.contains($0.prefix(12)) }, "\(problems)\n\(output.text)")
            #expect(try setup.workspace.catalog.restoreTests()[setup.snapshot.id] == nil)
            #expect(tree(setup.served) == before)
            #expect(!FileIO.exists(report.sandbox))
        }
    }

    @Test("a step that fails mid-drill: FAILED, journaled, the sandbox removed (kept with keepSandbox)")
    func failureMidDrillCleansUp() async throws {
        try await withActionFixture { fixture in
            let (setup, daemon) = try setUp(fixture, drillCluster: false)
            defer { daemon.stop() }
            let runbook = try RunbookParser.parse(text: """
                ---
                requires: [{source: git-bundle}]
                ---
                # Fails half way

                ## Restore

                ```drctl {id=restore-repo}
                action: git.restore-bundle
                source: gitops
                ```

                ## Break

                ```sh {id=boom drill=run}
                echo breaking; exit 3
                ```

                ## Never

                ```drctl {id=verify-repo}
                action: git.verify
                source: gitops
                ```
                """, name: "fails-half-way", origin: "\(fixture.dir)/fails-half-way.md")
            for keep in [false, true] {
                let report = try await blocking {
                    try Drill(workspace: setup.workspace, keepSandbox: keep, output: { _ in }).run(runbook)
                }
                #expect(report.result == .failed)
                #expect(report.steps.map(\.status) == ["changed", "failed", "not-run"])
                #expect(report.problems.first?.contains("boom") == true, "\(report.problems)")
                #expect(FileIO.exists(report.sandbox) == keep)
                let executionID = try #require(report.executionID)
                #expect(try setup.workspace.catalog.execution(matching: executionID).status == .failed)
                #expect(try setup.workspace.catalog.drillResult(executionID) == .failed)
            }
            // The kept sandbox survives the next drill; one left by a killed drill (lock free,
            // not kept) is swept; a stray folder that is not a sandbox is left alone.
            let kept = FileIO.list(setup.sandboxDir).map { "\(setup.sandboxDir)/\($0)" }
            #expect(kept.count == 1 && FileIO.exists("\(kept[0])/.keep"))
            let killed = "\(setup.sandboxDir)/drill-20260101T000000Z-dead"
            try FileIO.createDirectory("\(killed)/git/gitops")
            try FileIO.atomicWrite([], to: "\(killed)/.drill.lock")
            let stray = "\(setup.sandboxDir)/notes"
            try FileIO.createDirectory(stray)
            _ = try await blocking { try Drill(workspace: setup.workspace, output: { _ in }).run(runbook) }
            #expect(!FileIO.exists(killed))
            #expect(FileIO.exists(kept[0]))
            #expect(FileIO.exists(stray))
        }
    }

    /// A workspace with a volume `data` and a Secret export `secrets` (from kubectl output),
    /// both backed up, and the fake server as the drill cluster.
    func volumeAndExportSetup(_ fixture: ActionFixture) throws -> Workspace {
        let volume = "\(fixture.dir)/volume"
        try FileIO.createDirectory("\(volume)/uploads/2026")
        try FileIO.atomicWrite(Array("<?php // wp-config\n".utf8), to: "\(volume)/wp-config.php")
        try FileIO.atomicWrite(Array(repeating: 0x42, count: 70_000), to: "\(volume)/uploads/2026/photo.jpg")
        let list = "\(fixture.dir)/secrets.yaml"
        try FileIO.atomicWrite(Array(SecretFixtures.kubectlList().utf8), to: list)
        let workspace = try makeWorkspace(
            in: "\(fixture.dir)/drctl",
            sourcesYAML: """
                  - name: data
                    kind: pvc-archive
                    path: \(volume)
                  - name: secrets
                    kind: secrets
                    file: \(list)
                    exclude_helm_releases: true

                """,
            topLevelYAML: "cluster:\n  kubeconfig: \(fixture.dir)/production.kubeconfig\ndrills:\n  cluster:\n    kubeconfig: \(fixture.kubeconfig)\n")
        _ = try fixture.backup(workspace, "data")
        _ = try fixture.backup(workspace, "secrets")
        return workspace
    }

    @Test("volumes and Secret exports are verified: file hashes and keyed digests equal the catalog's")
    func volumeAndExportVerified() async throws {
        try await withActionFixture { fixture in
            let workspace = try volumeAndExportSetup(fixture)
            let runbook = try volumeAndExportRunbook(fixture)
            let output = OutputLog()
            let report = try await blocking {
                try Drill(workspace: workspace, output: { output.append($0) }).run(runbook)
            }
            #expect(report.result == .success, "\(report.problems)\n\(output.text)")
            let checks = Dictionary(report.checks.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
            #expect(checks["volume data: file hashes"]?.passed == true)
            #expect(checks["volume data: file hashes"]?.detail == "2 file(s) equal to the catalog", "\(report.checks)")
            #expect(checks["export secrets: objects"]?.passed == true)
            #expect(checks["export secrets: objects"]?.detail.hasPrefix("3 object(s)") == true, "\(report.checks)")
            #expect(report.snapshots.count == 2 && report.snapshots.allSatisfy(\.verified))
            // The Secrets went to the drill cluster; no value reached the drill's output.
            #expect(try fixture.object("v1", "Secret", "wordpress", "wordpress-db") != nil)
            for needle in SecretFixtures.values + SecretFixtures.base64Values { #expect(!output.text.contains(needle)) }
        }
    }

    @Test("a restored file changed before verification, or a digest key that does not match, fails the drill naming them")
    func volumeAndExportMismatch() async throws {
        try await withActionFixture { fixture in
            let workspace = try volumeAndExportSetup(fixture)
            let sandboxes = workspace.config.drillSettings.sandboxDir
            // Changes the restored copy after pvc.restore checked it: only verification can see it.
            let runbook = try volumeAndExportRunbook(
                fixture, afterRestores: "for f in \(sandboxes)/drill-*/volumes/data/uploads/2026/photo.jpg; do printf x >> \"$f\"; done")
            // A digest key other than the one the catalog's digests were made with.
            let keyPath = DigestKey.path(dataDir: workspace.config.dataDir)
            try DigestKey.generate().save(path: keyPath)
            let report = try await blocking { try Drill(workspace: workspace, output: { _ in }).run(runbook) }
            #expect(report.result == .failed)
            let failed = Dictionary(report.failedChecks.map { ($0.name, $0.detail) }, uniquingKeysWith: { first, _ in first })
            #expect(failed["volume data: file hashes"]?.contains("uploads/2026/photo.jpg differs") == true, "\(report.checks)")
            #expect(failed["volume data: file hashes"]?.contains("wp-config.php") == false)
            #expect(failed["export secrets: objects"]?.contains("wordpress/wordpress-db") == true, "\(report.checks)")
            #expect(try workspace.catalog.restoreTests().isEmpty)
        }
    }

    @Test("a plan that would write outside the sandbox is refused before anything runs")
    func writesOutsideSandboxRefused() async throws {
        let sandbox = DrillSandbox(root: "/tmp/drills/d1")
        #expect(sandbox.contains("/tmp/drills/d1/git/gitops"))
        #expect(!sandbox.contains("/tmp/drills/d1/../../srv/gitops.git"))
        #expect(!sandbox.contains("/tmp/drills/d10/x"))
        try await withActionFixture { fixture in
            let workspace = try makeWorkspace(in: "\(fixture.dir)/drctl", sourcesYAML: "  []\n")
            let marker = "\(fixture.dir)/production-file"
            let runbook = try RunbookParser.parse(text: """
                # Writes outside

                ```drctl {id=outside}
                action: test.write-outside
                path: \(marker)
                ```
                """, name: "outside", origin: "\(fixture.dir)/outside.md")
            let refusal = await blockingError {
                _ = try Drill(workspace: workspace, actions: ActionRegistry.all + [WriteOutsideAction.self], cluster: .some(nil),
                              output: { _ in }).run(runbook)
            }
            #expect(refusal?.code == .refused, "\(String(describing: refusal))")
            #expect(refusal?.message.contains(marker) == true)
            #expect(!FileIO.exists(marker))
            #expect(try workspace.catalog.executions().isEmpty)
            #expect(FileIO.list(workspace.config.drillSettings.sandboxDir).isEmpty)
        }
    }

    @Test("a drill cluster that is the production cluster is refused")
    func productionClusterRefused() async throws {
        try await withActionFixture { fixture in
            // Same kubeconfig and context: refused by the config loader, with file:line.
            let error = bindError {
                _ = try makeWorkspace(
                    in: "\(fixture.dir)/same", sourcesYAML: "  []\n",
                    topLevelYAML: "cluster:\n  kubeconfig: \(fixture.kubeconfig)\n  context: prod\ndrills:\n  cluster:\n    kubeconfig: \(fixture.kubeconfig)\n    context: prod\n")
            }
            let message = error?.description ?? ""
            #expect(message.contains("drctl.yaml:"), "\(message)")
            #expect(message.contains("production"), "\(message)")
            // Another kubeconfig file reaching the same API server: refused when the drill starts.
            let copy = "\(fixture.dir)/copy.kubeconfig"
            try FileIO.atomicWrite(try FileIO.read(fixture.kubeconfig), to: copy)
            let workspace = try makeWorkspace(
                in: "\(fixture.dir)/other", sourcesYAML: "  []\n",
                topLevelYAML: "cluster:\n  kubeconfig: \(fixture.kubeconfig)\ndrills:\n  cluster:\n    kubeconfig: \(copy)\n")
            let refusal = bindError { _ = try Drill(workspace: workspace, output: { _ in }) }
            #expect(refusal?.code == .refused, "\(String(describing: refusal))")
            #expect(refusal?.message.contains("production") == true)
        }
    }
}

/// A test action that writes the path it is given, wherever it is.
struct WriteOutsideAction: RunbookAction {
    static let name = "test.write-outside"
    static let defaultTimeout: Duration = .seconds(10)
    let path: String

    init(arguments: DRCore.JSONValue, context: PlanContext) throws {
        path = arguments["path"]?.stringValue ?? ""
    }

    var plan: [String] { ["write \(path)"] }
    var snapshots: [String] { [] }
    var writes: [String] { [path] }
    func isDone(_ context: ExecutionContext) throws -> Bool { false }

    func run(_ context: ExecutionContext) throws -> StepOutcome {
        try FileIO.atomicWrite(Array("x".utf8), to: path)
        return .changed
    }
}
