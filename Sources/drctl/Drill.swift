import ArgumentParser
import DRCore
import Foundation
import Restore

/// `drctl drill`: `run` (the default) and `report`.
struct DrillCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drill", abstract: "Rehearse a recovery runbook in a sandbox and measure it.",
        subcommands: [DrillRunCommand.self, DrillReportCommand.self], defaultSubcommand: DrillRunCommand.self)
}

/// `drctl drill run RUNBOOK`: thin over ``Drill``.
struct DrillRunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Rehearse a runbook in drill mode: sandboxed, verified, measured, journaled.",
        discussion: "Exit 0 for SUCCESS, 0 with a WARNINGS line for WARNINGS, 1 for FAILED (docs/CLI.md).")

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("The runbook to rehearse.", valueName: "runbook"))
    var runbook: String

    @Option(help: ArgumentHelp("Bind snapshots taken at or before this time (ISO 8601; default now).", valueName: "time"))
    var at: String?

    @Flag(help: "Print the drill report as JSON.")
    var json = false

    @Flag(name: .customLong("keep-sandbox"), help: "Keep the sandbox folder for debugging.")
    var keepSandbox = false

    @Flag(help: "Answer every confirmation yes (needed without a terminal).")
    var yes = false

    func validate() throws {
        if let at, ISO8601.parse(at) == nil {
            throw ValidationError("--at \(at) is not an ISO 8601 time (e.g. 2026-11-22T10:00:00Z)")
        }
    }

    func run() throws {
        let workspace = try global.openWorkspace()
        let loaded = try RunbookLoader.load(name: runbook, config: workspace.config)
        let interrupt = InterruptFlag()
        // A second Ctrl-C exits at once: remove the sandbox first (unless it is to be kept).
        let current = SandboxSlot()
        let keep = keepSandbox
        let signals = RestoreTerminal.stopOnInterrupt(
            interrupt, abortMessage: "drill aborted; its execution stays marked running and is not a drill result",
            onAbort: { if !keep { current.take()?.remove() } })
        defer { signals.cancel() }
        var drill = try Drill(
            workspace: workspace, keepSandbox: keepSandbox, confirmer: RestoreTerminal.confirmer(yes: yes),
            interrupt: interrupt, output: RestoreTerminal.output(json: json))
        drill.sandboxCreated = { current.set($0) }
        let report = try drill.run(loaded, at: at.flatMap(ISO8601.parse))
        if json { try Terminal.json(report) }
        switch report.result {
        case .success:
            break
        case .warnings:
            Terminal.warning("WARNINGS: not rehearsed: \(report.notRehearsed.map(\.id).joined(separator: ", "))")
        case .failed:
            throw DRError(.failed, "drill of \(report.runbook) FAILED: \(report.problems.joined(separator: "; "))")
        }
    }
}

/// The sandbox of the running drill, for the abort handler.
final class SandboxSlot: @unchecked Sendable {
    private let lock = NSLock()
    private var sandbox: DrillSandbox?

    func set(_ value: DrillSandbox) {
        lock.lock()
        sandbox = value
        lock.unlock()
    }

    func take() -> DrillSandbox? {
        lock.lock()
        defer { lock.unlock() }
        let value = sandbox
        sandbox = nil
        return value
    }
}
