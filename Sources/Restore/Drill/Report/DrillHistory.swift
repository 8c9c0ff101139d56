public import DRCore
public import Foundation

/// The drill history `drctl drill report` renders: per runbook the last result, RTO and RPO
/// against their targets, the trend over the last drills, and what needs attention.
///
/// Built from the stored ``DrillReport``s and the configured `drills.runbooks`; the
/// renderers (``DrillReportRenderer``) are pure functions of it. Its `Codable` form is the
/// JSON report (keys documented in docs/DRILL-REPORTS.md).
public struct DrillHistory: Sendable, Codable, Hashable {
    /// The version of the JSON layout; raised when a key changes meaning or disappears.
    public static let currentSchemaVersion = 1

    public var schemaVersion: Int
    /// The `now` the history was built at.
    public var generatedAt: Date
    public var drctlVersion: String
    /// How many drills per runbook the trend keeps (`--last`).
    public var last: Int
    /// Configured runbooks in config order, then other drilled runbooks by name.
    public var runbooks: [RunbookDrillHistory]
    /// Stored drills over all listed runbooks (not only the trend's).
    public var totalDrills: Int

    /// Whether some runbook needs action now: its last drill failed or missed a target, or a
    /// scheduled drill is overdue (`drctl drill report` then exits 1).
    public var failing: Bool { runbooks.contains { $0.status == .failing } }
}

/// One runbook's drills.
public struct RunbookDrillHistory: Sendable, Codable, Hashable {
    /// `ok`: the last drill passed and met its targets; `warning`: not rehearsed steps, never
    /// drilled; `failing`: FAILED, a missed target, or an overdue scheduled drill.
    public enum Status: String, Sendable, Codable, Hashable, CaseIterable {
        case ok
        case warning
        case failing
    }

    public var runbook: String
    public var status: Status
    /// Listed in `drills.runbooks`.
    public var configured: Bool
    /// The configured drill schedule (cron line or macro) and its time zone.
    public var schedule: String?
    public var timeZone: String?
    /// The RTO target now: the configured `rto_target`, else the last drill's.
    public var rtoTargetSeconds: Int?
    /// When the next scheduled drill is due (after the last one, or after now when never drilled).
    public var nextDrillDue: Date?
    /// A scheduled drill is more than the grace period late (``DrillHistory/overdueGrace``).
    public var overdue: Bool
    /// All stored drills of the runbook, by result.
    public var counts: DrillCounts
    /// The newest drill; nil when never drilled.
    public var lastDrill: DrillPoint?
    /// The last drill's snapshot furthest over (or closest to) its RPO target.
    public var worstRPO: SnapshotRPO?
    /// The last drill's RTO against the previous drill's that had one.
    public var rtoChange: RTOChange?
    /// The last drills, oldest first.
    public var trend: [DrillPoint]
    /// Failed verifications of the last drill.
    public var failedChecks: [DrillCheck]
    /// Why the last drill failed, one line each.
    public var problems: [String]
    /// Steps the last drill did not rehearse, with the reason.
    public var notRehearsed: [NotRehearsedStep]
    /// What needs attention, most severe first.
    public var findings: [Finding]

    /// True when the runbook has no stored drill.
    public var neverDrilled: Bool { lastDrill == nil }
}

/// Stored drills by result.
public struct DrillCounts: Sendable, Codable, Hashable {
    public var success: Int
    public var warnings: Int
    public var failed: Int
    public var total: Int { success + warnings + failed }

    public init(success: Int = 0, warnings: Int = 0, failed: Int = 0) {
        self.success = success
        self.warnings = warnings
        self.failed = failed
    }

    enum CodingKeys: String, CodingKey { case success, warnings, failed, total }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        success = try container.decode(Int.self, forKey: .success)
        warnings = try container.decode(Int.self, forKey: .warnings)
        failed = try container.decode(Int.self, forKey: .failed)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(success, forKey: .success)
        try container.encode(warnings, forKey: .warnings)
        try container.encode(failed, forKey: .failed)
        try container.encode(total, forKey: .total)
    }
}

/// One drill on the trend.
public struct DrillPoint: Sendable, Codable, Hashable {
    public var executionID: String?
    public var startedAt: Date
    /// The time the drill bound its snapshots at (`--at`).
    public var at: Date
    public var result: DrillResultKind
    /// `manual` or `schedule`.
    public var trigger: String
    /// Nil when the drill failed (no recovery was reached).
    public var rtoSeconds: Double?
    public var rtoTargetSeconds: Int?
    /// Nil without a target or an RTO.
    public var rtoMet: Bool?
    /// The worst snapshot RPO.
    public var rpoSeconds: Double?
    /// The tightest RPO target among the restored sources.
    public var rpoTargetSeconds: Int?
    /// Nil when no restored source has a target.
    public var rpoMet: Bool?
    /// Per restored snapshot.
    public var snapshots: [SnapshotRPO]

    /// Whether the drill passed and met every target it had.
    public var passed: Bool { result != .failed && rtoMet != false && rpoMet != false }
}

/// The RPO of one restored snapshot.
public struct SnapshotRPO: Sendable, Codable, Hashable {
    public var source: String
    public var snapshotID: String
    public var rpoSeconds: Double
    public var targetSeconds: Int?
    public var met: Bool?
}

/// How the last RTO compares with the previous one.
public struct RTOChange: Sendable, Codable, Hashable {
    public enum Direction: String, Sendable, Codable, Hashable {
        case better
        case worse
        /// Within ±5 % (or one second) of the previous RTO.
        case same
    }

    public var direction: Direction
    public var previousSeconds: Double
    /// Last minus previous: negative is faster.
    public var deltaSeconds: Double
}

/// A step the last drill did not rehearse.
public struct NotRehearsedStep: Sendable, Codable, Hashable {
    public var id: String
    public var title: String
    public var reason: String?
}

/// Something in the history that needs attention.
public struct Finding: Sendable, Codable, Hashable {
    public enum Severity: String, Sendable, Codable, Hashable {
        case failing
        case warning
    }

    public var severity: Severity
    /// A stable identifier: `failed`, `rto-missed`, `rpo-missed`, `overdue`, `not-rehearsed`, `never-drilled`.
    public var kind: String
    public var message: String
}
