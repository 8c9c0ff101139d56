public import Foundation

/// One runbook step of a drill and what happened to it.
public struct DrillStep: Sendable, Codable, Hashable {
    public var id: String
    public var title: String
    /// `ok`, `changed`, `skipped`, `failed`, `not-run` or `not-rehearsed`.
    public var status: String
    /// Why the step was not rehearsed.
    public var reason: String?
    /// Wall time of the step's last attempt, when it ran.
    public var seconds: Double?

    public init(id: String, title: String, status: String, reason: String? = nil, seconds: Double? = nil) {
        self.id = id
        self.title = title
        self.status = status
        self.reason = reason
        self.seconds = seconds
    }
}

/// One verification of a restored artifact.
public struct DrillCheck: Sendable, Codable, Hashable {
    /// What was checked (`git gitops: refs`).
    public var name: String
    public var passed: Bool
    /// What was found; a failure names the objects.
    public var detail: String

    public init(name: String, passed: Bool, detail: String) {
        self.name = name
        self.passed = passed
        self.detail = detail
    }
}

/// A snapshot a drill restored, and the data it would lose.
public struct DrillSnapshot: Sendable, Codable, Hashable {
    public var id: String
    public var source: String
    public var kind: String
    public var dataTime: Date
    /// The drill's `--at` minus the snapshot's data time.
    public var rpoSeconds: Double
    /// The source's `rpo_target` when the drill ran, in seconds.
    public var rpoTargetSeconds: Int?
    /// Every verification of the restored copy passed.
    public var verified: Bool

    public init(id: String, source: String, kind: String, dataTime: Date, rpoSeconds: Double,
                rpoTargetSeconds: Int? = nil, verified: Bool) {
        self.id = id
        self.source = source
        self.kind = kind
        self.dataTime = dataTime
        self.rpoSeconds = rpoSeconds
        self.rpoTargetSeconds = rpoTargetSeconds
        self.verified = verified
    }

    /// Whether the RPO is within the source's target; nil without a target.
    public var rpoMet: Bool? { rpoTargetSeconds.map { rpoSeconds <= Double($0) } }
}

/// What a drill did, measured and verified; stored in the catalog (`drill_report`) and
/// rendered by `drctl drill report`.
public struct DrillReport: Sendable, Codable, Hashable {
    /// The journaled execution (nil when the drill stopped before it started).
    public var executionID: String?
    public var runbook: String
    public var result: DrillResultKind
    /// `manual` (`drctl drill`) or `schedule` (`drctl run --due`, `drctl daemon`).
    public var trigger: String
    public var at: Date
    public var startedAt: Date
    public var finishedAt: Date?
    /// Drill start to the last verification passing; nil when the drill failed.
    public var rtoSeconds: Double?
    /// The runbook's `rto_target` (`drills.runbooks`) when the drill ran, in seconds.
    public var rtoTargetSeconds: Int?
    /// The worst snapshot RPO.
    public var rpoSeconds: Double?
    public var steps: [DrillStep]
    public var snapshots: [DrillSnapshot]
    public var checks: [DrillCheck]
    /// Why the drill failed, one line each.
    public var problems: [String]
    public var sandbox: String
    public var sandboxKept: Bool

    public init(
        executionID: String?, runbook: String, result: DrillResultKind, trigger: String = "manual", at: Date,
        startedAt: Date, finishedAt: Date? = nil, rtoSeconds: Double?, rtoTargetSeconds: Int? = nil,
        rpoSeconds: Double?, steps: [DrillStep], snapshots: [DrillSnapshot], checks: [DrillCheck],
        problems: [String], sandbox: String, sandboxKept: Bool
    ) {
        self.executionID = executionID
        self.runbook = runbook
        self.result = result
        self.trigger = trigger
        self.at = at
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.rtoSeconds = rtoSeconds
        self.rtoTargetSeconds = rtoTargetSeconds
        self.rpoSeconds = rpoSeconds
        self.steps = steps
        self.snapshots = snapshots
        self.checks = checks
        self.problems = problems
        self.sandbox = sandbox
        self.sandboxKept = sandboxKept
    }

    /// Steps that were not rehearsed.
    public var notRehearsed: [DrillStep] { steps.filter { $0.status == DrillStep.notRehearsed } }
    /// Verifications that failed.
    public var failedChecks: [DrillCheck] { checks.filter { !$0.passed } }
    /// Whether the RTO is within the runbook's target; nil without a target or an RTO.
    public var rtoMet: Bool? {
        guard let target = rtoTargetSeconds, let rto = rtoSeconds else { return nil }
        return rto <= Double(target)
    }
    /// Whether every snapshot's RPO is within its source's target; nil when no source has one.
    public var rpoMet: Bool? {
        let verdicts = snapshots.compactMap(\.rpoMet)
        return verdicts.isEmpty ? nil : verdicts.allSatisfy { $0 }
    }
    /// The tightest RPO target among the restored sources, in seconds.
    public var rpoTargetSeconds: Int? { snapshots.compactMap(\.rpoTargetSeconds).min() }
}

extension DrillStep {
    /// The step status recorded for a step that a drill skips on purpose.
    public static let notRehearsed = "not-rehearsed"
}
