public import DRCore
public import Foundation
import Logging

/// One step's final state in an execution.
public struct StepRecap: Sendable, Codable, Hashable {
    public var id: String
    public var title: String
    /// The latest attempt's status; nil when the step has not run.
    public var status: StepStatus?
    /// Attempts journaled for the step (across resumes).
    public var attempts: Int
}

/// How an execution ended.
public struct ExecutionResult: Sendable, Codable, Hashable {
    public var executionID: String
    public var runbook: String
    public var status: ExecutionStatus
    public var steps: [StepRecap]
    /// Start of the execution to the end of its last step.
    public var rtoSeconds: Double?
    /// Why the execution failed or stopped.
    public var error: String?
}

/// Runs a bound runbook step by step, journaling every attempt in the catalog.
///
/// Output (the plan, live step output, the recap) goes to `output`; nothing is printed.
/// A step that fails with `on_failure: stop`, a declined confirmation, or a raised
/// ``InterruptFlag`` ends the execution `failed` / `interrupted`, resumable with ``resume(_:fromStep:load:)``.
public struct Executor: Sendable {
    public var workspace: Workspace
    public var actions: [any RunbookAction.Type]
    public var cluster: (@Sendable () throws -> KubeClient)?
    public var confirmer: any Confirmer
    public var interrupt: InterruptFlag
    /// Applied to everything shown and journaled; register Secret values on it.
    public var redactor: Redactor
    public var mode: ExecutionMode
    /// In a drill: the sandbox local targets are redirected into.
    public var drill: DrillSandbox?
    /// Receives every line shown to the operator, already redacted.
    public var output: @Sendable (String) -> Void

    /// An executor over `actions` (tests inject their own); `cluster` as in ``Planner/init(workspace:actions:cluster:)``.
    public init(
        workspace: Workspace, actions: [any RunbookAction.Type] = ActionRegistry.all, confirmer: any Confirmer,
        interrupt: InterruptFlag = InterruptFlag(), redactor: Redactor = Redactor(), mode: ExecutionMode = .incident,
        cluster: (@Sendable () throws -> KubeClient)?? = nil, drill: DrillSandbox? = nil,
        output: @escaping @Sendable (String) -> Void
    ) {
        self.drill = drill
        self.workspace = workspace
        self.actions = actions
        self.cluster = cluster ?? Planner.lazyCluster(workspace)
        self.confirmer = confirmer
        self.interrupt = interrupt
        self.redactor = redactor
        self.mode = mode
        self.output = { [redactor] line in output(redactor.redact(line)) }
    }

    var planner: Planner { Planner(workspace: workspace, actions: actions, cluster: .some(cluster), drill: drill) }

    /// Plans `runbook`, prints the plan, asks once, then runs it from its first step (or `fromStep`).
    /// Throws, with nothing run or journaled, when the plan does not bind or the operator declines.
    public func run(_ runbook: Runbook, at: Date? = nil, fromStep: String? = nil) throws -> ExecutionResult {
        let plan = try planner.plan(runbook, at: at)
        let start = try fromStep.map { try startIndex(of: $0, in: plan) } ?? 0
        PlanFormatter.lines(plan).forEach(output)
        output("")
        try askToStart("Run \(plan.steps.count - start) step(s) of runbook \(runbook.name) now?")
        let record = ExecutionRecord(
            id: ExecutionRecord.newID(), runbook: runbook.name, origin: runbook.origin, contentHash: runbook.contentHash,
            mode: mode, at: plan.at, startedAt: workspace.now(), plan: try plan.document.json())
        try workspace.catalog.beginExecution(record, redactor: redactor)
        workspace.logger.info("execution \(record.id) of runbook \(runbook.name) started (\(mode.rawValue))")
        output(mode == .drill ? "Drill \(record.id) started."
               : "Execution \(record.id) started (resume with `drctl restore --resume \(record.shortID)`).")
        return try execute(plan, record: record, from: start, journal: [])
    }

