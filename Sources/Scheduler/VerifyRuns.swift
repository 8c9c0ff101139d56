public import DRCore
public import Foundation
internal import Logging
public import Snapshots

/// What `drctl run --due` decided for the scheduled verification (`verify:`).
public struct VerifyDueDecision: Sendable, Codable, Equatable {
    public var schedule: String
    /// `run` or `not-due` (a missed slot runs once at the next call).
    public var action: DueDecision.Action
    public var slot: Date?
    /// When the newest scheduled verification started.
    public var lastVerify: Date?
    public var next: Date?
}

/// Scheduled verification: due when `verify.schedule` fired after the newest scheduled
/// verification started (or none ever ran); runs `drctl verify` with the configured depth.
public enum VerifyRuns {
    /// The parsed `verify.schedule`, or nil without a `verify:` section.
    public static func schedule(of config: DRConfig) throws -> CronSchedule? {
        guard let verify = config.verify else { return nil }
        guard let zone = TimeZone(identifier: verify.timeZone) else {
            throw DRError(.config, "unknown time zone `\(verify.timeZone)`; expected an IANA name such as UTC or Europe/Warsaw")
        }
        return try CronSchedule(parsing: verify.schedule, timeZone: zone)
    }

    /// Whether the scheduled verification is due at `now`; nil without a `verify:` section.
    public static func plan(_ workspace: Workspace, now: Date) throws -> VerifyDueDecision? {
        guard let cron = try schedule(of: workspace.config), let text = workspace.config.verify?.schedule else { return nil }
        let slot = cron.previous(atOrBefore: now)
        let last = ScheduleState.load(dataDir: workspace.config.dataDir).lastVerify
        var decision = VerifyDueDecision(schedule: text, action: .notDue, slot: slot, lastVerify: last, next: cron.next(after: now))
        if let slot, last.map({ slot > $0 }) ?? true { decision.action = .run }
        return decision
    }

    /// Runs the scheduled verification and records its start; never throws: an error is a
    /// failed report-less outcome, logged and notified.
    public static func run(_ workspace: Workspace, notifier: Notifier?) -> VerifyOutcome {
        let start = workspace.now()
        let settings = workspace.config.verify
        let options = VerifyOptions(readData: settings?.readData ?? false, subsetPercent: settings?.subsetPercent)
        var outcome: VerifyOutcome
        do {
            let report = try Verify.run(workspace, options: options)
            outcome = VerifyOutcome(report: report, error: report.passed ? nil
                : "\(report.failed.count) snapshot(s) failed verification: " + report.failed.prefix(5).map { "\($0.id.prefix(8)) (\($0.source))" }.joined(separator: ", "))
            workspace.logger.info("verification (\(report.mode)): \(report.snapshots.count) snapshot(s), \(report.failed.count) failed")
        } catch {
            outcome = VerifyOutcome(report: nil, error: DRError.wrap(error).description)
            workspace.logger.error("verification could not run: \(DRError.wrap(error).description)")
        }
        do { try ScheduleState.recordVerify(at: start, dataDir: workspace.config.dataDir) } catch {
            workspace.logger.error("could not record the verification time: \(DRError.wrap(error).description)")
        }
        if let error = outcome.error {
            notifier?.notify(.verifyFailure, source: nil, error: error, text: "drctl: verification FAILED: \(error)")
        }
        return outcome
    }
}

/// A scheduled verification that ran.
public struct VerifyOutcome: Sendable, Codable {
    public var report: VerifyReport?
    /// Why it failed (failed snapshots, or why it could not run).
    public var error: String?
    public var failed: Bool { error != nil }
}
