public import DRCore
public import Foundation
internal import Logging
public import Snapshots

/// What `drctl run --due` decided for one scheduled source.
public struct DueDecision: Sendable, Codable, Equatable {
    /// Run now, skip because the run is later than `starting_deadline`, or nothing to do.
    public enum Action: String, Sendable, Codable {
        case run
        case skipLate = "skip-late"
        case notDue = "not-due"
    }

    public var source: String
    public var schedule: String
    public var action: Action
    /// The newest fire time at or before now (the slot this run serves).
    public var slot: Date?
    /// When the newest successful attempt started.
    public var lastSuccess: Date?
    /// Seconds between the slot and now.
    public var lateSeconds: Double?
    /// The next fire time after now.
    public var next: Date?
}

/// The result of one `run --due`.
public struct DueReport: Sendable, Codable {
    /// Every scheduled source and what was decided.
    public var decisions: [DueDecision]
    /// Every scheduled drill and what was decided.
    public var drillDecisions: [DrillDueDecision]
    /// The catalog run, when something ran.
    public var runID: Int64?
    public var outcomes: [BackupOutcome]
    /// The drills that ran (after the backups and the verification).
    public var drills: [DrillOutcome]
    /// Whether the scheduled verification was due, and what it found when it ran.
    public var verifyDecision: VerifyDueDecision?
    public var verify: VerifyOutcome?
    /// Set when another run held the lock and `on_locked: skip` applied (its pid, if known).
    public var lockedBy: Int32?
    /// True when the lock was busy and this invocation did nothing.
    public var skippedLocked: Bool
    /// Whether everything due succeeded (skipped-late sources do not count as failures, nor
    /// do drills with WARNINGS).
    public var succeeded: Bool {
        outcomes.allSatisfy(\.succeeded) && !drills.contains(where: \.failed) && !(verify?.failed ?? false)
    }

    private enum CodingKeys: String, CodingKey {
        case decisions, drillDecisions, runID, outcomes, drills, verifyDecision, verify, lockedBy, skippedLocked, succeeded
    }

    public init(decisions: [DueDecision], drillDecisions: [DrillDueDecision] = [], runID: Int64?,
                outcomes: [BackupOutcome], drills: [DrillOutcome] = [], verifyDecision: VerifyDueDecision? = nil,
                verify: VerifyOutcome? = nil, lockedBy: Int32?, skippedLocked: Bool) {
        self.verifyDecision = verifyDecision
        self.verify = verify
        self.decisions = decisions
        self.drillDecisions = drillDecisions
        self.runID = runID
        self.outcomes = outcomes
        self.drills = drills
        self.lockedBy = lockedBy
        self.skippedLocked = skippedLocked
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        decisions = try container.decode([DueDecision].self, forKey: .decisions)
        drillDecisions = try container.decodeIfPresent([DrillDueDecision].self, forKey: .drillDecisions) ?? []
        runID = try container.decodeIfPresent(Int64.self, forKey: .runID)
        outcomes = try container.decode([BackupOutcome].self, forKey: .outcomes)
        drills = try container.decodeIfPresent([DrillOutcome].self, forKey: .drills) ?? []
        verifyDecision = try container.decodeIfPresent(VerifyDueDecision.self, forKey: .verifyDecision)
        verify = try container.decodeIfPresent(VerifyOutcome.self, forKey: .verify)
        lockedBy = try container.decodeIfPresent(Int32.self, forKey: .lockedBy)
        skippedLocked = try container.decode(Bool.self, forKey: .skippedLocked)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(decisions, forKey: .decisions)
        try container.encode(drillDecisions, forKey: .drillDecisions)
        try container.encodeIfPresent(runID, forKey: .runID)
        try container.encode(outcomes, forKey: .outcomes)
        try container.encode(drills, forKey: .drills)
        try container.encodeIfPresent(verifyDecision, forKey: .verifyDecision)
        try container.encodeIfPresent(verify, forKey: .verify)
        try container.encodeIfPresent(lockedBy, forKey: .lockedBy)
        try container.encode(skippedLocked, forKey: .skippedLocked)
        try container.encode(succeeded, forKey: .succeeded)
    }
}

/// Due computation and execution for scheduled sources.
///
/// A source is due when its schedule fired (`previous(atOrBefore: now)`) after the start of
/// its last successful attempt, or when it has never succeeded. However many slots passed
/// meanwhile, it runs once. When `starting_deadline` is set and `now - slot` exceeds it, the
/// run is skipped, logged and recorded in `<data_dir>/schedule-state.json`.
public enum DueRuns {
    /// The parsed schedule of a source, or nil when it has none.
    public static func schedule(of source: SourceConfig) throws -> CronSchedule? {
        try ScheduleValidation.schedule(of: source)
    }

