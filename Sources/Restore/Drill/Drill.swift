public import DRCore
public import Foundation
internal import Logging

/// Rehearses a runbook: the same planner and executor as an incident, with local targets
/// redirected into a fresh ``DrillSandbox`` and Kubernetes steps run against the drill cluster
/// (or not rehearsed without one); then verifies every restored artifact, measures RTO and
/// RPO, and journals the execution with mode `drill` and its result.
///
/// Nothing is printed: lines go to `output`. The sandbox is removed when `run` returns or
/// throws, unless `keepSandbox`.
public struct Drill: Sendable {
    /// The step status recorded for a step that a drill skips on purpose.
    public static let notRehearsed = DrillStep.notRehearsed
    /// Action name prefixes that need a Kubernetes cluster.
    static let clusterActionPrefixes = ["k8s.", "argocd.", "argocd-state.", "secrets."]

    public var workspace: Workspace
    public var actions: [any RunbookAction.Type]
    /// The drill cluster; nil means Kubernetes steps are not rehearsed.
    public var cluster: (@Sendable () throws -> KubeClient)?
    /// The folder sandboxes are created in.
    public var sandboxDir: String
    public var keepSandbox: Bool
    /// Recorded in the report: `manual` or `schedule`.
    public var trigger: String = "manual"
    /// Called with the sandbox as soon as it exists (the CLI removes it if the user aborts).
    public var sandboxCreated: @Sendable (DrillSandbox) -> Void = { _ in }
    public var confirmer: any Confirmer
    public var interrupt: InterruptFlag
    public var output: @Sendable (String) -> Void

    /// A drill over `workspace`. `cluster`: omitted means `drills.cluster` from the config
    /// (after checking it is not the production API server); `.some(nil)` means none.
    public init(
        workspace: Workspace, actions: [any RunbookAction.Type] = ActionRegistry.all,
        cluster: (@Sendable () throws -> KubeClient)?? = nil, keepSandbox: Bool = false,
        confirmer: any Confirmer = AssumeYes(), interrupt: InterruptFlag = InterruptFlag(),
        output: @escaping @Sendable (String) -> Void
    ) throws {
        self.workspace = workspace
        self.actions = actions
        if let cluster {
            self.cluster = cluster
        } else {
            try Drill.checkNotProduction(workspace)
            self.cluster = Drill.configuredCluster(workspace)
        }
        self.sandboxDir = workspace.config.drillSettings.sandboxDir
        self.keepSandbox = keepSandbox
        self.confirmer = confirmer
        self.interrupt = interrupt
        self.output = output
    }

    /// The `drills.cluster` client, created on first use; nil when none is configured.
    public static func configuredCluster(_ workspace: Workspace) -> (@Sendable () throws -> KubeClient)? {
        guard let settings = workspace.config.drillSettings.cluster else { return nil }
        let box = LazyClient()
        return {
            try box.get {
                let endpoint = try KubeEndpoint.resolve(
                    KubeConnectionSettings(kubeconfigPath: settings.kubeconfig, context: settings.context),
                    environment: workspace.environment, logger: workspace.logger)
                var options = KubeClient.Options()
                options.namespaceSuffix = workspace.config.drillSettings.namespaceSuffix
                return try KubeClient(endpoint: endpoint, logger: workspace.logger, options: options)
            }
        }
    }

    /// Refuses a `drills.cluster` whose API server is the production cluster's (the config
    /// loader already refuses the same kubeconfig and context).
    public static func checkNotProduction(_ workspace: Workspace) throws {
        guard let drill = workspace.config.drillSettings.cluster else { return }
        let production = KubeConnectionSettings(
            kubeconfigPath: workspace.config.cluster?.kubeconfig, context: workspace.config.cluster?.context)
        guard let productionEndpoint = try? KubeEndpoint.resolve(
            production, environment: workspace.environment, logger: workspace.logger) else { return }
        let endpoint = try KubeEndpoint.resolve(
            KubeConnectionSettings(kubeconfigPath: drill.kubeconfig, context: drill.context),
            environment: workspace.environment, logger: workspace.logger)
        func normalized(_ server: String) -> String {
            var text = server.lowercased()
            while text.hasSuffix("/") { text.removeLast() }
            return text
        }
        if normalized(endpoint.server) == normalized(productionEndpoint.server) {
            throw DRError(.refused, "the drill cluster (\(endpoint.server)) is the production cluster; a drill never touches production",
                          hint: "point `drills.cluster` in \(workspace.config.file) at a separate cluster, or remove it to skip Kubernetes steps")
        }
    }

    /// Why `step` is not rehearsed, or nil when it runs in the drill.
    func notRehearsedReason(_ step: RunbookStep) -> String? {
        switch step.body {
        case .shell:
            return step.drillSafe ? nil : "an `sh` step not marked drill-safe (`drill=run`)"
        case .action(let name, _):
            if name == ManualAction.name { return "a manual step" }
            if cluster == nil, Self.clusterActionPrefixes.contains(where: { name.hasPrefix($0) }) {
                return "needs a Kubernetes cluster and `drills.cluster` is not configured"
            }
            return nil
        }
    }

