public import DRCore
public import Foundation

/// One source as `drctl status` reports it.
public struct SourceStatus: Sendable, Codable, Equatable {
    public var source: String
    public var schedule: String?
    public var lastSuccess: Date?
    public var lastFailure: Date?
    public var lastError: String?
    /// Data time of the newest verified snapshot.
    public var recoveryPoint: Date?
    /// Age of ``recoveryPoint`` (nil without a verified snapshot).
    public var rpoSeconds: Double?
    public var rpoTargetSeconds: Int?
    /// True when a target is set and the RPO exceeds it (or nothing verified exists yet).
    public var breached: Bool
    public var nextRun: Date?
    /// The newest run skipped past `starting_deadline`.
    public var lastSkipped: ScheduleState.Skip?

    /// One line for people and webhooks.
    public var summary: String {
        guard let target = rpoTargetSeconds else { return "\(source): no rpo_target" }
        guard let rpo = rpoSeconds else { return "\(source): no verified snapshot (rpo_target \(target)s)" }
        return "\(source): RPO \(Int(rpo))s \(breached ? "exceeds" : "within") rpo_target \(target)s"
    }

    /// The status of every configured source at `now`, in config order.
    public static func compute(_ workspace: Workspace, now: Date) throws -> [SourceStatus] {
        let config = workspace.config
        let histories = try SourceHistory.load(workspace, sources: config.sources.map(\.name))
        let state = ScheduleState.load(dataDir: config.dataDir)
        return try config.sources.map { source in
            let history = histories[source.name] ?? SourceHistory(source: source.name)
            let rpo = history.rpoSeconds(at: now)
            let target = source.scheduling.rpoTargetSeconds
            let breached = target.map { target in rpo.map { $0 > Double(target) } ?? true } ?? false
            return SourceStatus(
                source: source.name, schedule: source.schedule, lastSuccess: history.lastSuccess,
                lastFailure: history.lastFailure, lastError: history.lastError, recoveryPoint: history.recoveryPoint,
                rpoSeconds: rpo, rpoTargetSeconds: target, breached: breached,
                nextRun: try DueRuns.schedule(of: source)?.next(after: now), lastSkipped: state.skipped[source.name])
        }
    }
}
