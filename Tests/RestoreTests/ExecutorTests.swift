import DRCore
import Foundation
import Restore
import Testing
import TestSupport

// MARK: - Fixtures

/// Collects the executor's output lines; can raise an interrupt when a line appears.
final class OutputLines: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    private let trigger: (text: String, flag: InterruptFlag)?

    init(interruptOn text: String? = nil, flag: InterruptFlag? = nil) {
        if let text, let flag { trigger = (text, flag) } else { trigger = nil }
    }

    func append(_ line: String) {
        lock.withLock { lines.append(line) }
        if let trigger, line.contains(trigger.text) { trigger.flag.raise() }
    }

    var all: [String] { lock.withLock { lines } }
    var text: String { all.joined(separator: "\n") }
}

/// A test action: appends a line to `file` and reports the snapshot it names.
struct RecordingAction: RunbookAction {
    static let name = "test.record"
    static let defaultTimeout: Duration = .seconds(30)
    let file: String
    let snapshot: String?

    init(arguments: JSONValue, context: PlanContext) throws {
        guard let file = arguments["file"]?.stringValue else {
            throw DRError(.config, "test.record needs `file`")
        }
        self.file = file
        snapshot = arguments["snapshot"]?.stringValue
    }

    var plan: [String] { ["append a line to \(file)"] }
    var snapshots: [String] { snapshot.map { [$0] } ?? [] }
    func isDone(_ context: ExecutionContext) throws -> Bool { false }

    func run(_ context: ExecutionContext) throws -> StepOutcome {
        context.output("recording into \(file)")
        try appendLine("ran", to: file)
        return .changed
    }
}

/// A test action whose binding always fails.
struct UnbindableAction: RunbookAction {
    static let name = "test.unbindable"
    static let defaultTimeout: Duration = .seconds(30)
    init(arguments: JSONValue, context: PlanContext) throws {
        throw DRError(.notFound, "no verified snapshot of source gitops")
    }
    var plan: [String] { [] }
    var snapshots: [String] { [] }
    func isDone(_ context: ExecutionContext) throws -> Bool { false }
    func run(_ context: ExecutionContext) throws -> StepOutcome { .ok }
}

func appendLine(_ line: String, to path: String) throws {
    let existing = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    try (existing + line + "\n").write(toFile: path, atomically: true, encoding: .utf8)
}

func lineCount(_ path: String) -> Int {
    ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").count
}

func testRunbook(_ steps: [RunbookStep], dir: String, hash: String = "hash-1") -> Runbook {
    Runbook(name: "test", title: "Test runbook", origin: "builtin:test.md", contentHash: hash, requires: [],
            params: ["dir": dir], steps: steps)
}

func sh(_ id: String, line: Int = 1, _ script: String, retries: Int = 0, confirm: Bool = false,
        onFailure: RunbookStep.OnFailure = .stop, check: String? = nil) -> RunbookStep {
    RunbookStep(id: id, title: "step \(id)", line: line, body: .shell(script), timeout: .seconds(60), retries: retries,
                delay: .zero, confirm: confirm, onFailure: onFailure, check: check)
}

func makeExecutor(
    _ workspace: Workspace, _ lines: OutputLines, confirmer: any Confirmer = AssumeYes(),
    interrupt: InterruptFlag = InterruptFlag(), redactor: Redactor = Redactor()
) -> Executor {
    Executor(workspace: workspace, actions: [RecordingAction.self, UnbindableAction.self], confirmer: confirmer,
             interrupt: interrupt, redactor: redactor, cluster: .some(nil), output: lines.append)
}

func withEngineWorkspace(_ body: (String, Workspace) throws -> Void) throws {
    try withTemporaryDirectory { dir in
        let workspace = try makeWorkspace(in: "\(dir)/drctl", sourcesYAML: "  []\n", encrypt: false)
        try body(dir, workspace)
    }
}

// MARK: - Tests

