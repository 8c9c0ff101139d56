import DRCore
import Foundation
import Scheduler
import Snapshots
import Testing
import TestSupport

/// `verify:` runs `drctl verify` from `run --due` (and so the daemon), once per slot, after
/// the backups; a failure is notified (`verify-failure`) and counted in the metrics.
@Suite("scheduled verification")
struct VerifyScheduleTests {
    @Test("a daily read-data verification runs once per slot; a damaged object fails it, notifies and shows in the metrics")
    func dailyVerification() throws {
        try withTemporaryDirectory { dir in
            let hook = try WebhookServer(dir)
            defer { hook.stop() }
            try makeVolume("\(dir)/vol")
            let clock = TestClock("2026-03-01T00:30:00Z")
            let top = """
                metrics_file: \(dir)/drctl.prom
                notify: {webhook: "\(hook.url)", on: [verify-failure]}
                verify: {schedule: "@daily", read_data: true}

                """
            let workspace = try clockedWorkspace(dir, clock: clock, sources: volumeSource("vol", path: "\(dir)/vol"), top: top)
            let notifier = Notifier.make(workspace.config, logger: testLogger)
            let first = try DueRuns.run(workspace, notifier: notifier)
            #expect(first.outcomes.count == 1)
            let verified = try #require(first.verify?.report)
            #expect(verified.mode == "read-data" && verified.passed && verified.snapshots.count == 1)
            #expect(first.succeeded)

            clock.advance(3600)
            let second = try DueRuns.run(workspace, notifier: notifier)
            #expect(second.outcomes.count == 1)
            #expect(second.verify == nil, "verified twice in one slot")
            #expect(second.verifyDecision?.next == ISO8601.parse("2026-03-02T00:00:00Z"))

            // Damage the first archive: the next day's verification fails every snapshot built on it
            // (the two of the first day and that day's fresh incremental).
            guard case .local(let root) = try #require(workspace.config.repositories.first).location else { return }
            let first0 = try #require(try workspace.catalog.snapshots(source: "vol").first)
            let archive = try #require(try workspace.catalog.objects(of: first0.id).first { $0.role == "archive" })
            let path = "\(root)/objects/\(archive.object.stored.sha256.prefix(2))/\(archive.object.stored.sha256)"
            var bytes = try FileIO.read(path)
            bytes[bytes.count / 2] ^= 0x01
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
            try FileIO.atomicWrite(bytes, to: path)

            clock.set(try #require(ISO8601.parse("2026-03-02T00:05:00Z")))
            let nextDay = try DueRuns.run(workspace, notifier: notifier)
            let failed = try #require(nextDay.verify)
            #expect(failed.failed)
            #expect(!nextDay.succeeded)
            #expect(failed.report?.failed.count == 3)
            #expect(failed.report?.failed.map(\.id).contains(first0.id) == true)
            let received = try hook.received().filter { $0["event"] == "verify-failure" }
            #expect(received.count == 1)
            #expect(received.first?["text"]?.contains(String(first0.id.prefix(8))) == true, "\(received)")
            let metrics = try String(contentsOfFile: "\(dir)/drctl.prom", encoding: .utf8)
            #expect(metrics.contains("drctl_snapshots_failing_verification{source=\"vol\"} 3"), "\(metrics)")
        }
    }
}
