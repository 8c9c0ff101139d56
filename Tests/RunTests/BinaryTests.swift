import DRCore
import Foundation
import Scheduler
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// `drctl run`, `status` and `daemon` through the built binary, with the real clock.
@Suite("scheduling commands through the binary", .serialized)
struct BinaryTests {
    /// Two concurrent `drctl run --due` on one data folder, with `on_locked` skip or wait.
    @Test("two concurrent run --due processes back each source up once", arguments: ["skip", "wait"])
    func concurrentRuns(policy: String) throws {
        try withTemporaryDirectory { dir in
            try makeVolume("\(dir)/a")
            try makeVolume("\(dir)/b")
            let hook = "    hooks:\n      pre:\n        - \"sleep 1\"\n"
            let workspace = try makeWorkspace(
                in: dir, sourcesYAML: volumeSource("a", path: "\(dir)/a", extra: hook) + volumeSource("b", path: "\(dir)/b", extra: hook),
                encrypt: false, topLevelYAML: "on_locked: \(policy)\n")
            let config = workspace.config.file
            let collected = Collected()
            DispatchQueue.concurrentPerform(iterations: 2) { _ in
                do {
                    collected.add(try drctl(["run", "--due", "--json", "--config", config]))
                } catch {
                    collected.fail("\(error)")
                }
            }
            let (results, failures) = collected.values
            #expect(failures.isEmpty)
            #expect(results.count == 2)
            for result in results {
                #expect(result.status == 0, "\(result.stderr)")
                #expect(result.stdoutText.contains("\"succeeded\" : true"), "\(result.stdoutText)")
            }
            for source in ["a", "b"] {
                #expect(try workspace.catalog.snapshots(source: source).count == 1, "\(source) backed up once")
            }
            let attempts = try allAttempts(workspace.catalog)
            #expect(attempts.count == 2)
            #expect(attempts.allSatisfy { $0.status == .succeeded && $0.snapshotID != nil })
            #expect(try workspace.catalog.integrityProblems().isEmpty)
            let outputs = results.map(\.stdoutText)
            if policy == "skip" {
                #expect(outputs.contains { $0.contains("\"skippedLocked\" : true") }, "\(outputs)")
            }
        }
    }

    @Test("status exits 1 while an rpo_target is breached and 0 once it holds; JSON lists each source")
    func statusExitCodes() throws {
        try withTemporaryDirectory { dir in
            try makeVolume("\(dir)/vol")
            let workspace = try makeWorkspace(
                in: dir, sourcesYAML: volumeSource("vol", path: "\(dir)/vol", extra: "    rpo_target: 1h\n"), encrypt: false)
            let config = workspace.config.file
            let before = try drctl(["status", "--config", config])
            #expect(before.status == 1, "\(before.stdoutText) \(before.stderr)")
            #expect(before.stdoutText.contains("BREACHED"))
            #expect(!before.stdoutText.contains("\u{1B}["), "no colour when not on a terminal")
            let run = try drctl(["run", "--due", "--config", config])
            #expect(run.status == 0, "\(run.stderr)")
            let after = try drctl(["status", "--json", "--config", config])
            #expect(after.status == 0, "\(after.stderr)")
            let rows = try #require(try JSONSerialization.jsonObject(with: Data(after.stdout)) as? [[String: Any]])
            #expect(rows.count == 1)
            #expect(rows.first?["breached"] as? Bool == false)
            #expect(rows.first?["rpoTargetSeconds"] as? Int == 3600)
            #expect(rows.first?["nextRun"] is String)
            let dry = try drctl(["run", "--due", "--dry-run", "--config", config])
            #expect(dry.status == 0)
            #expect(dry.stdoutText.contains("vol: not due"), "\(dry.stdoutText)")
            let missing = try drctl(["run", "--config", config])
            #expect(missing.status != 0)
        }
    }