    /// Decides, for every scheduled source, whether it is due at `now`.
    public static func plan(_ workspace: Workspace, now: Date) throws -> [DueDecision] {
        let scheduled = workspace.config.sources.filter { $0.schedule != nil }
        let history = try SourceHistory.load(workspace, sources: scheduled.map(\.name))
        return try scheduled.compactMap { source -> DueDecision? in
            guard let cron = try schedule(of: source), let text = source.schedule else { return nil }
            let slot = cron.previous(atOrBefore: now)
            let lastSuccess = history[source.name]?.lastSuccess
            var decision = DueDecision(
                source: source.name, schedule: text, action: .notDue, slot: slot, lastSuccess: lastSuccess,
                lateSeconds: slot.map { now.timeIntervalSince($0) }, next: cron.next(after: now))
            guard let slot, lastSuccess.map({ slot > $0 }) ?? true else { return decision }
            if let deadline = source.scheduling.startingDeadlineSeconds, now.timeIntervalSince(slot) > Double(deadline) {
                decision.action = .skipLate
            } else {
                decision.action = .run
            }
            return decision
        }
    }

    /// The earliest next fire time over all scheduled sources and drills after `date`.
    public static func nextFire(_ config: DRConfig, after date: Date) throws -> Date? {
        let sources = try config.sources.compactMap { try schedule(of: $0)?.next(after: date) }
        let others = [try DrillRuns.nextFire(config, after: date), try VerifyRuns.schedule(of: config)?.next(after: date)]
        return (sources + others.compactMap { $0 }).min()
    }

    /// Runs everything due under the data folder's lock: the due sources in one catalog run
    /// with trigger `cron`, then the scheduled verification (``VerifyRuns``), then the due drills (``DrillRuns``); then writes metrics and sends
    /// notifications (``RunReporting``, `drill-failure`).
    ///
    /// With `dryRun` nothing runs and no lock is taken. When the lock is busy, `on_locked`
    /// decides: `skip` returns a report with ``DueReport/skippedLocked``; `wait` blocks, then
    /// plans again, so sources the other run backed up are no longer due.
    public static func run(
        _ workspace: Workspace, dryRun: Bool = false, options: BackupOptions = BackupOptions(),
        notifier: Notifier? = nil
    ) throws -> DueReport {
        let logger = workspace.logger
        if dryRun {
            let now = workspace.now()
            return DueReport(decisions: try plan(workspace, now: now), drillDecisions: try DrillRuns.plan(workspace, now: now),
                             runID: nil, outcomes: [], verifyDecision: try VerifyRuns.plan(workspace, now: now),
                             lockedBy: nil, skippedLocked: false)
        }
        let lock: RunLock
        switch try RunLock.acquire(dataDir: workspace.config.dataDir, wait: workspace.config.onLocked == .wait) {
        case .acquired(let held):
            lock = held
        case .busy(let holder):
            logger.info("another drctl run (pid \(holder.map { "\($0)" } ?? "unknown")) holds the lock; skipping")
            return DueReport(decisions: [], runID: nil, outcomes: [], lockedBy: holder, skippedLocked: true)
        }
        defer { lock.release() }
        let now = workspace.now()
        let decisions = try plan(workspace, now: now)
        let late = decisions.filter { $0.action == .skipLate }
        for decision in late {
            logger.warning("source \(decision.source): skipped the run due at \(ISO8601.format(decision.slot ?? now)): \(Int(decision.lateSeconds ?? 0))s late, past starting_deadline")
        }
        if !late.isEmpty { try ScheduleState.recordSkips(late, at: now, dataDir: workspace.config.dataDir) }
        let due = decisions.filter { $0.action == .run }.map(\.source)
        let drillDecisions = try DrillRuns.plan(workspace, now: now)
        let dueDrills = drillDecisions.filter { $0.action == .run }.map(\.runbook)
        let verifyDecision = try VerifyRuns.plan(workspace, now: now)
        let verifyDue = verifyDecision?.action == .run
        guard !due.isEmpty || !dueDrills.isEmpty || verifyDue else {
            logger.info("nothing is due")
            return DueReport(decisions: decisions, drillDecisions: drillDecisions, runID: nil, outcomes: [],
                             verifyDecision: verifyDecision, lockedBy: nil, skippedLocked: false)
        }
        var runID: Int64?
        var outcomes: [BackupOutcome] = []
        if !due.isEmpty {
            var locked = options
            locked.holdsRunLock = true
            let backups = try Backup.run(workspace, sources: due, trigger: .cron, options: locked)
            runID = backups.runID
            outcomes = backups.outcomes
        }
        let verify = verifyDue ? VerifyRuns.run(workspace, notifier: notifier) : nil
        let drills = DrillRuns.run(workspace, runbooks: dueDrills)
        RunReporting.afterRun(workspace, outcomes: outcomes, notifier: notifier)
        DrillRuns.notify(drills, notifier: notifier)
        return DueReport(decisions: decisions, drillDecisions: drillDecisions, runID: runID, outcomes: outcomes,
                         drills: drills, verifyDecision: verifyDecision, verify: verify, lockedBy: nil, skippedLocked: false)
    }
}