    /// Continues execution `executionID` at its first step that is not ok, changed or
    /// skipped (or at `fromStep`). `load` reads the runbook by name; a runbook whose
    /// content changed since the execution started is refused.
    public func resume(
        _ executionID: String, fromStep: String? = nil, load: (_ name: String) throws -> Runbook
    ) throws -> ExecutionResult {
        let record = try workspace.catalog.execution(matching: executionID)
        guard record.status != .succeeded else {
            throw DRError(.refused, "execution \(record.shortID) of \(record.runbook) already succeeded; nothing to resume",
                          hint: "start a new execution with `drctl restore \(record.runbook)`")
        }
        let runbook = try load(record.runbook)
        guard runbook.contentHash == record.contentHash else {
            throw DRError(
                .refused,
                "runbook \(record.runbook) changed since execution \(record.shortID) started (\(runbook.origin) has sha256 \(runbook.contentHash.prefix(12)), the execution ran \(record.contentHash.prefix(12)))",
                hint: "resuming would mix two versions of the runbook; start a new execution (its `check:` probes skip finished work)")
        }
        let plan = try planner.plan(runbook, at: record.at)
        let journal = try workspace.catalog.executionSteps(record.id)
        let latest = Dictionary(journal.map { ($0.stepID, $0.status) }, uniquingKeysWith: { _, last in last })
        let start = try fromStep.map { try startIndex(of: $0, in: plan) }
            ?? plan.steps.firstIndex { !(latest[$0.step.id]?.isFinished ?? false) } ?? plan.steps.count
        PlanFormatter.lines(plan).forEach(output)
        output("")
        if record.status == .running {
            output("warning: execution \(record.shortID) is still marked running (a drctl that stopped without recording its end)")
        }
        let next = start < plan.steps.count ? "at step \(plan.steps[start].step.id)" : "(every step is done)"
        try askToStart("Resume execution \(record.shortID) of runbook \(runbook.name) \(next)?")
        try workspace.catalog.reopenExecution(record.id)
        output("Execution \(record.id) resumed \(next).")
        return try execute(plan, record: record, from: start, journal: journal)
    }

    private func startIndex(of step: String, in plan: Plan) throws -> Int {
        guard let index = plan.index(of: step) else {
            throw DRError(.notFound, "runbook \(plan.runbook.name) has no step `\(step)`",
                          hint: "steps: \(plan.steps.map(\.step.id).joined(separator: ", "))")
        }
        return index
    }

    private func askToStart(_ question: String) throws {
        guard try confirmer.confirm(question) else {
            throw DRError(.refused, "cancelled by the operator; nothing was run")
        }
    }

    // MARK: - The step loop

    private func execute(
        _ plan: Plan, record: ExecutionRecord, from start: Int, journal: [ExecutionStepRecord]
    ) throws -> ExecutionResult {
        var recaps = plan.steps.map { StepRecap(id: $0.step.id, title: $0.step.title, status: nil, attempts: 0) }
        for entry in journal {
            guard let index = plan.index(of: entry.stepID) else { continue }
            recaps[index].status = entry.status
            recaps[index].attempts = max(recaps[index].attempts, entry.attempt)
        }
        var status = ExecutionStatus.succeeded
        var failure: String?
        for index in plan.steps.indices where index >= start {
            if interrupt.isRaised {
                status = .interrupted
                failure = "interrupted before step \(plan.steps[index].step.id)"
                output("Interrupted: stopping before step \(plan.steps[index].step.id).")
                break
            }
            let bound = plan.steps[index]
            output("")
            output("==> [\(index + 1)/\(plan.steps.count)] \(bound.step.id): \(bound.step.title)")
            let result: StepResult
            do {
                result = try runStep(bound, plan: plan, executionID: record.id, previousAttempts: recaps[index].attempts)
            } catch {
                // The journal or the machine failed, not the step: end the execution resumable.
                status = .failed
                failure = "step \(bound.step.id) could not run: \(DRError.describe(error))"
                output("    \(failure ?? "")")
                break
            }
            recaps[index].status = result.status
            recaps[index].attempts = result.attempts
            guard result.status == .failed else { continue }
            let message = "step \(bound.step.id) failed: \(result.error ?? "unknown error")"
            if result.interrupted {
                status = .interrupted
                failure = "interrupted while step \(bound.step.id) was retrying"
                break
            }
            if bound.step.onFailure == .continue && !result.mustStop {
                output("    \(message); continuing (on_failure: continue)")
                continue
            }
            status = .failed
            failure = message
            break
        }
        let end = workspace.now()
        let rto = end.timeIntervalSince(record.startedAt)
        try workspace.catalog.finishExecution(
            record.id, status: status, rtoSeconds: rto, error: failure, redactor: redactor, now: end)
        workspace.logger.info("execution \(record.id) of runbook \(plan.runbook.name) \(status.rawValue)")
        let result = ExecutionResult(
            executionID: record.id, runbook: plan.runbook.name, status: status, steps: recaps, rtoSeconds: rto,
            error: failure.map(redactor.redact))
        PlanFormatter.recap(result).forEach(output)
        if status != .succeeded && record.mode != .drill {
            output("Resume with `drctl restore --resume \(record.shortID)` once the cause is fixed.")
        }
        return result
    }