    @Test("backup and run --due write a Prometheus textfile that promtool accepts")
    func metricsFile() throws {
        try withTemporaryDirectory { dir in
            try makeVolume("\(dir)/vol")
            try makeVolume("\(dir)/bad")
            let sources = volumeSource("vol", path: "\(dir)/vol", extra: "    rpo_target: 1d\n")
                + volumeSource("bad", path: "\(dir)/bad", extra: "    hooks:\n      pre:\n        - \"exit 1\"\n")
            let workspace = try makeWorkspace(in: dir, sourcesYAML: sources, encrypt: false, topLevelYAML: "metrics_file: \(dir)/drctl.prom\n")
            let config = workspace.config.file
            let backup = try drctl(["backup", "--config", config])
            #expect(backup.status != 0, "one source fails")
            let text = try String(contentsOfFile: "\(dir)/drctl.prom", encoding: .utf8)
            for name in ["drctl_backup_last_success_timestamp_seconds", "drctl_backup_duration_seconds", "drctl_backup_bytes",
                         "drctl_backup_failures_total", "drctl_snapshot_verified_timestamp_seconds", "drctl_rpo_seconds"] {
                #expect(text.contains("# HELP \(name) ") && text.contains("# TYPE \(name) "), "\(name)")
            }
            #expect(text.contains("drctl_backup_failures_total{source=\"bad\"} 1\n"))
            #expect(text.contains("drctl_backup_last_success_timestamp_seconds{source=\"vol\"} "))
            _ = try drctl(["run", "--due", "--config", config])
            let after = try String(contentsOfFile: "\(dir)/drctl.prom", encoding: .utf8)
            #expect(after.contains("drctl_backup_failures_total{source=\"bad\"} 2\n"), "\(after)")
            #expect(!FileManager.default.fileExists(atPath: "\(dir)/drctl.prom.tmp"))

            guard let promtool = Environment.current.which("promtool") else {
                if Environment.current["CI"] != nil {
                    Issue.record("promtool is required when CI is set (Debian package `prometheus`)")
                } else {
                    print("note: promtool not installed (Debian package `prometheus`); skipping `promtool check metrics`")
                }
                return
            }
            var check = Command(promtool, ["check", "metrics"])
            check.input = .file("\(dir)/drctl.prom")
            let result = try check.run()
            #expect(result.status == 0, "promtool: \(result.stdoutText) \(result.stderr)")
        }
    }

    @Test("SIGTERM during a daemon run: the snapshot finishes, the daemon exits 0, nothing is left running")
    func daemonSIGTERM() throws {
        try withTemporaryDirectory { dir in
            try makeVolume("\(dir)/vol")
            let hook = "    hooks:\n      pre:\n        - \"touch \(dir)/started; sleep 2\"\n"
            let workspace = try makeWorkspace(in: dir, sourcesYAML: volumeSource("vol", path: "\(dir)/vol", extra: hook), encrypt: false)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: try drctlExecutable())
            process.arguments = ["daemon", "--config", workspace.config.file]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle(forWritingAtPath: "/dev/null")
            try process.run()
            var started = false
            for _ in 0..<200 {
                if FileManager.default.fileExists(atPath: "\(dir)/started") {
                    started = true
                    break
                }
                Thread.sleep(forTimeInterval: 0.05)
            }
            #expect(started, "the pre-hook ran")
            kill(process.processIdentifier, SIGTERM)
            let deadline = Date().addingTimeInterval(30)
            while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
            if process.isRunning {
                process.terminate()
                Issue.record("the daemon did not exit after SIGTERM")
                return
            }
            #expect(process.terminationReason == .exit)
            #expect(process.terminationStatus == 0)
            #expect(try workspace.catalog.snapshots(source: "vol").count == 1, "the run in progress finished")
            let attempts = try allAttempts(workspace.catalog)
            #expect(attempts.count == 1)
            #expect(attempts.allSatisfy { $0.status == .succeeded })
            #expect(FileIO.list(workspace.tmpDir).isEmpty, "no scratch left behind")
        }
    }
}