@Suite("runbook executor")
struct ExecutorTests {
    @Test("a step that fails twice and then succeeds with retries: 2 is ok after three journaled attempts")
    func retries() throws {
        try withEngineWorkspace { dir, workspace in
            let script = """
                n=$(cat {{dir}}/count 2>/dev/null || echo 0)
                n=$((n + 1))
                echo $n > {{dir}}/count
                echo "attempt $n"
                test $n -ge 3
                """
            let lines = OutputLines()
            let result = try makeExecutor(workspace, lines).run(testRunbook([sh("flaky", script, retries: 2)], dir: dir))
            #expect(result.status == .succeeded)
            #expect(result.steps.first?.status == .changed)
            let attempts = try workspace.catalog.executionSteps(result.executionID)
            #expect(attempts.map(\.attempt) == [1, 2, 3])
            #expect(attempts.map(\.status) == [.failed, .failed, .changed])
            #expect(attempts[2].outputTail.contains("attempt 3"))
            #expect(attempts[0].error?.contains("status 1") == true)
            #expect(lines.text.contains("attempt 2 of 3 failed"))
            let record = try workspace.catalog.execution(matching: result.executionID)
            #expect(record.status == .succeeded)
            #expect((record.rtoSeconds ?? -1) >= 0)
        }
    }

