#if canImport(Glibc)
import Glibc
#endif
import DRCore
import Foundation
import Testing
import TestSupport

@Suite("drctl daemon reloads its config on SIGHUP")
struct DaemonReloadTests {
    /// Reads standard error until `text` appears (or the stream ends).
    func wait(for text: String, in pipe: Pipe, seen: inout String) -> Bool {
        while !seen.contains(text) {
            let chunk = pipe.fileHandleForReading.availableData
            if chunk.isEmpty { return false }
            seen += String(decoding: chunk, as: UTF8.self)
        }
        return true
    }

    @Test("a schedule added to the config runs after SIGHUP, without a restart", .timeLimit(.minutes(2)))
    func sighupReload() throws {
        try withTemporaryDirectory { dir in
            try makeVolume("\(dir)/vol")
            let unscheduled = "  - name: vol\n    kind: pvc-archive\n    path: \(dir)/vol\n"
            let workspace = try makeWorkspace(in: dir, sourcesYAML: unscheduled, encrypt: false)
            let config = workspace.config.file
            let process = Process()
            process.executableURL = URL(fileURLWithPath: try drctlExecutable())
            process.arguments = ["daemon", "-v", "--config", config]
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = FileHandle.nullDevice
            let stderr = Pipe()
            process.standardError = stderr
            try process.run()
            defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
            var seen = ""
            #expect(wait(for: "next run at never", in: stderr, seen: &seen), "\(seen)")

            let text = try String(contentsOfFile: config, encoding: .utf8)
                .replacingOccurrences(of: "    path: \(dir)/vol\n", with: "    path: \(dir)/vol\n    schedule: \"@hourly\"\n")
            try text.write(toFile: config, atomically: true, encoding: .utf8)
            kill(process.processIdentifier, SIGHUP)
            #expect(wait(for: "configuration reloaded", in: stderr, seen: &seen), "\(seen)")
            // The newly scheduled source never ran, so it is due at once.
            let deadline = ContinuousClock.now + .seconds(60)
            while try workspace.catalog.latestSnapshot(source: "vol") == nil && ContinuousClock.now < deadline {
                Thread.sleep(forTimeInterval: 0.05)
            }
            #expect(try workspace.catalog.latestSnapshot(source: "vol") != nil, "no snapshot after the reload: \(seen)")

            kill(process.processIdentifier, SIGTERM)
            _ = wait(for: "daemon stopping", in: stderr, seen: &seen)
            process.waitUntilExit()
            #expect(process.terminationStatus == 0)
        }
    }
}
