import DRCore
import Foundation
import Scheduler
import Testing
import TestSupport

/// Webhook notifications against a real HTTP server on loopback.
@Suite("notifications", .serialized)
struct NotifierTests {
    @Test("a notification POSTs JSON with text, event, source and error")
    func postsBody() throws {
        try withTemporaryDirectory { dir in
            let server = try WebhookServer(dir)
            defer { server.stop() }
            let notifier = Notifier(config: NotifyConfig(webhook: server.url), logger: testLogger)
            #expect(notifier.notify(.drillFailure, source: "gitops", error: "boom \"quoted\"", text: "drill of gitops failed"))
            let bodies = try server.received()
            #expect(bodies == [["text": "drill of gitops failed", "event": "drill-failure", "source": "gitops", "error": "boom \"quoted\""]])
        }
    }

    @Test("events not listed under `on:` are not sent")
    func filtersEvents() throws {
        try withTemporaryDirectory { dir in
            let server = try WebhookServer(dir)
            defer { server.stop() }
            let notifier = Notifier(config: NotifyConfig(webhook: server.url, on: [.failure]), logger: testLogger)
            #expect(notifier.notify(.rpoBreach, source: "vol", error: nil, text: "breach"))
            #expect(try server.received().isEmpty)
        }
    }

    @Test("a failed source and an RPO breach after run --due are notified; the run result is unchanged")
    func afterRun() throws {
        try withTemporaryDirectory { dir in
            let server = try WebhookServer(dir)
            defer { server.stop() }
            try makeVolume("\(dir)/bad")
            let clock = TestClock("2026-07-01T08:00:00Z")
            let sources = volumeSource("bad", path: "\(dir)/bad", extra: "    rpo_target: 1h\n    hooks:\n      pre:\n        - \"exit 2\"\n")
            let workspace = try clockedWorkspace(
                dir, clock: clock, sources: sources, top: "notify:\n  webhook: \(server.url)\n  on: [failure, rpo-breach]\n")
            let report = try DueRuns.run(workspace, notifier: Notifier.make(workspace.config, logger: testLogger))
            #expect(!report.succeeded)
            let bodies = try server.received()
            #expect(bodies.map { $0["event"] } == ["failure", "rpo-breach"])
            #expect(bodies.first?["source"] == "bad")
            #expect(bodies.first?["error"]?.isEmpty == false)
            #expect(bodies.first?["text"]?.contains("bad") == true)
        }
    }

    @Test("an unreachable webhook is retried, logged, and never throws")
    func unreachable() throws {
        try withTemporaryDirectory { dir in
            try makeVolume("\(dir)/bad")
            let clock = TestClock("2026-07-01T08:00:00Z")
            let sources = volumeSource("bad", path: "\(dir)/bad", extra: "    hooks:\n      pre:\n        - \"exit 2\"\n")
            let workspace = try clockedWorkspace(dir, clock: clock, sources: sources, top: "notify:\n  webhook: http://127.0.0.1:9/\n")
            let notifier = Notifier(
                config: try #require(workspace.config.notify), logger: testLogger, timeoutSeconds: 2, retries: 2,
                retryDelaySeconds: 0.05)
            let started = Date()
            #expect(!notifier.notify(.failure, source: "bad", error: "x", text: "x"))
            #expect(Date().timeIntervalSince(started) < 10)
            let report = try DueRuns.run(workspace, notifier: notifier)
            #expect(report.outcomes.count == 1)
        }
    }
}
