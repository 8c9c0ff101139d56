public import DRCore
public import Foundation

/// A runbook with every step bound: what will run, against which snapshots, and the RPO.
///
/// Built by ``Planner``; binding changes nothing, so a plan can be printed (`--plan`)
/// without side effects.
public struct Plan: Sendable {
    public var runbook: Runbook
    /// Snapshots are bound at or before this time (`--at`).
    public var at: Date
    /// When the plan was bound (snapshot ages are measured from here).
    public var boundAt: Date
    public var steps: [BoundStep]
    /// Every snapshot a step restores from, with its age.
    public var snapshots: [BoundSnapshot]

    /// The recovery point objective this restore gives: the age of the oldest bound snapshot.
    public var rpoSeconds: Double? { snapshots.compactMap(\.ageSeconds).max() }

    /// The index of step `id`, or nil.
    public func index(of id: String) -> Int? { steps.firstIndex { $0.step.id == id } }

    /// The plan's `Codable` form (`--json`, and the journal's `plan` column).
    public var document: PlanDocument {
        PlanDocument(
            runbook: runbook.name, title: runbook.title, origin: runbook.origin, contentHash: runbook.contentHash,
            at: at, boundAt: boundAt, rpoSeconds: rpoSeconds, snapshots: snapshots, steps: steps.map(\.document))
    }
}

/// One step, bound.
public struct BoundStep: Sendable {
    /// The step as the runbook has it (before substitution).
    public var step: RunbookStep
    /// For `sh` steps: the exact script run with `/bin/sh -e -c` (parameters substituted).
    public var script: String?
    /// For `drctl` steps: the bound action.
    public var action: (any RunbookAction)?
    /// The `check:` probe, parameters substituted.
    public var check: String?
    /// What the step will do, one line each.
    public var plan: [String]
    /// Snapshot ids the step restores from.
    public var snapshots: [String]
    /// The time limit of one attempt.
    public var timeout: Duration

    /// `sh`, or the action's name.
    public var kind: String {
        switch step.body {
        case .shell: "sh"
        case .action(let name, _): name
        }
    }

    /// Whether the operator must confirm this step (`confirm`, or a `manual` action).
    public var needsConfirmation: Bool { step.confirm || kind == "manual" }

    var document: StepDocument {
        StepDocument(
            id: step.id, title: step.title, line: step.line, kind: kind, script: script, check: check, plan: plan,
            snapshots: snapshots, timeoutSeconds: timeout.seconds, retries: step.retries, delaySeconds: step.delay.seconds,
            confirm: needsConfirmation, onFailure: step.onFailure.rawValue)
    }
}

/// A snapshot a plan binds, and how old its data is.
public struct BoundSnapshot: Sendable, Codable, Hashable {
    public var id: String
    /// Nil when the id is not in the catalog (an action's own reference).
    public var source: String?
    public var kind: String?
    /// The point in time the snapshot restores to.
    public var dataTime: Date?
    /// `boundAt - dataTime`: the data this restore loses (RPO).
    public var ageSeconds: Double?
}

/// The `Codable` form of a ``Plan``.
public struct PlanDocument: Sendable, Codable, Hashable {
    public var runbook: String
    public var title: String
    public var origin: String
    public var contentHash: String
    public var at: Date
    public var boundAt: Date
    public var rpoSeconds: Double?
    public var snapshots: [BoundSnapshot]
    public var steps: [StepDocument]

    /// JSON with ISO 8601 dates and sorted keys (what the journal stores).
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(ISO8601.format(date))
        }
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// Reads what ``json()`` wrote.
    public static func decode(_ text: String) throws -> PlanDocument {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            guard let date = ISO8601.parse(text) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "bad date \(text)"))
            }
            return date
        }
        return try decoder.decode(PlanDocument.self, from: Data(text.utf8))
    }
}

/// The `Codable` form of a ``BoundStep``.
public struct StepDocument: Sendable, Codable, Hashable {
    public var id: String
    public var title: String
    public var line: Int
    /// `sh` or the action name.
    public var kind: String
    public var script: String?
    public var check: String?
    public var plan: [String]
    public var snapshots: [String]
    public var timeoutSeconds: Double
    public var retries: Int
    public var delaySeconds: Double
    public var confirm: Bool
    public var onFailure: String
}

/// Binds a runbook's steps before anything runs: requirements first, then every step
/// (all binding errors are reported together, each with its step id and line).
public struct Planner: Sendable {
    /// The default time limit of an `sh` step attempt.
    public static let defaultShellTimeout: Duration = .seconds(600)

    public var workspace: Workspace
    /// The action table `drctl` blocks are looked up in.
    public var actions: [any RunbookAction.Type]
    /// The cluster, created lazily; nil when none can be configured.
    public var cluster: (@Sendable () throws -> KubeClient)?
    /// In a drill: the sandbox local targets are redirected into.
    public var drill: DrillSandbox?

    /// A planner over `actions` (tests inject their own). `cluster`: omitted or nil means
    /// the workspace's cluster, created on first use; `.some(nil)` means no cluster.
    public init(
        workspace: Workspace, actions: [any RunbookAction.Type] = ActionRegistry.all,
        cluster: (@Sendable () throws -> KubeClient)?? = nil, drill: DrillSandbox? = nil
    ) {
        self.workspace = workspace
        self.actions = actions
        self.cluster = cluster ?? Planner.lazyCluster(workspace)
        self.drill = drill
    }

