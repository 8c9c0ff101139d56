import DRCore
import Foundation
import Scheduler
import Snapshots
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// `run --due` over simulated time: the clock is injected, backups are real.
@Suite("run --due with an injected clock")
struct DueRunsTests {
    @Test("an hourly schedule over a simulated day runs once per hour, never twice for one slot")
    func hourlyDay() throws {
        try withTemporaryDirectory { dir in
            try makeVolume("\(dir)/vol")
            let clock = TestClock("2026-01-05T00:30:00Z")
            let workspace = try clockedWorkspace(dir, clock: clock, sources: volumeSource("vol", path: "\(dir)/vol"))
            var ran: [Date] = []
            let end = clock.now.addingTimeInterval(24 * 3600)
            while clock.now < end {
                let report = try DueRuns.run(workspace)
                #expect(report.succeeded)
                if !report.outcomes.isEmpty { ran.append(clock.now) }
                clock.advance(600)
            }
            // Never run at 00:30 → due at once; then at every full hour 01:00 … 24:00.
            #expect(ran.count == 25)
            #expect(ran.dropFirst().allSatisfy { Int($0.timeIntervalSince1970) % 3600 == 0 })
            #expect(try workspace.catalog.snapshots(source: "vol").count == 25)
            let plan = try DueRuns.plan(workspace, now: clock.now)
            #expect(plan.map(\.action) == [.notDue])
            #expect(plan.first?.next == ISO8601.parse("2026-01-06T01:00:00Z"))
        }
    }

    @Test("a machine off for a week runs each missed source once, not once per missed slot")
    func offForAWeek() throws {
        try withTemporaryDirectory { dir in
            try makeVolume("\(dir)/vol")
            try makeVolume("\(dir)/daily")
            let clock = TestClock("2026-03-01T10:00:00Z")
            let sources = volumeSource("vol", path: "\(dir)/vol")
                + volumeSource("daily", path: "\(dir)/daily", schedule: "30 2 * * *")
            let workspace = try clockedWorkspace(dir, clock: clock, sources: sources)
            #expect(try DueRuns.run(workspace).outcomes.count == 2)
            clock.advance(7 * 86_400 + 1234)
            let plan = try DueRuns.plan(workspace, now: clock.now)
            #expect(plan.allSatisfy { $0.action == .run })
            let report = try DueRuns.run(workspace)
            #expect(report.outcomes.map(\.source).sorted() == ["daily", "vol"])
            #expect(report.succeeded)
            #expect(try DueRuns.run(workspace).outcomes.isEmpty, "nothing is due right after the catch-up run")
            #expect(try workspace.catalog.snapshots().count == 4)
        }
    }

