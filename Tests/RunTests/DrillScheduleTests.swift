import DRCore
import Foundation
import Scheduler
import Snapshots
import Testing
import TestSupport

/// Drills listed under `drills.runbooks` with a `schedule` run through `run --due` (and so the
/// daemon), after the due backups, with the injected clock; real git, no cluster.
@Suite("scheduled drills")
struct DrillScheduleTests {
    /// A bare GitOps repository backed up hourly, and `corrupted-repo` drilled daily.
    func workspace(_ dir: String, clock: TestClock, top: String = "") throws -> Workspace {
        let git = try GitFixture()
        try git.makeGitOpsRepository(at: "\(dir)/work")
        try git("clone", "--quiet", "--bare", "\(dir)/work", "\(dir)/gitops.git")
        let sources = "  - name: gitops\n    kind: git-bundle\n    repo: \(dir)/gitops.git\n    schedule: \"@hourly\"\n    rpo_target: 2h\n"
        let drills = "drills:\n  runbooks:\n    - runbook: corrupted-repo\n      schedule: \"@daily\"\n      rto_target: 1h\n"
        return try clockedWorkspace(dir, clock: clock, sources: sources, top: drills + top)
    }

    @Test("a scheduled drill runs after the due backup, once per slot; WARNINGS is not a failure; metrics show it")
    func runsOncePerSlot() throws {
        try withTemporaryDirectory { dir in
            let clock = TestClock("2026-03-01T00:30:00Z")
            let workspace = try workspace(dir, clock: clock, top: "metrics_file: \(dir)/drctl.prom\n")
            let dry = try DueRuns.run(workspace, dryRun: true)
            #expect(dry.drillDecisions.map(\.action) == [.run])
            #expect(try workspace.catalog.drillReports().isEmpty, "a dry run ran a drill")

            let first = try DueRuns.run(workspace)
            #expect(first.outcomes.map(\.source) == ["gitops"])
            #expect(first.drills.map(\.runbook) == ["corrupted-repo"])
            let report = try #require(first.drills.first?.report)
            // No drill cluster: the Kubernetes steps are not rehearsed, the git ones are verified.
            #expect(report.result == .warnings, "\(report.problems)")
            #expect(report.trigger == "schedule")
            #expect(report.snapshots.map(\.source) == ["gitops"])
            #expect(report.rtoTargetSeconds == 3600 && report.rtoMet == true)
            #expect(report.snapshots.first?.rpoTargetSeconds == 7200)
            #expect(first.succeeded)

            // Same slot: backed up again an hour later, but not drilled again until the next day.
            clock.advance(3600)
            let second = try DueRuns.run(workspace)
            #expect(second.outcomes.count == 1)
            #expect(second.drills.isEmpty)
            #expect(second.drillDecisions.first?.next == ISO8601.parse("2026-03-02T00:00:00Z"))
            #expect(try DueRuns.nextFire(workspace.config, after: clock.now) == ISO8601.parse("2026-03-01T02:00:00Z"))

            clock.set(try #require(ISO8601.parse("2026-03-02T00:05:00Z")))
            let nextDay = try DueRuns.run(workspace)
            #expect(nextDay.drills.map { $0.report?.result } == [.warnings])
            #expect(try workspace.catalog.drillReports(runbook: "corrupted-repo").count == 2)

            let metrics = try String(contentsOfFile: "\(dir)/drctl.prom", encoding: .utf8)
            #expect(metrics.contains("drctl_drill_success{runbook=\"corrupted-repo\"} 1"), "\(metrics)")
            #expect(metrics.contains("drctl_drill_last_timestamp_seconds{runbook=\"corrupted-repo\"} \(Int(clock.now.timeIntervalSince1970))"))
            #expect(metrics.contains("# TYPE drctl_drill_rto_seconds gauge"))
        }
    }

    @Test("a FAILED scheduled drill sends drill-failure and fails the run; a drill that cannot start is a failure")
    func failureNotified() throws {
        try withTemporaryDirectory { dir in
            let hook = try WebhookServer(dir)
            defer { hook.stop() }
            let clock = TestClock("2026-03-01T00:30:00Z")
            let workspace = try workspace(dir, clock: clock, top: "notify: {webhook: \"\(hook.url)\", on: [drill-failure]}\n")
            // Before any backup the drill cannot bind a snapshot: it fails to start and is notified.
            let early = DrillRuns.run(workspace, runbooks: ["corrupted-repo"])
            #expect(early.first?.report == nil)
            #expect(early.first?.failed == true)
            #expect(early.first?.error?.contains("gitops") == true, "\(early.first?.error ?? "")")

            // Back up (and drill the fresh backup), then flip one byte in every stored data
            // object: the next slot's drill must fail.
            let notifier = Notifier.make(workspace.config, logger: testLogger)
            #expect(try DueRuns.run(workspace, notifier: notifier).drills.map { $0.report?.result } == [.warnings])
            guard case .local(let root) = try #require(workspace.config.repositories.first).location else {
                Issue.record("not a local repository")
                return
            }
            for folder in FileIO.list("\(root)/objects") {
                for name in FileIO.list("\(root)/objects/\(folder)") {
                    let path = "\(root)/objects/\(folder)/\(name)"
                    var bytes = try FileIO.read(path)
                    bytes[bytes.count / 2] ^= 0x01
                    try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
                    try FileIO.atomicWrite(bytes, to: path)
                }
            }
            clock.set(try #require(ISO8601.parse("2026-03-02T00:10:00Z")))
            let report = try DueRuns.run(workspace, notifier: notifier)
            let drill = try #require(report.drills.first)
            #expect(drill.report?.result == .failed)
            #expect(!report.succeeded)
            let received = try hook.received().filter { $0["event"] == "drill-failure" }
            #expect(received.count == 1, "\(received)")
            #expect(received.last?["source"] == "corrupted-repo")
            #expect(received.last?["text"]?.contains("FAILED") == true)
            #expect(received.last?["error"]?.contains("gitops") == true, "the failure names what was checked")
        }
    }
}