    /// Runs the drill of `runbook` at `at` (default now). Throws, with nothing journaled,
    /// when the plan does not bind or would write outside the sandbox.
    public func run(_ runbook: Runbook, at: Date? = nil) throws -> DrillReport {
        let clock = ContinuousClock()
        let start = clock.now
        let startedAt = workspace.now()
        let at = at ?? startedAt
        let sandbox = try DrillSandbox.create(in: sandboxDir, now: startedAt)
        let hold = try sandbox.hold()
        defer {
            if keepSandbox { sandbox.markKept() } else { sandbox.remove() }
            withExtendedLifetime(hold) {}
        }
        sandboxCreated(sandbox)
        for stale in DrillSandbox.sweep(parent: sandboxDir, except: sandbox) {
            workspace.logger.notice("removed the sandbox \(stale) left by an interrupted drill")
        }
        output("Drill of runbook \(runbook.name) in sandbox \(sandbox.root)")

        var reasons: [String: String] = [:]
        var drillRunbook = runbook
        drillRunbook.steps = []
        for var step in runbook.steps {
            if let reason = notRehearsedReason(step) {
                reasons[step.id] = reason
                continue
            }
            // A `check:` probe looks at production; only drill-safe steps keep theirs.
            if !step.drillSafe { step.check = nil }
            drillRunbook.steps.append(step)
        }
        if cluster == nil {
            drillRunbook.requires.removeAll { if case .cluster = $0 { true } else { false } }
        }
        let plan = try Planner(workspace: workspace, actions: actions, cluster: .some(cluster), drill: sandbox)
            .plan(drillRunbook, at: at)
        try Self.checkConfined(plan, sandbox: sandbox)

        let executor = Executor(
            workspace: workspace, actions: actions, confirmer: confirmer, interrupt: interrupt, mode: .drill,
            cluster: .some(cluster), drill: sandbox, output: output)
        let execution = try executor.run(drillRunbook, at: at)
        let recordedAt = workspace.now()
        for step in runbook.steps {
            guard let reason = reasons[step.id] else { continue }
            output("not rehearsed: \(step.id) (\(reason))")
            try workspace.catalog.recordStep(
                ExecutionStepRecord(
                    executionID: execution.executionID, stepID: step.id, attempt: 1, status: .skipped,
                    startedAt: recordedAt, finishedAt: recordedAt, outputTail: "\(Self.notRehearsed): \(reason)"),
                redactor: Redactor())
        }
        let recaps = Dictionary(execution.steps.map { ($0.id, $0) }, uniquingKeysWith: { _, last in last })
        let journal = Dictionary(
            try workspace.catalog.executionSteps(execution.executionID).map { ($0.stepID, $0) },
            uniquingKeysWith: { first, last in last.attempt >= first.attempt ? last : first })
        let steps = runbook.steps.map { step in
            if let reason = reasons[step.id] {
                return DrillStep(id: step.id, title: step.title, status: Self.notRehearsed, reason: reason)
            }
            let seconds = journal[step.id].map { $0.finishedAt.timeIntervalSince($0.startedAt) }
            return DrillStep(id: step.id, title: step.title, status: recaps[step.id]?.status?.rawValue ?? "not-run",
                             seconds: seconds)
        }

        var problems: [String] = []
        if execution.status != .succeeded {
            problems.append(execution.error ?? "the execution ended \(execution.status.rawValue)")
        }
        var checks: [DrillCheck] = []
        var verified: Set<String> = []
        if execution.status == .succeeded {
            output("")
            output("==> verifying the restored copies")
            let verifier = DrillVerifier(workspace: workspace, sandbox: sandbox)
            for snapshot in plan.snapshots {
                let results = verifier.verify(snapshot)
                for check in results { output("    \(check.passed ? "ok" : "FAILED"): \(check.name): \(check.detail)") }
                checks += results
                if !results.isEmpty, results.allSatisfy(\.passed) { verified.insert(snapshot.id) }
            }
        }
        problems += checks.filter { !$0.passed }.map { "\($0.name): \($0.detail)" }
        let result: DrillResultKind = !problems.isEmpty ? .failed : (reasons.isEmpty ? .success : .warnings)
        let rto = result == .failed ? nil : (clock.now - start).seconds
        let snapshots = plan.snapshots.compactMap { bound -> DrillSnapshot? in
            guard let source = bound.source, let kind = bound.kind, let dataTime = bound.dataTime else { return nil }
            return DrillSnapshot(id: bound.id, source: source, kind: kind, dataTime: dataTime,
                                 rpoSeconds: at.timeIntervalSince(dataTime),
                                 rpoTargetSeconds: workspace.config.source(named: source)?.scheduling.rpoTargetSeconds,
                                 verified: verified.contains(bound.id))
        }
        try workspace.catalog.finishDrill(
            execution.executionID, result: result, rtoSeconds: rto,
            error: result == .failed ? problems.joined(separator: "; ") : nil)
        if result != .failed {
            try workspace.catalog.markRestoreTested(verified.sorted(), executionID: execution.executionID, at: workspace.now())
        }
        let report = DrillReport(
            executionID: execution.executionID, runbook: runbook.name, result: result, trigger: trigger, at: at,
            startedAt: startedAt, finishedAt: workspace.now(), rtoSeconds: rto,
            rtoTargetSeconds: workspace.config.drillSettings.settings(for: runbook.name)?.rtoTargetSeconds,
            rpoSeconds: snapshots.map(\.rpoSeconds).max(), steps: steps, snapshots: snapshots,
            checks: checks, problems: problems, sandbox: sandbox.root, sandboxKept: keepSandbox)
        try workspace.catalog.recordDrillReport(report)
        output("Drill \(result.rawValue): \(problems.isEmpty ? "\(reasons.count) step(s) not rehearsed" : problems.joined(separator: "; "))")
        return report
    }

    /// Refuses a plan that would write a local path outside the sandbox.
    static func checkConfined(_ plan: Plan, sandbox: DrillSandbox) throws {
        let outside = plan.steps.flatMap { bound in
            (bound.action?.writes ?? []).filter { !sandbox.contains($0) }.map { "step \(bound.step.id) writes \($0)" }
        }
        guard outside.isEmpty else {
            throw DRError(.refused, "the drill would write outside its sandbox \(sandbox.root): \(outside.joined(separator: "; "))",
                          hint: "nothing was run")
        }
    }
}
