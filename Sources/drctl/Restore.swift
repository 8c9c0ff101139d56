import ArgumentParser
import DRCore
import Foundation
import Restore

struct RestoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Run a recovery runbook: plan, execute, resume; list runbooks and executions.",
        discussion: """
            `drctl restore RUNBOOK --plan` binds every step and changes nothing. Without --plan the plan is \
            printed, you are asked once, and the steps run in order, journaled in the catalog. Ctrl-C stops \
            between steps; `--resume EXEC_ID` continues a failed or interrupted execution. Exit codes: docs/CLI.md.
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("The runbook to run (`drctl restore --list` shows them).", valueName: "runbook"))
    var runbook: String?

    @Option(help: ArgumentHelp("Bind snapshots taken at or before this time (ISO 8601; default now).", valueName: "time"))
    var at: String?

    @Flag(help: "Bind and print the plan; run and change nothing.")
    var plan = false

    @Flag(help: "Print as JSON (the plan, the execution's result, the list or the history).")
    var json = false

    @Flag(help: "Answer every confirmation yes (needed without a terminal).")
    var yes = false

    @Option(name: .customLong("from-step"), help: ArgumentHelp("Start at this step instead.", valueName: "id"))
    var fromStep: String?

    @Option(help: ArgumentHelp("Continue this execution at its failed step.", valueName: "exec-id"))
    var resume: String?

    @Flag(help: "List the available runbooks.")
    var list = false

    @Flag(help: "List past executions, newest first.")
    var history = false

    func validate() throws {
        let modes = [runbook != nil, resume != nil, list, history].filter { $0 }.count
        guard modes == 1 else {
            throw ValidationError("give exactly one of RUNBOOK, --resume EXEC_ID, --list or --history")
        }
        if resume != nil && (plan || at != nil) {
            throw ValidationError("--resume binds at the execution's own time and cannot --plan")
        }
        if (list || history) && (plan || yes || at != nil || fromStep != nil) {
            throw ValidationError("--list and --history take only --json")
        }
        if let at, ISO8601.parse(at) == nil {
            throw ValidationError("--at \(at) is not an ISO 8601 time (e.g. 2026-11-22T10:00:00Z)")
        }
    }

    func run() throws {
        if list { return try RestoreListing.runbooks(config: global.loadConfig(), json: json) }
        let workspace = try global.openWorkspace()
        if history { return try RestoreListing.history(workspace, json: json) }
        let config = workspace.config
        if plan, let runbook {
            let bound = try Planner(workspace: workspace).plan(
                try RunbookLoader.load(name: runbook, config: config), at: at.flatMap(ISO8601.parse))
            if json { return try Terminal.json(bound.document) }
            return PlanFormatter.lines(bound).forEach { print($0) }
        }
        let interrupt = InterruptFlag()
        let signals = RestoreTerminal.stopOnInterrupt(interrupt)
        defer { signals.cancel() }
        let executor = Executor(
            workspace: workspace, confirmer: RestoreTerminal.confirmer(yes: yes), interrupt: interrupt,
            output: RestoreTerminal.output(json: json))
        let result: ExecutionResult
        if let resume {
            result = try executor.resume(resume, fromStep: fromStep) { try RunbookLoader.load(name: $0, config: config) }
        } else if let runbook {
            result = try executor.run(
                try RunbookLoader.load(name: runbook, config: config), at: at.flatMap(ISO8601.parse), fromStep: fromStep)
        } else {
            return
        }
        if json { try Terminal.json(result) }
        try RestoreTerminal.exit(for: result)
    }
}
