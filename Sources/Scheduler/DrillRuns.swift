public import DRCore
public import Foundation
internal import Logging
internal import Restore

/// What `drctl run --due` decided for one scheduled drill (`drills.runbooks[].schedule`).
public struct DrillDueDecision: Sendable, Codable, Equatable {
    public var runbook: String
    public var schedule: String
    /// `run` or `not-due` (drills have no `starting_deadline`: a missed slot runs once).
    public var action: DueDecision.Action
    /// The newest fire time at or before now.
    public var slot: Date?
    /// When the newest drill of the runbook started, whatever its result.
    public var lastDrill: Date?
    /// The next fire time after now.
    public var next: Date?
}

/// A scheduled drill that ran: its report, or why it could not run.
public struct DrillOutcome: Sendable, Codable {
    public var runbook: String
    /// The drill's report; nil when the drill stopped before it started (e.g. nothing to bind).
    public var report: DrillReport?
    /// Why the drill failed or could not start.
    public var error: String?
    /// The ``DRError/Code`` raw value of `error`, when the drill threw.
    public var errorCode: String?

    /// FAILED, or could not run at all. WARNINGS (steps not rehearsed) is not a failure.
    public var failed: Bool { report.map { $0.result == .failed } ?? true }
}

/// Scheduled DR drills: due computation and running, for `run --due` and the daemon.
///
/// A drill is due when its schedule fired after the start of the runbook's newest drill
/// (whatever that drill's result: a failed drill is notified and retried at the next slot,
/// not every pass), or when the runbook was never drilled and a slot has passed.
public enum DrillRuns {
    /// The parsed schedule of a drill entry, or nil when it has none.
    public static func schedule(of entry: DrillRunbookConfig) throws -> CronSchedule? {
        guard let expression = entry.schedule else { return nil }
        guard let zone = TimeZone(identifier: entry.timeZone) else {
            throw DRError(.config, "unknown time zone `\(entry.timeZone)`; expected an IANA name such as UTC or Europe/Warsaw")
        }
        return try CronSchedule(parsing: expression, timeZone: zone)
    }

    /// Decides, for every scheduled drill, whether it is due at `now`.
    public static func plan(_ workspace: Workspace, now: Date) throws -> [DrillDueDecision] {
        try workspace.config.drillSettings.runbooks.compactMap { entry -> DrillDueDecision? in
            guard let cron = try schedule(of: entry), let text = entry.schedule else { return nil }
            let slot = cron.previous(atOrBefore: now)
            let last = try workspace.catalog.lastDrillStart(runbook: entry.runbook)
            var decision = DrillDueDecision(runbook: entry.runbook, schedule: text, action: .notDue, slot: slot,
                                            lastDrill: last, next: cron.next(after: now))
            if let slot, last.map({ slot > $0 }) ?? true { decision.action = .run }
            return decision
        }
    }

    /// The earliest next fire time over all scheduled drills after `date`.
    public static func nextFire(_ config: DRConfig, after date: Date) throws -> Date? {
        try config.drillSettings.runbooks.compactMap { try schedule(of: $0)?.next(after: date) }.min()
    }

    /// Runs the drills of `runbooks` one after the other (trigger `schedule`, every
    /// confirmation answered yes, lines logged). Never throws: a drill that cannot start is
    /// an outcome with an error.
    public static func run(_ workspace: Workspace, runbooks: [String]) -> [DrillOutcome] {
        let logger = workspace.logger
        return runbooks.map { name in
            logger.info("drill of runbook \(name): starting")
            do {
                let runbook = try RunbookLoader.load(name: name, config: workspace.config)
                var drill = try Drill(workspace: workspace, confirmer: AssumeYes(), output: { line in
                    if !line.isEmpty { logger.info("drill \(name): \(line)") }
                })
                drill.trigger = "schedule"
                let report = try drill.run(runbook)
                switch report.result {
                case .success:
                    logger.info("drill of runbook \(name): SUCCESS")
                case .warnings:
                    logger.warning("drill of runbook \(name): WARNINGS, not rehearsed: \(report.notRehearsed.map(\.id).joined(separator: ", "))")
                case .failed:
                    logger.error("drill of runbook \(name): FAILED: \(report.problems.joined(separator: "; "))")
                }
                return DrillOutcome(runbook: name, report: report,
                                    error: report.result == .failed ? report.problems.joined(separator: "; ") : nil)
            } catch {
                let wrapped = DRError.wrap(error)
                logger.error("drill of runbook \(name) could not run: \(wrapped.description)")
                return DrillOutcome(runbook: name, report: nil, error: wrapped.description, errorCode: wrapped.code.rawValue)
            }
        }
    }

    /// Sends `drill-failure` for every failed drill; never throws.
    static func notify(_ outcomes: [DrillOutcome], notifier: Notifier?) {
        guard let notifier else { return }
        for outcome in outcomes where outcome.failed {
            notifier.notify(.drillFailure, source: outcome.runbook, error: outcome.error,
                            text: "drctl: drill of runbook \(outcome.runbook) FAILED: \(outcome.error ?? "unknown error")")
        }
    }
}
