#if canImport(Glibc)
import Glibc
#endif
import Foundation
import DRCore

/// `git daemon` serving the repositories of a folder on 127.0.0.1 for one test, like the
/// seed's `gitops-git-daemon`: only repositories holding `git-daemon-export-ok` are
/// served. Stopped by ``stop()`` (or when released), with SIGKILL after 10 minutes at
/// the latest even if the test process dies.
public final class GitDaemon: @unchecked Sendable {
    public let port: Int
    public let base: String
    private let process: Process
    private let pidFile: String
    private let lock = NSLock()
    private var stopped = false

    /// Starts the daemon and waits until it accepts connections.
    public init(base: String) throws {
        self.base = base
        port = try Self.freePort()
        pidFile = "\(base)/.git-daemon-\(port).pid"
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        process.arguments = ["-s", "KILL", "600", "git", "daemon", "--reuseaddr", "--informative-errors",
                             "--pid-file=\(pidFile)", "--base-path=\(base)", "--listen=127.0.0.1", "--port=\(port)", base]
        process.environment = ["PATH": "/usr/bin:/bin", "HOME": base]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = ContinuousClock.now + .seconds(20)
        while !Self.accepts(port) {
            guard ContinuousClock.now < deadline, process.isRunning else {
                stop()
                throw DRError(.unreachable, "git daemon on 127.0.0.1:\(port) did not start")
            }
            Thread.sleep(forTimeInterval: 0.02)
        }
    }

    deinit { stop() }

    /// `git://127.0.0.1:PORT/NAME`.
    public func url(_ name: String) -> String { "git://127.0.0.1:\(port)/\(name)" }

    /// Kills the daemon (the test runner's children may not act on SIGTERM).
    public func stop() {
        lock.lock()
        defer { lock.unlock() }
        guard !stopped else { return }
        stopped = true
        if let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
           let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
            kill(pid, SIGKILL)
        }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// A port nobody listens on right now (bound to port 0, read back, closed).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw DRError(.io, "socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw DRError(.io, "cannot find a free port on 127.0.0.1") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func accepts(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}
