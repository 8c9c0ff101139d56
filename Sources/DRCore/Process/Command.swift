#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
public import Foundation
internal import CDRSystem

/// A child process to run: no shell, explicit arguments, bounded output capture.
///
/// ```swift
/// let result = try Command("/usr/bin/git", ["-C", repo, "for-each-ref"]).run()
/// ```
public struct Command: Sendable {
    /// Where the child's standard input comes from.
    public enum Input: Sendable {
        case null
        case bytes([UInt8])
        case file(String)
    }

    /// Where the child's standard output goes.
    public enum Output: Sendable {
        /// Captured in memory, up to `limit` bytes (more is an error).
        case capture(limit: Int)
        case file(String)
        case discard
    }

    public var executable: String
    public var arguments: [String]
    public var workingDirectory: String?
    public var environment: Environment
    public var input: Input = .null
    public var output: Output = .capture(limit: 64 << 20)
    /// Killed (whole process group, TERM then KILL) when it runs longer than this.
    public var timeout: Duration?

    public init(_ executable: String, _ arguments: [String], environment: Environment = .current) {
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
    }

    /// What a finished child left behind.
    public struct Result: Sendable {
        /// The exit status, or 128 + signal number when killed by a signal.
        public var status: Int32
        public var stdout: [UInt8]
        /// The last 16 KiB of standard error.
        public var stderr: String
        public var timedOut: Bool
        public var succeeded: Bool { status == 0 && !timedOut }
        public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    }