    @Test("a failing step stops the execution; after the fix, resume continues at it without re-running earlier steps")
    func resumeAfterFailure() throws {
        try withEngineWorkspace { dir, workspace in
            let runbook = testRunbook([
                sh("first", "echo once >> {{dir}}/first.log"),
                sh("needs-fix", "test -f {{dir}}/fixed"),
                sh("last", "echo once >> {{dir}}/last.log"),
            ], dir: dir)
            let failed = try makeExecutor(workspace, OutputLines()).run(runbook)
            #expect(failed.status == .failed)
            #expect(failed.error?.contains("needs-fix") == true)
            #expect(failed.steps.map(\.status) == [.changed, .failed, nil])
            #expect(lineCount("\(dir)/first.log") == 1)
            #expect(lineCount("\(dir)/last.log") == 0)
            #expect(try workspace.catalog.execution(matching: failed.executionID).status == .failed)

            try appendLine("", to: "\(dir)/fixed")
            let lines = OutputLines()
            let resumed = try makeExecutor(workspace, lines).resume(String(failed.executionID.prefix(8))) { name in
                #expect(name == "test")
                return runbook
            }
            #expect(resumed.executionID == failed.executionID)
            #expect(resumed.status == .succeeded)
            #expect(resumed.steps.map(\.status) == [.changed, .changed, .changed])
            #expect(lineCount("\(dir)/first.log") == 1)
            #expect(lineCount("\(dir)/last.log") == 1)
            #expect(lines.text.contains("resumed at step needs-fix"))
            let journal = try workspace.catalog.executionSteps(failed.executionID)
            #expect(journal.filter { $0.stepID == "needs-fix" }.map(\.attempt) == [1, 2])
            #expect(journal.filter { $0.stepID == "first" }.count == 1)

            let again = try #require(throws: DRError.self) {
                try makeExecutor(workspace, OutputLines()).resume(failed.executionID) { _ in runbook }
            }
            #expect(again.code == .refused)
        }
    }

    @Test("resume refuses a runbook whose content changed")
    func changedRunbookRefusesResume() throws {
        try withEngineWorkspace { dir, workspace in
            let runbook = testRunbook([sh("fails", "exit 1"), sh("after", "echo once >> {{dir}}/after.log")], dir: dir)
            let failed = try makeExecutor(workspace, OutputLines()).run(runbook)
            #expect(failed.status == .failed)
            var edited = runbook
            edited.contentHash = "hash-2"
            edited.steps[0] = sh("fails", "true")
            let error = try #require(throws: DRError.self) {
                try makeExecutor(workspace, OutputLines()).resume(failed.executionID) { _ in edited }
            }
            #expect(error.code == .refused)
            #expect(error.message.contains("changed"))
            #expect(lineCount("\(dir)/after.log") == 0)
            #expect(try workspace.catalog.execution(matching: failed.executionID).status == .failed)
        }
    }

    @Test("check: skips finished work on a re-run; on_failure: continue records the failure and goes on")
    func checkAndContinue() throws {
        try withEngineWorkspace { dir, workspace in
            let runbook = testRunbook([
                sh("once", "touch {{dir}}/done.marker\necho ran >> {{dir}}/runs.log", check: "test -f {{dir}}/done.marker"),
                sh("optional", "echo trying; exit 3", onFailure: .continue),
                sh("after", "echo ran >> {{dir}}/after.log"),
            ], dir: dir)
            let first = try makeExecutor(workspace, OutputLines()).run(runbook)
            #expect(first.status == .succeeded)
            #expect(first.steps.map(\.status) == [.changed, .failed, .changed])
            let second = try makeExecutor(workspace, OutputLines()).run(runbook)
            #expect(second.steps.map(\.status) == [.skipped, .failed, .changed])
            #expect(lineCount("\(dir)/runs.log") == 1)
            #expect(lineCount("\(dir)/after.log") == 2)
            let journal = try workspace.catalog.executionSteps(second.executionID)
            #expect(journal.first { $0.stepID == "optional" }?.error?.contains("status 3") == true)
            #expect(journal.first { $0.stepID == "optional" }?.outputTail.contains("trying") == true)
        }
    }

    @Test("a confirmation without a terminal and without --yes fails at once, before anything ran")
    func confirmWithoutTerminal() throws {
        try withEngineWorkspace { dir, workspace in
            let runbook = testRunbook([
                sh("first", "echo ran >> {{dir}}/first.log"),
                sh("dangerous", "echo ran >> {{dir}}/dangerous.log", confirm: true),
            ], dir: dir)
            let error = try #require(throws: DRError.self) {
                try makeExecutor(workspace, OutputLines(), confirmer: NoOperator()).run(runbook)
            }
            #expect(error.code == .refused)
            #expect(error.message.contains("no terminal"))
            #expect(error.hint?.contains("--yes") == true)
            #expect(lineCount("\(dir)/first.log") == 0)
            #expect(try workspace.catalog.executions().isEmpty)
        }
    }

    @Test("--plan binds and prints, runs nothing and leaves the catalog byte-identical")
    func planChangesNothing() throws {
        try withEngineWorkspace { dir, workspace in
            // A journaled execution first, so the catalog is not empty.
            _ = try makeExecutor(workspace, OutputLines()).run(testRunbook([sh("warm", "true")], dir: dir))
            let runbook = testRunbook([
                sh("script", "echo ran >> {{dir}}/script.log\nkubectl get -o go-template='{{.metadata.name}}' ns"),
                RunbookStep(id: "record", title: "Record", line: 9,
                            body: .action(name: "test.record", arguments: .object([
                                "file": .string("{{dir}}/action.log"), "snapshot": .string("0123456789abcdef")]))),
            ], dir: dir)
            func catalogState() throws -> [String: Data] {
                var state: [String: Data] = [:]
                for suffix in ["", "-wal"] where FileManager.default.fileExists(atPath: workspace.catalog.path + suffix) {
                    state[suffix] = try Data(contentsOf: URL(fileURLWithPath: workspace.catalog.path + suffix))
                }
                return state
            }
            let before = try catalogState()
            let executionsBefore = try workspace.catalog.executions()
            let plan = try Planner(workspace: workspace, actions: [RecordingAction.self], cluster: .some(nil))
                .plan(runbook, at: ISO8601.parse("2026-11-01T00:00:00Z"))
            let text = PlanFormatter.lines(plan).joined(separator: "\n")
            #expect(try catalogState() == before)
            #expect(try workspace.catalog.executions() == executionsBefore)
            #expect(lineCount("\(dir)/script.log") == 0)
            #expect(lineCount("\(dir)/action.log") == 0)
            // Parameter values are shell-quoted in scripts; Go templates are left alone.
            #expect(plan.steps[0].script == "echo ran >> '\(dir)'/script.log\nkubectl get -o go-template='{{.metadata.name}}' ns")
            #expect(text.contains("$ echo ran >> '\(dir)'/script.log"))
            #expect(text.contains("append a line to \(dir)/action.log"))
            #expect(text.contains("snapshot 01234567"))
            let document = try PlanDocument.decode(plan.document.json())
            #expect(document.steps == plan.document.steps)
            #expect(document.snapshots == plan.document.snapshots)
            #expect(document.at == ISO8601.parse("2026-11-01T00:00:00Z"))
            #expect(document.steps.map(\.kind) == ["sh", "test.record"])
        }
    }

    @Test("the plan shows each bound snapshot's data time and age, and the RPO")
    func snapshotAges() throws {
        try withEngineWorkspace { dir, workspace in
            _ = try workspace.catalog.ensureSource(name: "gitops", kind: "git-bundle", configDigest: "d")
            let manifest = EncodedObject(
                stored: StoredObject(type: .manifest, sha256: String(repeating: "7", count: 64), size: 1),
                plainSize: 1, encryption: .none)
            let id = "00aa11bb22cc33dd"
            try workspace.catalog.insertSnapshot(
                SnapshotRecord(id: id, source: "gitops", kind: "git-bundle", level: .full, parentID: nil, createdAt: Date(),
                               dataTime: Date().addingTimeInterval(-7200), bytes: 0, plainBytes: 0,
                               verifiedAt: Date(), verifyResult: "ok"),
                objects: [], refs: [], manifest: manifest, attempt: nil)
            let runbook = testRunbook([
                RunbookStep(id: "record", title: "Record", line: 3, body: .action(name: "test.record", arguments: .object([
                    "file": .string("{{dir}}/action.log"), "snapshot": .string(id)]))),
            ], dir: dir)
            let plan = try Planner(workspace: workspace, actions: [RecordingAction.self], cluster: .some(nil)).plan(runbook)
            let bound = try #require(plan.snapshots.first)
            #expect(bound.source == "gitops")
            #expect(bound.kind == "git-bundle")
            #expect((7199...7260).contains(bound.ageSeconds ?? 0))
            #expect(plan.rpoSeconds == bound.ageSeconds)
            let text = PlanFormatter.lines(plan).joined(separator: "\n")
            #expect(text.contains("snapshot 00aa11bb of gitops (git-bundle)"))
            #expect(text.contains("age 2h 0m"))
            #expect(text.contains("RPO of this restore: 2h 0m"))
            #expect(text.contains("restores snapshot 00aa11bb, age 2h 0m"))
        }
    }

    @Test("binding errors fail the plan before step 1, each naming its step id and runbook line")
    func bindingErrors() throws {
        try withEngineWorkspace { dir, workspace in
            let runbook = testRunbook([
                sh("first", line: 5, "echo ran >> {{dir}}/first.log"),
                RunbookStep(id: "typo", title: "Typo", line: 12, body: .action(name: "git.restore-bundel", arguments: .object([:]))),
                RunbookStep(id: "no-snapshot", title: "No snapshot", line: 20,
                            body: .action(name: "test.unbindable", arguments: .object([:]))),
                sh("bad-param", line: 30, "echo {{missing}}"),
            ], dir: dir)
            let error = try #require(throws: DRError.self) { try makeExecutor(workspace, OutputLines()).run(runbook) }
            #expect(error.message.contains("step `typo` (builtin:test.md:12)"))
            #expect(error.message.contains("unknown action `git.restore-bundel`"))
            #expect(error.message.contains("step `no-snapshot` (builtin:test.md:20)"))
            #expect(error.message.contains("no verified snapshot"))
            #expect(error.message.contains("step `bad-param` (builtin:test.md:30)"))
            #expect(!error.message.contains("`first`"))
            #expect(lineCount("\(dir)/first.log") == 0)
            #expect(try workspace.catalog.executions().isEmpty)
        }
    }

    @Test("an injected action runs through the executor and its snapshots are journaled with the plan")
    func injectedAction() throws {
        try withEngineWorkspace { dir, workspace in
            let runbook = testRunbook([
                RunbookStep(id: "record", title: "Record", line: 3,
                            body: .action(name: "test.record", arguments: .object([
                                "file": .string("{{dir}}/action.log"), "snapshot": .string("fedcba9876543210")]))),
            ], dir: dir)
            let lines = OutputLines()
            let result = try makeExecutor(workspace, lines).run(runbook)
            #expect(result.status == .succeeded)
            #expect(result.steps.map(\.status) == [.changed])
            #expect(lineCount("\(dir)/action.log") == 1)
            #expect(lines.text.contains("recording into \(dir)/action.log"))
            let record = try workspace.catalog.execution(matching: result.executionID)
            let document = try PlanDocument.decode(record.plan)
            #expect(document.steps.first?.snapshots == ["fedcba9876543210"])
            #expect(document.snapshots.map(\.id) == ["fedcba9876543210"])
            #expect(record.contentHash == "hash-1")
            #expect(record.mode == .incident)
            let attempts = try workspace.catalog.executionSteps(result.executionID)
            #expect(attempts.first?.outputTail.contains("recording into") == true)
        }
    }

    @Test("an interrupt between steps leaves the execution interrupted and resumable")
    func interruption() throws {
        try withEngineWorkspace { dir, workspace in
            let runbook = testRunbook([
                sh("first", "echo first-$((1 + 1))-done; echo ran >> {{dir}}/first.log"),
                sh("second", "echo ran >> {{dir}}/second.log"),
            ], dir: dir)
            let flag = InterruptFlag()
            let lines = OutputLines(interruptOn: "first-2-done", flag: flag)
            let stopped = try makeExecutor(workspace, lines, interrupt: flag).run(runbook)
            #expect(stopped.status == .interrupted)
            #expect(stopped.steps.map(\.status) == [.changed, nil])
            #expect(lineCount("\(dir)/first.log") == 1)
            #expect(lineCount("\(dir)/second.log") == 0)
            #expect(try workspace.catalog.execution(matching: stopped.executionID).status == .interrupted)

            let resumed = try makeExecutor(workspace, OutputLines()).resume(stopped.executionID) { _ in runbook }
            #expect(resumed.status == .succeeded)
            #expect(lineCount("\(dir)/first.log") == 1)
            #expect(lineCount("\(dir)/second.log") == 1)
        }
    }

    @Test("an interrupt while a step waits to retry stops its retries; the execution is interrupted and resumable")
    func interruptDuringRetryDelay() throws {
        try withEngineWorkspace { dir, workspace in
            var flaky = sh("flaky", "echo try >> {{dir}}/tries.log\necho flaky-failed\ntest -f {{dir}}/fixed", retries: 5)
            flaky.delay = .seconds(60)
            let runbook = testRunbook([flaky, sh("after", "echo ran >> {{dir}}/after.log")], dir: dir)
            let flag = InterruptFlag()
            let clock = ContinuousClock()
            let started = clock.now
            let stopped = try makeExecutor(workspace, OutputLines(interruptOn: "    flaky-failed", flag: flag), interrupt: flag)
                .run(runbook)
            #expect(clock.now - started < .seconds(30))
            #expect(stopped.status == .interrupted)
            #expect(lineCount("\(dir)/tries.log") == 1)
            try appendLine("", to: "\(dir)/fixed")
            let resumed = try makeExecutor(workspace, OutputLines()).resume(stopped.executionID) { _ in runbook }
            #expect(resumed.status == .succeeded)
            #expect(resumed.steps.map(\.status) == [.changed, .changed])
            #expect(lineCount("\(dir)/tries.log") == 2)
        }
    }

    @Test("--from-step starts at the named step; an unknown one is not found")
    func fromStep() throws {
        try withEngineWorkspace { dir, workspace in
            let runbook = testRunbook([
                sh("first", "echo ran >> {{dir}}/first.log"), sh("second", "echo ran >> {{dir}}/second.log"),
            ], dir: dir)
            let result = try makeExecutor(workspace, OutputLines()).run(runbook, fromStep: "second")
            #expect(result.steps.map(\.status) == [nil, .changed])
            #expect(lineCount("\(dir)/first.log") == 0)
            let error = try #require(throws: DRError.self) {
                try makeExecutor(workspace, OutputLines()).run(runbook, fromStep: "third")
            }
            #expect(error.code == .notFound)
        }
    }

    @Test("registered strings, passwords, bearer tokens and age keys are redacted from output and the journal")
    func redaction() throws {
        try withEngineWorkspace { dir, workspace in
            let redactor = Redactor()
            redactor.register("s3cr3t-db-value")
            let key = "AGE-SECRET-KEY-1QYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQS"
            let runbook = testRunbook([
                sh("leaky", "echo \"value s3cr3t-db-value\"\necho password=hunter22\necho 'Authorization: Bearer abc.def.ghi'\necho \(key) >&2\nexit 1"),
            ], dir: dir)
            let lines = OutputLines()
            let result = try makeExecutor(workspace, lines, redactor: redactor).run(runbook)
            #expect(result.status == .failed)
            let tail = try #require(try workspace.catalog.executionSteps(result.executionID).first?.outputTail)
            for text in [tail, lines.text] {
                #expect(!text.contains("s3cr3t-db-value"))
                #expect(!text.contains("hunter22"))
                #expect(!text.contains("abc.def.ghi"))
                #expect(!text.contains(key))
                #expect(text.contains("value [REDACTED]"))
                #expect(text.contains("password=[REDACTED]"))
                #expect(text.contains("Bearer [REDACTED]"))
            }
        }
    }

    @Test("unmet runbook requirements fail the plan before anything runs")
    func requirements() throws {
        try withEngineWorkspace { dir, workspace in
            var runbook = testRunbook([sh("first", "echo ran >> {{dir}}/first.log")], dir: dir)
            runbook.requires = [.cluster, .source(.gitBundle), .identity, .tool("drctl-no-such-tool")]
            let error = try #require(throws: DRError.self) { try makeExecutor(workspace, OutputLines()).run(runbook) }
            #expect(error.message.contains("Kubernetes cluster"))
            #expect(error.message.contains("git-bundle"))
            #expect(error.message.contains("age identity"))
            #expect(error.message.contains("drctl-no-such-tool"))
            #expect(lineCount("\(dir)/first.log") == 0)
        }
    }

}

