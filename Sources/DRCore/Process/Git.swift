public import Logging

/// Runs the `git` binary with a clean, non-interactive environment.
public struct Git: Sendable {
    public let executable: String
    public let environment: Environment
    public let logger: Logger

    /// Finds `git` on the environment's PATH.
    public init(environment: Environment, logger: Logger) throws {
        executable = try environment.require("git", purpose: "back up and restore Git repositories")
        var env = environment
        // Never prompt (cron has no terminal), never inherit another repository's location.
        for name in ["GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY",
                     "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_NAMESPACE", "GIT_CEILING_DIRECTORIES"] {
            env[name] = nil
        }
        env["GIT_TERMINAL_PROMPT"] = "0"
        env["GIT_ASKPASS"] = "/bin/false"
        env["SSH_ASKPASS"] = "/bin/false"
        env["GIT_SSH_COMMAND"] = env["GIT_SSH_COMMAND"] ?? "ssh -o BatchMode=yes"
        env["LC_ALL"] = "C"
        self.environment = env
        self.logger = logger
    }

    /// Runs `git <arguments>` (in `directory` when given) and returns standard output.
    /// A non-zero exit throws a ``DRError`` quoting git's own message.
    @discardableResult
    public func run(
        _ arguments: [String], in directory: String? = nil, output: Command.Output = .capture(limit: 256 << 20),
        timeout: Duration? = nil, what: String? = nil
    ) throws -> String {
        let result = try runAllowingFailure(arguments, in: directory, output: output, timeout: timeout)
        guard result.succeeded else { throw failure(arguments, result, what: what) }
        return result.stdoutText
    }

    /// Runs git and returns the result whatever the exit status.
    public func runAllowingFailure(
        _ arguments: [String], in directory: String? = nil, output: Command.Output = .capture(limit: 256 << 20),
        timeout: Duration? = nil
    ) throws -> Command.Result {
        var full = arguments
        if let directory { full = ["-C", directory] + arguments }
        var command = Command(executable, full, environment: environment)
        command.output = output
        command.timeout = timeout
        logger.debug("git \(full.joined(separator: " "))")
        return try command.run()
    }

    /// The error for a failed git invocation: unreachable remotes get their own code.
    public func failure(_ arguments: [String], _ result: Command.Result, what: String?) -> DRError {
        let stderr = result.stderr.trimmingWhitespace()
        let action = what ?? "git \(arguments.first ?? "")"
        if result.timedOut {
            return DRError(.unreachable, "\(action) timed out", hint: "check that the remote is reachable")
        }
        let unreachableMarkers = [
            "Could not resolve host", "Connection refused", "unable to connect", "Connection timed out",
            "No route to host", "Network is unreachable", "does not appear to be a git repository",
            "Could not read from remote repository", "unable to look up", "repository not exported",
            "not found: did you run git update-server-info", "Temporary failure in name resolution",
        ]
        let lower = stderr.lowercased()
        let code: DRError.Code =
            unreachableMarkers.contains { lower.contains($0.lowercased()) } ? .unreachable : .failed
        let detail = stderr.isEmpty ? "exit status \(result.status)" : stderr.lastLines(6)
        return DRError(code, "\(action) failed: \(detail)")
    }
}

extension String {
    /// The string without leading and trailing whitespace and newlines.
    public func trimmingWhitespace() -> String {
        var scalars = Substring(self)
        while let first = scalars.first, first.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }

    /// The last `count` lines, for quoting tool output in errors.
    public func lastLines(_ count: Int) -> String {
        split(separator: "\n", omittingEmptySubsequences: true).suffix(count).joined(separator: "\n")
    }
}
