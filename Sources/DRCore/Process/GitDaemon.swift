#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// `git daemon` serving the repositories of a folder read-only on 127.0.0.1 and a free
/// port: the drill's clone check, and the tests' stand-in for the in-cluster git daemon.
/// Without `exportAll`, only repositories holding `git-daemon-export-ok` are served, as
/// the seed's `gitops-git-daemon` does. Stopped by ``stop()`` or when released.
public final class GitDaemon: @unchecked Sendable {
    public let port: Int
    public let base: String
    private let process: Process
    private let pidFile: String
    private let lock = NSLock()
    private var stopped = false

    /// Starts the daemon and waits until it accepts connections (at most 20 s).
    /// `killAfter` bounds its life (through `timeout -s KILL`) even if this process dies.
    public init(base: String, git: String, exportAll: Bool = false, killAfter: Duration? = nil) throws {
        self.base = base
        port = try Self.freePort()
        pidFile = "\(base)/.git-daemon-\(port).pid"
        var arguments = ["daemon", "--reuseaddr", "--informative-errors", "--pid-file=\(pidFile)", "--base-path=\(base)",
                         "--listen=127.0.0.1", "--port=\(port)"]
        if exportAll { arguments.append("--export-all") }
        arguments.append(base)
        process = Process()
        if let killAfter {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
            process.arguments = ["-s", "KILL", String(killAfter.components.seconds), git] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: git)
            process.arguments = arguments
        }
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

    /// Kills the daemon and its `git-daemon` child with SIGKILL (a test runner's children may
    /// ignore SIGTERM) and waits for it.
    public func stop() {
        lock.lock()
        defer { lock.unlock() }
        guard !stopped else { return }
        stopped = true
        if let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
           let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0 {
            kill(pid, SIGKILL)
        }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// A port nobody listens on right now (bound to port 0, read back, closed).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw DRError(.io, "cannot open a socket to find a free port on 127.0.0.1") }
        defer { close(fd) }
        var address = loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw DRError(.io, "cannot find a free port on 127.0.0.1") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Whether something accepts connections on 127.0.0.1:`port`.
    static func accepts(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = loopback(port: port)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return address
    }
}