/// Answers questions from a script, recording them.
final class ScriptedConfirmer: Confirmer, @unchecked Sendable {
    private let lock = NSLock()
    private var answers: [Bool]
    private var asked: [String] = []

    init(_ answers: [Bool]) { self.answers = answers }

    func confirm(_ question: String) throws -> Bool {
        try lock.withLock {
            asked.append(question)
            guard !answers.isEmpty else { throw DRError(.refused, "no scripted answer for: \(question)") }
            return answers.removeFirst()
        }
    }

    var questions: [String] { lock.withLock { asked } }
}

/// A `manual` action: instructions only.
struct ManualAction: RunbookAction {
    static let name = "manual"
    static let defaultTimeout: Duration = .seconds(30)
    init(arguments: JSONValue, context: PlanContext) throws {}
    var plan: [String] { ["provision a new cluster"] }
    var snapshots: [String] { [] }
    func isDone(_ context: ExecutionContext) throws -> Bool { false }
    func run(_ context: ExecutionContext) throws -> StepOutcome { .ok }
}

@Suite("runbook executor: limits, questions, command line")
struct ExecutorLimitTests {
    @Test("an attempt that outlives its timeout is stopped and fails")
    func timeout() throws {
        try withEngineWorkspace { dir, workspace in
            var step = sh("slow", "echo started\nsleep 30\necho ran >> {{dir}}/slow.log")
            step.timeout = .milliseconds(500)
            let clock = ContinuousClock()
            let started = clock.now
            let result = try makeExecutor(workspace, OutputLines()).run(testRunbook([step], dir: dir))
            #expect(clock.now - started < .seconds(15))
            #expect(result.status == .failed)
            #expect(result.error?.contains("timed out") == true)
            #expect(lineCount("\(dir)/slow.log") == 0)
            let attempt = try #require(try workspace.catalog.executionSteps(result.executionID).first)
            #expect(attempt.outputTail.contains("started"))
        }
    }