    /// The workspace's cluster client, created on first use and then shared.
    public static func lazyCluster(_ workspace: Workspace) -> @Sendable () throws -> KubeClient {
        let box = LazyClient()
        return { try box.get { try workspace.kubeClient() } }
    }

    /// Binds `runbook` at `at` (default: the workspace clock's now). Throws before
    /// anything runs when a requirement is unmet or any step does not bind.
    public func plan(_ runbook: Runbook, at: Date? = nil) throws -> Plan {
        let now = workspace.now()
        let at = at ?? now
        try checkRequirements(runbook)
        let directory: String? = runbook.origin.hasPrefix("builtin:") || runbook.origin.isEmpty
            ? nil : (runbook.origin as NSString).deletingLastPathComponent
        let context = PlanContext(
            workspace: workspace, at: at, params: runbook.params, cluster: cluster, runbookDirectory: directory,
            drill: drill)
        var bound: [BoundStep] = []
        var problems: [(step: RunbookStep, error: DRError)] = []
        for step in runbook.steps {
            do {
                bound.append(try bind(step, runbook: runbook, context: context))
            } catch {
                problems.append((step, DRError.wrap(error, code: .config)))
            }
        }
        if !problems.isEmpty {
            let lines = problems.map { "  step `\($0.step.id)` (\(runbook.origin):\($0.step.line)): \($0.error.description)" }
            let codes = Set(problems.map(\.error.code))
            let code = codes.count == 1 ? problems[0].error.code : .failed
            throw DRError(
                code, "runbook \(runbook.name) cannot start: \(problems.count) step(s) do not bind\n" + lines.joined(separator: "\n"),
                hint: "nothing was run; fix the causes above and plan again (`drctl restore \(runbook.name) --plan`)")
        }
        var snapshots: [BoundSnapshot] = []
        for id in bound.flatMap(\.snapshots) where !snapshots.contains(where: { $0.id == id }) {
            if let record = try? workspace.catalog.snapshot(matching: id) {
                snapshots.append(BoundSnapshot(
                    id: record.id, source: record.source, kind: record.kind, dataTime: record.dataTime,
                    ageSeconds: now.timeIntervalSince(record.dataTime)))
            } else {
                snapshots.append(BoundSnapshot(id: id))
            }
        }
        return Plan(runbook: runbook, at: at, boundAt: now, steps: bound, snapshots: snapshots)
    }

    private func bind(_ original: RunbookStep, runbook: Runbook, context: PlanContext) throws -> BoundStep {
        // `{{param}}` values: shell-quoted in scripts and probes, verbatim in action arguments.
        let step = try original.substituting(params: runbook.params, origin: runbook.origin)
        switch step.body {
        case .shell(let script):
            return BoundStep(
                step: step, script: script, action: nil, check: step.check,
                plan: script.split(separator: "\n", omittingEmptySubsequences: false).map { "$ \($0)" },
                snapshots: [], timeout: step.timeout ?? Self.defaultShellTimeout)
        case .action(let name, let arguments):
            guard let type = actions.first(where: { $0.name == name }) else {
                let known = actions.map { $0.name }.sorted().joined(separator: ", ")
                throw DRError(.config, "unknown action `\(name)`",
                              hint: known.isEmpty ? "no built-in actions are available" : "known actions: \(known)")
            }
            let action = try type.init(arguments: arguments, context: context)
            return BoundStep(
                step: step, script: nil, action: action, check: step.check, plan: action.plan, snapshots: action.snapshots,
                timeout: step.timeout ?? type.defaultTimeout)
        }
    }

    /// Checks the runbook's `requires:`; every unmet one is listed in one error.
    public func checkRequirements(_ runbook: Runbook) throws {
        var problems: [DRError] = []
        for requirement in runbook.requires {
            do {
                try check(requirement)
            } catch {
                problems.append(DRError.wrap(error))
            }
        }
        guard let first = problems.first else { return }
        let code = Set(problems.map(\.code)).count == 1 ? first.code : .failed
        throw DRError(
            code, "runbook \(runbook.name) cannot start:\n" + problems.map { "  \($0.description)" }.joined(separator: "\n"),
            hint: "nothing was run")
    }

    private func check(_ requirement: RunbookRequirement) throws {
        switch requirement {
        case .cluster:
            guard let cluster else {
                throw DRError(.config, "requires a Kubernetes cluster and none is configured",
                              hint: "add a `cluster:` section to drctl.yaml, or set KUBECONFIG")
            }
            do {
                _ = try cluster().serverVersion()
            } catch {
                throw DRError.wrap(error, code: .unreachable, "requires a reachable Kubernetes cluster")
            }
        case .source(let kind):
            guard workspace.config.sources.contains(where: { $0.kind == kind }) else {
                throw DRError(.config, "requires a `\(kind.rawValue)` source and \(workspace.config.file) has none")
            }
        case .identity:
            guard workspace.codec.canDecrypt else {
                throw DRError(.crypto, "requires an age identity to decrypt snapshots and none is configured",
                              hint: "set `encryption.identity:` in \(workspace.config.file) to the identity file")
            }
        case .tool(let tool):
            _ = try workspace.environment.require(tool, purpose: "run this runbook")
        }
    }
}

/// A client created once, on first use.
final class LazyClient: @unchecked Sendable {
    private let lock = NSLock()
    private var client: KubeClient?

    func get(_ make: () throws -> KubeClient) throws -> KubeClient {
        try lock.withLock {
            if let client { return client }
            let made = try make()
            client = made
            return made
        }
    }
}
