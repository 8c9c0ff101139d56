import DRCore
import Foundation
import Scheduler
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// A settable clock for simulated time.
final class TestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var current: Date

    init(_ iso: String) {
        current = ISO8601.parse(iso) ?? Date(timeIntervalSince1970: 0)
    }

    var now: Date {
        lock.lock()
        defer { lock.unlock() }
        return current
    }

    func set(_ date: Date) {
        lock.lock()
        current = date
        lock.unlock()
    }

    func advance(_ seconds: TimeInterval) { set(now.addingTimeInterval(seconds)) }
}

/// A small volume folder to back up.
func makeVolume(_ path: String) throws {
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    try "hello\n".write(toFile: "\(path)/file.txt", atomically: true, encoding: .utf8)
}

/// YAML for one pvc-archive source.
func volumeSource(_ name: String, path: String, schedule: String = "@hourly", extra: String = "") -> String {
    "  - name: \(name)\n    kind: pvc-archive\n    path: \(path)\n    schedule: \"\(schedule)\"\n" + extra
}

/// A workspace in `dir` whose clock is `clock`.
func clockedWorkspace(_ dir: String, clock: TestClock, sources: String, top: String = "") throws -> Workspace {
    let base = try makeWorkspace(in: dir, sourcesYAML: sources, encrypt: false, topLevelYAML: top)
    return try Workspace.open(config: base.config, environment: .current, logger: testLogger, now: { clock.now })
}

/// Runs `drctl run --due` (or any arguments) through the binary.
func drctl(_ arguments: [String]) throws -> Command.Result {
    try runDrctl(arguments)
}

/// Every attempt of runs 1...`upTo` (the catalog numbers runs from 1).
func allAttempts(_ catalog: Catalog, upTo: Int64 = 50) throws -> [AttemptRecord] {
    try (1...upTo).flatMap { try catalog.attempts(run: $0) }
}

/// A python3 HTTP server on loopback that appends every POST body (one per line) to a file.
final class WebhookServer {
    let process = Process()
    let bodies: String
    let port: Int

    init(_ dir: String, status: Int = 200) throws {
        bodies = "\(dir)/bodies.jsonl"
        let script = """
            import http.server, sys
            class H(http.server.BaseHTTPRequestHandler):
                def do_POST(self):
                    n = int(self.headers.get('Content-Length', 0))
                    body = self.rfile.read(n)
                    with open(sys.argv[1], 'ab') as f:
                        f.write(body + b"\\n")
                    self.send_response(\(status))
                    self.end_headers()
                    self.wfile.write(b"ok")
                def log_message(self, *args):
                    pass
            s = http.server.HTTPServer(('127.0.0.1', 0), H)
            with open(sys.argv[2] + '.tmp', 'w') as f:
                f.write(str(s.server_address[1]))
            import os
            os.rename(sys.argv[2] + '.tmp', sys.argv[2])
            s.serve_forever()
            """
        try script.write(toFile: "\(dir)/server.py", atomically: true, encoding: .utf8)
        let portFile = "\(dir)/port"
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "\(dir)/server.py", bodies, portFile]
        try process.run()
        var found: Int?
        for _ in 0..<100 {
            if let text = try? String(contentsOfFile: portFile, encoding: .utf8), let value = Int(text) {
                found = value
                break
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        guard let found else {
            kill(process.processIdentifier, SIGKILL)
            throw DRError(.failed, "the test webhook server did not start")
        }
        port = found
    }

    var url: String { "http://127.0.0.1:\(port)/hook" }

    /// The JSON bodies received so far.
    func received() throws -> [[String: String]] {
        guard let text = try? String(contentsOfFile: bodies, encoding: .utf8) else { return [] }
        return try text.split(separator: "\n").map { line in
            (try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String]) ?? [:]
        }
    }

    /// SIGKILL: the test runner's blocked signal mask is inherited, so SIGTERM may never arrive.
    func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

/// Results gathered from concurrent work.
final class Collected: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [Command.Result] = []
    private var failures: [String] = []

    func add(_ result: Command.Result) {
        lock.lock()
        results.append(result)
        lock.unlock()
    }

    func fail(_ message: String) {
        lock.lock()
        failures.append(message)
        lock.unlock()
    }

    var values: ([Command.Result], [String]) {
        lock.lock()
        defer { lock.unlock() }
        return (results, failures)
    }
}