    @Test("confirm steps and manual actions ask again; a refusal stops the execution, resumable")
    func stepConfirmation() throws {
        try withEngineWorkspace { dir, workspace in
            let runbook = testRunbook([
                RunbookStep(id: "provision", title: "Provision", line: 4, body: .action(name: "manual", arguments: .object([:]))),
                sh("wipe", "echo ran >> {{dir}}/wipe.log", confirm: true),
            ], dir: dir)
            let confirmer = ScriptedConfirmer([true, true, false])
            let executor = Executor(workspace: workspace, actions: [ManualAction.self], confirmer: confirmer,
                                    cluster: .some(nil), output: OutputLines().append)
            let result = try executor.run(runbook)
            #expect(confirmer.questions.count == 3)
            #expect(confirmer.questions[1].contains("provision"))
            #expect(confirmer.questions[2].contains("wipe"))
            #expect(result.status == .failed)
            #expect(result.steps.map(\.status) == [.ok, .failed])
            #expect(result.error?.contains("declined") == true)
            #expect(lineCount("\(dir)/wipe.log") == 0)
            let resumed = try Executor(workspace: workspace, actions: [ManualAction.self], confirmer: AssumeYes(),
                                       cluster: .some(nil), output: OutputLines().append)
                .resume(result.executionID) { _ in runbook }
            #expect(resumed.status == .succeeded)
            #expect(lineCount("\(dir)/wipe.log") == 1)
        }
    }