    /// Runs the command to completion. Throws only when it cannot be started or
    /// its output exceeds the capture limit; a non-zero exit is reported in the result.
    public func run() throws -> Result {
        Self.ignoreSIGPIPE
        var stdinPipe: [Int32] = [-1, -1]
        var stdoutPipe: [Int32] = [-1, -1]
        var stderrPipe: [Int32] = [-1, -1]
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var toClose: [Int32] = []
        defer { for fd in toClose where fd >= 0 { close(fd) } }

        func makePipe(_ fds: inout [Int32]) throws {
            guard drctl_pipe_cloexec(&fds) == 0 else {
                throw DRError(.io, "cannot create a pipe for \(executable)", cause: POSIXError.current)
            }
            toClose.append(contentsOf: fds)
        }

        switch input {
        case .null:
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        case .file(let path):
            posix_spawn_file_actions_addopen(&actions, 0, path, O_RDONLY, 0)
        case .bytes:
            try makePipe(&stdinPipe)
            posix_spawn_file_actions_adddup2(&actions, stdinPipe[0], 0)
        }
        switch output {
        case .capture:
            try makePipe(&stdoutPipe)
            posix_spawn_file_actions_adddup2(&actions, stdoutPipe[1], 1)
        case .file(let path):
            posix_spawn_file_actions_addopen(&actions, 1, path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        case .discard:
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        }
        try makePipe(&stderrPipe)
        posix_spawn_file_actions_adddup2(&actions, stderrPipe[1], 2)
        if let workingDirectory {
            drctl_spawn_add_chdir(&actions, workingDirectory)
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaultSignals = sigset_t()
        sigemptyset(&defaultSignals)
        sigaddset(&defaultSignals, SIGPIPE)
        sigaddset(&defaultSignals, SIGINT)
        sigaddset(&defaultSignals, SIGTERM)
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigdefault(&attributes, &defaultSignals)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(
            &attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP))

        var argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var envp: [UnsafeMutablePointer<CChar>?] = environment.variables.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { envp.forEach { free($0) } }

        var pid: pid_t = 0
        let spawnResult = posix_spawn(&pid, executable, &actions, &attributes, &argv, &envp)
        guard spawnResult == 0 else {
            throw DRError(
                spawnResult == ENOENT ? .missingTool : .io,
                "cannot start \(executable)", cause: POSIXError(POSIXErrorCode(rawValue: spawnResult) ?? .EIO))
        }
        // Close the child's ends in the parent.
        for fd in [stdinPipe[0], stdoutPipe[1], stderrPipe[1]] where fd >= 0 { close(fd) }
        toClose.removeAll { [stdinPipe[0], stdoutPipe[1], stderrPipe[1]].contains($0) }

        var pending: [UInt8] = []
        if case .bytes(let bytes) = input { pending = bytes }
        var stdinFD = stdinPipe[1]
        if stdinFD >= 0, pending.isEmpty { close(stdinFD); toClose.removeAll { $0 == stdinFD }; stdinFD = -1 }
        if stdinFD >= 0 { _ = fcntl(stdinFD, F_SETFL, fcntl(stdinFD, F_GETFL) | O_NONBLOCK) }
        var written = 0
        var out: [UInt8] = []
        var err: [UInt8] = []
        var outFD = stdoutPipe[0]
        var errFD = stderrPipe[0]
        var overflow = false
        let captureLimit: Int = if case .capture(let limit) = output { limit } else { 0 }
        let deadline = timeout.map { ContinuousClock.now + $0 }
        var timedOut = false
        var buffer = [UInt8](repeating: 0, count: 65536)

        while outFD >= 0 || errFD >= 0 || stdinFD >= 0 {
            var fds: [pollfd] = []
            if outFD >= 0 { fds.append(pollfd(fd: outFD, events: Int16(POLLIN), revents: 0)) }
            if errFD >= 0 { fds.append(pollfd(fd: errFD, events: Int16(POLLIN), revents: 0)) }
            if stdinFD >= 0 { fds.append(pollfd(fd: stdinFD, events: Int16(POLLOUT), revents: 0)) }
            var waitMS: Int32 = -1
            if let deadline {
                let left = deadline - ContinuousClock.now
                if left <= .zero { timedOut = true; break }
                let (seconds, attos) = left.components
                waitMS = Int32(clamping: seconds * 1000 + attos / 1_000_000_000_000_000 + 1)
            }
            let ready = poll(&fds, nfds_t(fds.count), waitMS)
            if ready < 0 { if errno == EINTR { continue }; break }
            for entry in fds where entry.revents != 0 {
                if entry.fd == stdinFD {
                    let n = pending[written...].withUnsafeBytes { raw in
                        Glibc.write(stdinFD, raw.baseAddress, raw.count)
                    }
                    if n > 0 { written += n }
                    if n < 0 && errno != EAGAIN && errno != EINTR || written == pending.count {
                        close(stdinFD); toClose.removeAll { $0 == stdinFD }; stdinFD = -1
                    }
                    continue
                }
                let n = buffer.withUnsafeMutableBytes { Glibc.read(entry.fd, $0.baseAddress, $0.count) }
                if n > 0 {
                    if entry.fd == outFD {
                        if out.count + n > captureLimit { overflow = true } else { out.append(contentsOf: buffer[0..<n]) }
                    } else {
                        err.append(contentsOf: buffer[0..<n])
                        if err.count > 32768 { err.removeFirst(err.count - 16384) }
                    }
                } else if n == 0 || (errno != EINTR && errno != EAGAIN) {
                    if entry.fd == outFD { close(outFD); toClose.removeAll { $0 == outFD }; outFD = -1 }
                    else { close(errFD); toClose.removeAll { $0 == errFD }; errFD = -1 }
                }
            }
            if overflow { break }
        }
        if timedOut || overflow {
            kill(-pid, SIGTERM)
            var waited = 0
            while waited < 50, waitpid(pid, nil, WNOHANG) == 0 { usleep(20_000); waited += 1 }
            kill(-pid, SIGKILL)
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let code: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        if overflow {
            throw DRError(.failed, "\(executable) printed more than \(captureLimit) bytes; output was cut off and the command stopped")
        }
        let errText = String(decoding: err.suffix(16384), as: UTF8.self)
        return Result(status: code, stdout: out, stderr: errText, timedOut: timedOut)
    }
}

extension Command {
    /// A write to the pipe of a child that already exited must fail with EPIPE, not kill
    /// drctl: SIGPIPE is ignored once, process-wide. Children get the default disposition
    /// back through `POSIX_SPAWN_SETSIGDEF`.
    private static let ignoreSIGPIPE: Void = { _ = signal(SIGPIPE, SIG_IGN) }()
}

extension POSIXError {
    /// The error for the current `errno`.
    public static var current: POSIXError { POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
}
