import DRCore
internal import Logging

/// Runs a source's `hooks:` with `/bin/sh -c` in the volume folder.
struct HookRunner {
    let source: String
    let volume: String
    let environment: Environment
    let logger: Logger

    /// Runs the pre-hooks in order; the first failure stops them and throws.
    func runPre(_ hooks: [PVCArchiveSourceConfig.HookCommand]) throws {
        for (index, hook) in hooks.enumerated() {
            if let failure = try run(hook, phase: "pre", index: index) {
                throw DRError(.failed, "source \(source): pre-hook \(index + 1) failed, so no snapshot was taken: \(failure)",
                              hint: "the hook was: \(hook.run)")
            }
        }
    }

    /// Runs every post-hook, whatever happened; returns the failures (logged, not thrown).
    func runPost(_ hooks: [PVCArchiveSourceConfig.HookCommand]) -> [String] {
        var failures: [String] = []
        for (index, hook) in hooks.enumerated() {
            do {
                if let failure = try run(hook, phase: "post", index: index) {
                    failures.append("post-hook \(index + 1): \(failure)")
                }
            } catch {
                failures.append("post-hook \(index + 1): \(DRError.describe(error))")
            }
        }
        for failure in failures { logger.warning("source \(source): \(failure)") }
        return failures
    }

    private func run(_ hook: PVCArchiveSourceConfig.HookCommand, phase: String, index: Int) throws -> String? {
        var env = environment
        env["DRCTL_SOURCE"] = source
        env["DRCTL_VOLUME"] = volume
        env["DRCTL_HOOK"] = phase
        var command = Command("/bin/sh", ["-c", hook.run], environment: env)
        command.workingDirectory = volume
        command.output = .capture(limit: 1 << 20)
        command.timeout = .seconds(hook.timeoutSeconds)
        logger.info("source \(source): running \(phase)-hook \(index + 1)")
        let result = try command.run()
        if result.timedOut { return "timed out after \(hook.timeoutSeconds)s" }
        guard result.succeeded else {
            let detail = result.stderr.trimmingWhitespace().lastLines(5)
            return "exit status \(result.status)" + (detail.isEmpty ? "" : ": \(detail)")
        }
        return nil
    }
}