    @Test("drctl restore: --history lists journaled executions, unknown runbooks and executions exit 4, bad usage 64")
    func commandLine() throws {
        try withEngineWorkspace { dir, workspace in
            let result = try makeExecutor(workspace, OutputLines()).run(testRunbook([sh("one", "true")], dir: dir))
            let config = workspace.config.file
            let history = try runDrctl(["restore", "--history", "--json", "--config", config])
            #expect(history.status == 0)
            let records = try JSONSerialization.jsonObject(with: Data(history.stdout)) as? [[String: Any]]
            #expect(records?.first?["id"] as? String == result.executionID)
            #expect(records?.first?["status"] as? String == "succeeded")
            let table = try runDrctl(["restore", "--history", "--config", config])
            #expect(table.stdoutText.contains(String(result.executionID.prefix(8))))
            #expect(table.stdoutText.contains("RTO"))
            let unknown = try runDrctl(["restore", "no-such-runbook", "--plan", "--config", config])
            #expect(unknown.status == DRError.Code.notFound.exitCode)
            let missing = try runDrctl(["restore", "--resume", "abcd1234", "--yes", "--config", config])
            #expect(missing.status == DRError.Code.notFound.exitCode)
            let done = try runDrctl(["restore", "--resume", result.executionID, "--yes", "--config", config])
            #expect(done.status == DRError.Code.refused.exitCode)
            #expect(done.stderr.contains("already succeeded"))
            let usage = try runDrctl(["restore", "--list", "--history", "--config", config])
            #expect(usage.status == 64)
            let list = try runDrctl(["restore", "--list", "--config", config])
            #expect(list.status == 0)
        }
    }
}