    private struct StepResult {
        var status: StepStatus
        var attempts: Int
        var error: String?
        /// A declined confirmation stops the execution whatever `on_failure` says.
        var mustStop = false
        /// The interrupt flag was raised while waiting to retry.
        var interrupted = false
    }

    /// Waits `delay` between attempts; false when the interrupt flag is raised meanwhile.
    private func pause(_ delay: Duration) -> Bool {
        let clock = ContinuousClock()
        let end = clock.now + delay
        while !interrupt.isRaised {
            let left = end - clock.now
            if left <= .zero { return true }
            Thread.sleep(forTimeInterval: min(left, .milliseconds(200)).seconds)
        }
        return false
    }

    private func runStep(_ bound: BoundStep, plan: Plan, executionID: String, previousAttempts: Int) throws -> StepResult {
        var attempt = previousAttempts
        func journal(_ status: StepStatus, started: Date, tail: String, error: String?) throws {
            attempt += 1
            try workspace.catalog.recordStep(
                ExecutionStepRecord(
                    executionID: executionID, stepID: bound.step.id, attempt: attempt, status: status,
                    startedAt: started, finishedAt: workspace.now(), outputTail: tail, error: error),
                redactor: redactor)
        }
        let probeStarted = workspace.now()
        if isDone(bound, plan: plan, executionID: executionID) {
            output("    already done: skipped")
            try journal(.skipped, started: probeStarted, tail: "", error: nil)
            return StepResult(status: .skipped, attempts: attempt)
        }
        if bound.needsConfirmation {
            let question = bound.kind == "manual"
                ? "Step \(bound.step.id): is it done (the instructions above)?"
                : "Run step \(bound.step.id) (\(bound.step.title)) now?"
            let started = workspace.now()
            var declined: String?
            do {
                if !(try confirmer.confirm(question)) { declined = "declined by the operator" }
            } catch {
                declined = DRError.describe(error)
            }
            if let declined {
                output("    \(declined)")
                try journal(.failed, started: started, tail: "", error: declined)
                return StepResult(status: .failed, attempts: attempt, error: declined, mustStop: true)
            }
        }
        let total = 1 + max(0, bound.step.retries)
        var lastError: String?
        for number in 1...total {
            let started = workspace.now()
            let tail = OutputTail()
            let emit: @Sendable (String) -> Void = { [redactor, output] line in
                tail.append(redactor.redact(line))
                output("    \(line)")
            }
            do {
                let outcome = try attemptOnce(bound, plan: plan, executionID: executionID, emit: emit)
                workspace.crash.reach(.restoreStep)
                try journal(outcome == .changed ? .changed : .ok, started: started, tail: tail.text, error: nil)
                return StepResult(status: outcome == .changed ? .changed : .ok, attempts: attempt)
            } catch {
                let message = redactor.redact(DRError.describe(error))
                lastError = message
                output("    attempt \(number) of \(total) failed: \(message)")
                try journal(.failed, started: started, tail: tail.text, error: message)
            }
            if number < total {
                output("    retrying in \(PlanFormatter.duration(bound.step.delay.seconds))")
                if !pause(bound.step.delay) {
                    output("    interrupted: no further attempts")
                    return StepResult(status: .failed, attempts: attempt, error: lastError, interrupted: true)
                }
            }
        }
        return StepResult(status: .failed, attempts: attempt, error: lastError)
    }

    /// The `check:` probe (exit 0), else the action's `isDone`. A probe that cannot tell
    /// counts as not done.
    private func isDone(_ bound: BoundStep, plan: Plan, executionID: String) -> Bool {
        if let check = bound.check {
            do {
                return try shell(check, plan: plan, executionID: executionID, step: bound.step.id,
                                 timeout: bound.timeout, emit: nil).succeeded
            } catch {
                output("    cannot run the check probe (\(DRError.describe(error))): running the step")
                return false
            }
        }
        guard let action = bound.action else { return false }
        let context = ExecutionContext(
            workspace: workspace, cluster: cluster, deadline: .now + bound.timeout, output: { [output] in output("    \($0)") },
            drill: drill)
        do {
            return try action.isDone(context)
        } catch {
            output("    cannot tell whether the step is done (\(redactor.redact(DRError.describe(error)))): running it")
            return false
        }
    }