    @Test("starting_deadline skips a run that is too late, records it, and the next slot runs")
    func startingDeadline() throws {
        try withTemporaryDirectory { dir in
            try makeVolume("\(dir)/vol")
            let clock = TestClock("2026-04-01T03:10:00Z")
            let source = volumeSource("vol", path: "\(dir)/vol", schedule: "0 3 * * *", extra: "    starting_deadline: 1h\n")
            let workspace = try clockedWorkspace(dir, clock: clock, sources: source)
            #expect(try DueRuns.run(workspace).outcomes.count == 1)
            // Next day the machine comes up at 05:00: the 03:00 run is 2 h late.
            clock.set(try #require(ISO8601.parse("2026-04-02T05:00:00Z")))
            let late = try DueRuns.run(workspace)
            #expect(late.outcomes.isEmpty)
            #expect(late.decisions.map(\.action) == [.skipLate])
            #expect(late.decisions.first?.lateSeconds == 7200)
            let status = try SourceStatus.compute(workspace, now: clock.now)
            #expect(status.first?.lastSkipped?.slot == ISO8601.parse("2026-04-02T03:00:00Z"))
            clock.set(try #require(ISO8601.parse("2026-04-03T03:20:00Z")))
            #expect(try DueRuns.run(workspace).outcomes.count == 1)
            #expect(try workspace.catalog.snapshots().count == 2)
        }
    }

    @Test("one failing source does not stop the others; it stays due, the others do not")
    func failureIsolation() throws {
        try withTemporaryDirectory { dir in
            try makeVolume("\(dir)/good")
            try makeVolume("\(dir)/bad")
            let clock = TestClock("2026-05-01T12:00:00Z")
            let sources = volumeSource("bad", path: "\(dir)/bad", extra: "    hooks:\n      pre:\n        - \"exit 3\"\n")
                + volumeSource("good", path: "\(dir)/good")
            let workspace = try clockedWorkspace(dir, clock: clock, sources: sources)
            let report = try DueRuns.run(workspace)
            #expect(!report.succeeded)
            #expect(report.outcomes.map(\.succeeded) == [false, true])
            clock.advance(60)
            let plan = try DueRuns.plan(workspace, now: clock.now)
            #expect(plan.map(\.action) == [.run, .notDue])
            let history = try SourceHistory.load(workspace, sources: ["bad", "good"])
            #expect(history["bad"]?.failures == 1)
            #expect(history["bad"]?.lastError?.isEmpty == false)
            #expect(history["good"]?.lastSuccess == ISO8601.parse("2026-05-01T12:00:00Z"))
        }
    }

    @Test("a held lock makes run --due skip and name the holder; once free it runs")
    func lockSkip() throws {
        try withTemporaryDirectory { dir in
            try makeVolume("\(dir)/vol")
            let clock = TestClock("2026-05-01T12:00:00Z")
            let workspace = try clockedWorkspace(dir, clock: clock, sources: volumeSource("vol", path: "\(dir)/vol"))
            guard case .acquired(let lock) = try RunLock.acquire(dataDir: workspace.config.dataDir, wait: false) else {
                Issue.record("the lock should be free")
                return
            }
            #expect(RunLock.holder(dataDir: workspace.config.dataDir) == getpid())
            let skipped = try DueRuns.run(workspace)
            #expect(skipped.skippedLocked)
            #expect(skipped.lockedBy == getpid())
            #expect(skipped.outcomes.isEmpty)
            lock.release()
            #expect(try DueRuns.run(workspace).outcomes.count == 1)
        }
    }

    @Test("--dry-run plans without running or locking")
    func dryRun() throws {
        try withTemporaryDirectory { dir in
            try makeVolume("\(dir)/vol")
            let clock = TestClock("2026-05-01T12:00:00Z")
            let workspace = try clockedWorkspace(dir, clock: clock, sources: volumeSource("vol", path: "\(dir)/vol"))
            let report = try DueRuns.run(workspace, dryRun: true)
            #expect(report.decisions.map(\.action) == [.run])
            #expect(report.outcomes.isEmpty)
            #expect(try workspace.catalog.snapshots().isEmpty)
        }
    }

    @Test("the daemon with an injected clock and sleeper runs due work at each fire time, then stops")
    func daemonSimulated() throws {
        try withTemporaryDirectory { dir in
            try makeVolume("\(dir)/vol")
            let clock = TestClock("2026-06-01T00:15:00Z")
            let workspace = try clockedWorkspace(dir, clock: clock, sources: volumeSource("vol", path: "\(dir)/vol"))
            let control = DaemonControl()
            var wakes: [Date] = []
            let daemon = Daemon(open: { workspace }, control: control, logger: testLogger) { date in
                wakes.append(date)
                clock.set(date)
                if wakes.count == 5 { control.requestStop() }
                return .deadline
            }
            let reports = try daemon.run()
            #expect(wakes.first == ISO8601.parse("2026-06-01T01:00:00Z"))
            #expect(wakes.count == 5)
            // The start plus four hourly wakes ran; the fifth wake saw the stop request.
            #expect(reports.count == 5)
            #expect(reports.allSatisfy { $0.outcomes.count == 1 && $0.succeeded })
            #expect(try workspace.catalog.snapshots().count == 5)
        }
    }

    @Test("a reload request re-opens the workspace before the next pass")
    func daemonReload() throws {
        try withTemporaryDirectory { dir in
            try makeVolume("\(dir)/vol")
            let clock = TestClock("2026-06-01T00:15:00Z")
            let workspace = try clockedWorkspace(dir, clock: clock, sources: volumeSource("vol", path: "\(dir)/vol"))
            let control = DaemonControl()
            var opens = 0
            var wakes = 0
            let daemon = Daemon(open: { opens += 1; return workspace }, control: control, logger: testLogger) { date in
                wakes += 1
                if wakes == 1 {
                    control.requestReload()
                    return .reload
                }
                clock.set(date)
                control.requestStop()
                return .deadline
            }
            try daemon.run()
            #expect(opens == 2)
            #expect(!control.takeReload(), "the request was consumed")
        }
    }

    @Test("a waiting lock is granted when the holder releases it")
    func lockWait() throws {
        try withTemporaryDirectory { dir in
            guard case .acquired(let first) = try RunLock.acquire(dataDir: dir, wait: false) else {
                Issue.record("the lock should be free")
                return
            }
            guard case .busy = try RunLock.acquire(dataDir: dir, wait: false) else {
                Issue.record("a second acquisition must see the lock busy")
                return
            }
            let granted = DispatchSemaphore(value: 0)
            let thread = Thread {
                if case .acquired(let second) = try? RunLock.acquire(dataDir: dir, wait: true) {
                    granted.signal()
                    second.release()
                }
            }
            thread.start()
            #expect(granted.wait(timeout: .now() + 0.3) == .timedOut, "still held")
            first.release()
            #expect(granted.wait(timeout: .now() + 10) == .success)
        }
    }

    @Test("metrics render with HELP and TYPE lines and the failure counter")
    func metricsRender() throws {
        var history = SourceHistory(source: "vol")
        history.failures = 2
        history.lastSuccess = Date(timeIntervalSince1970: 1_700_000_000)
        history.recoveryPoint = Date(timeIntervalSince1970: 1_700_000_000)
        let text = Metrics.render([history], now: Date(timeIntervalSince1970: 1_700_000_060))
        #expect(text.contains("# TYPE drctl_backup_failures_total counter\n"))
        #expect(text.contains("drctl_backup_failures_total{source=\"vol\"} 2\n"))
        #expect(text.contains("drctl_rpo_seconds{source=\"vol\"} 60\n"))
        #expect(text.contains("drctl_backup_last_success_timestamp_seconds{source=\"vol\"} 1700000000\n"))
        #expect(!text.contains("drctl_backup_bytes{"), "no value yet: no series")
    }
}
