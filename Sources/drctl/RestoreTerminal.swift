import ArgumentParser
import DRCore
import Foundation
import Restore

#if canImport(Glibc)
import Glibc
#endif

/// Terminal side of `drctl restore`: prompts, Ctrl-C, live output, exit codes.
enum RestoreTerminal {
    /// `--yes`, else a prompt on a terminal, else a confirmer that fails at once.
    static func confirmer(yes: Bool) -> any Confirmer {
        if yes { return AssumeYes() }
        return isatty(STDIN_FILENO) != 0 && isatty(STDERR_FILENO) != 0 ? Prompt() : NoOperator()
    }

    /// Live output: standard output, or standard error when the result goes out as JSON.
    static func output(json: Bool) -> @Sendable (String) -> Void {
        { line in
            let handle = json ? FileHandle.standardError : FileHandle.standardOutput
            handle.write(Data((line + "\n").utf8))
        }
    }

    /// The first Ctrl-C asks the executor to stop before the next step; a second one aborts.
    static func stopOnInterrupt(
        _ flag: InterruptFlag, abortMessage: String = "aborted; the execution stays marked running (resume it with --resume)",
        onAbort: @escaping @Sendable () -> Void = {}
    ) -> any DispatchSourceSignal {
        signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler {
            if flag.isRaised {
                onAbort()
                Terminal.error(abortMessage)
                Foundation.exit(130)
            }
            flag.raise()
            Terminal.warning("stopping after the current step (Ctrl-C again to abort now)")
        }
        source.resume()
        return source
    }

    /// Exit 0 when the execution succeeded, 1 when a step failed, 130 when interrupted.
    static func exit(for result: ExecutionResult) throws {
        switch result.status {
        case .succeeded, .running:
            let failed = result.steps.filter { $0.status == .failed }.map(\.id)
            if !failed.isEmpty { Terminal.warning("steps failed and were passed over (on_failure: continue): \(failed.joined(separator: ", "))") }
        case .failed:
            throw DRError(.failed, "execution \(result.executionID.prefix(8)) of \(result.runbook) failed: \(result.error ?? "a step failed")",
                          hint: "fix the cause, then `drctl restore --resume \(result.executionID.prefix(8))`")
        case .interrupted:
            Terminal.warning("execution \(result.executionID.prefix(8)) interrupted; resume with `drctl restore --resume \(result.executionID.prefix(8))`")
            throw ExitCode(130)
        }
    }

    /// Asks on the terminal; only `yes` answers yes.
    struct Prompt: Confirmer {
        func confirm(_ question: String) throws -> Bool {
            FileHandle.standardError.write(Data("\(question) Type yes to continue: ".utf8))
            guard let answer = readLine() else {
                throw DRError(.refused, "no answer to: \(question)", hint: "pass --yes to answer every question yes")
            }
            return answer.trimmingCharacters(in: .whitespaces).lowercased() == "yes"
        }
    }
}

/// `drctl restore --list` and `--history`.
enum RestoreListing {
    struct RunbookEntry: Encodable {
        var name: String
        var title: String
        var origin: String
        var problem: String?
    }

    static func runbooks(config: DRConfig, json: Bool) throws {
        let entries = try RunbookLoader.list(config: config).map {
            RunbookEntry(name: $0.name, title: $0.title, origin: $0.origin, problem: $0.problem)
        }
        if json { return try Terminal.json(entries) }
        guard !entries.isEmpty else { return print("no runbooks") }
        Terminal.table(["NAME", "TITLE", "ORIGIN"], entries.map { [$0.name, $0.problem.map { "BROKEN: \($0)" } ?? $0.title, $0.origin] })
    }

    static func history(_ workspace: Workspace, json: Bool) throws {
        let executions = try workspace.catalog.executions()
        if json { return try Terminal.json(executions) }
        guard !executions.isEmpty else { return print("no executions yet") }
        Terminal.table(
            ["ID", "RUNBOOK", "MODE", "STATUS", "STARTED", "RTO"],
            executions.map { e in
                [e.shortID, e.runbook, e.mode.rawValue, e.status.rawValue, Terminal.time(e.startedAt),
                 e.rtoSeconds.map(PlanFormatter.duration) ?? "-"]
            })
    }
}