    private func attemptOnce(
        _ bound: BoundStep, plan: Plan, executionID: String, emit: @escaping @Sendable (String) -> Void
    ) throws -> StepOutcome {
        if let action = bound.action {
            let context = ExecutionContext(
                workspace: workspace, cluster: cluster, deadline: .now + bound.timeout, output: emit, drill: drill)
            return try action.run(context)
        }
        let script = bound.script ?? ""
        let result = try shell(script, plan: plan, executionID: executionID, step: bound.step.id,
                               timeout: bound.timeout, emit: emit)
        if result.timedOut {
            throw DRError(.failed, "timed out after \(PlanFormatter.duration(bound.timeout.seconds))")
        }
        guard result.status == 0 else { throw DRError(.failed, "the script exited with status \(result.status)") }
        return .changed
    }

    // MARK: - Shell

    /// Runs `script` with `/bin/sh -e -c`, standard error merged into standard output,
    /// streaming complete lines to `emit` as they are written.
    private func shell(
        _ script: String, plan: Plan, executionID: String, step: String, timeout: Duration,
        emit: (@Sendable (String) -> Void)?
    ) throws -> Command.Result {
        try FileIO.createDirectory(workspace.tmpDir, mode: 0o700)
        let outputFile = "\(workspace.tmpDir)/step-\(executionID)-\(FileIO.randomHex(4)).out"
        defer { try? FileManager.default.removeItem(atPath: outputFile) }
        var environment = workspace.environment
        environment["DRCTL_CONFIG"] = workspace.config.file
        environment["DRCTL_EXECUTION_ID"] = executionID
        environment["DRCTL_STEP"] = step
        // Standard error joins standard output (the file streamed below); the original
        // stderr pipe stays open on fd 3 so that `Command` keeps watching the timeout
        // until the script and its children are gone.
        var command = Command(
            "/bin/sh", ["-c", "exec 3>&2; exec /bin/sh -e -c \"$1\" 2>&1", "sh", script], environment: environment)
        command.output = .file(outputFile)
        command.timeout = timeout
        if !plan.runbook.origin.hasPrefix("builtin:") {
            let directory = (plan.runbook.origin as NSString).deletingLastPathComponent
            if FileIO.isDirectory(directory) { command.workingDirectory = directory }
        }
        let box = ResultBox()
        let done = DispatchSemaphore(value: 0)
        let thread = Thread { [command] in
            box.set(Result { try command.run() })
            done.signal()
        }
        thread.start()
        var reader = LineReader(path: outputFile)
        var finished = false
        while !finished {
            finished = done.wait(timeout: .now() + .milliseconds(100)) == .success
            if let emit { reader.read(final: finished).forEach(emit) }
        }
        let result = try box.get()
        if !result.stderr.isEmpty, let emit {
            result.stderr.split(separator: "\n").forEach { emit(String($0)) }
        }
        return result
    }
}

/// The redacted output of one attempt, kept to the journal's tail size.
private final class OutputTail: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    private var bytes = 0

    func append(_ line: String) {
        lock.withLock {
            lines.append(line)
            bytes += line.utf8.count + 1
            while bytes > Catalog.outputTailLimit * 2, lines.count > 1 {
                bytes -= lines.removeFirst().utf8.count + 1
            }
        }
    }

    var text: String { lock.withLock { lines.joined(separator: "\n") } }
}

/// The result of a child process run on another thread.
private final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var result: Result<Command.Result, any Error> = .failure(DRError(.failed, "the step's process did not report"))

    func set(_ value: Result<Command.Result, any Error>) { lock.withLock { result = value } }
    func get() throws -> Command.Result { try lock.withLock { result }.get() }
}

/// Reads complete lines appended to a file since the last call.
private struct LineReader {
    let path: String
    var offset: UInt64 = 0
    var partial: [UInt8] = []

    init(path: String) { self.path = path }

    mutating func read(final: Bool) -> [String] {
        if let handle = FileHandle(forReadingAtPath: path) {
            defer { try? handle.close() }
            if (try? handle.seek(toOffset: offset)) != nil, let data = try? handle.readToEnd() {
                offset += UInt64(data.count)
                partial.append(contentsOf: data)
            }
        }
        var lines: [String] = []
        while let newline = partial.firstIndex(of: UInt8(ascii: "\n")) {
            lines.append(String(decoding: partial[..<newline], as: UTF8.self))
            partial.removeSubrange(...newline)
        }
        if final && !partial.isEmpty {
            lines.append(String(decoding: partial, as: UTF8.self))
            partial.removeAll()
        }
        return lines
    }
}
