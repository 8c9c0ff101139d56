public import DRCore
public import Foundation

/// What the catalog says about one source's runs and snapshots.
public struct SourceHistory: Sendable, Codable, Equatable {
    public var source: String
    /// When the newest successful attempt started (the point a schedule is measured from).
    public var lastSuccess: Date?
    /// When the newest failed attempt started, and its error.
    public var lastFailure: Date?
    public var lastError: String?
    /// Failed attempts ever recorded (a counter for metrics).
    public var failures: Int
    /// Wall-clock seconds of the newest successful attempt.
    public var lastDurationSeconds: Double?
    /// Stored bytes the newest snapshot added.
    public var lastBytes: Int64?
    /// Data time of the newest verified snapshot: the current recovery point.
    public var recoveryPoint: Date?
    /// When that snapshot was verified.
    public var verifiedAt: Date?

    public init(source: String) {
        self.source = source
        failures = 0
    }

    /// Age of the recovery point at `now`, or nil when no verified snapshot exists.
    public func rpoSeconds(at now: Date) -> Double? {
        recoveryPoint.map { max(0, now.timeIntervalSince($0)) }
    }

    /// Reads the history of `sources` from the catalog (attempts still `running` count as
    /// neither success nor failure).
    public static func load(_ workspace: Workspace, sources: [String]) throws -> [String: SourceHistory] {
        var result: [String: SourceHistory] = [:]
        for name in sources { result[name] = SourceHistory(source: name) }
        for attempt in try workspace.catalog.attempts(sources: sources) {
            guard var entry = result[attempt.source] else { continue }
            switch attempt.status {
            case .succeeded:
                entry.lastSuccess = attempt.startedAt
                if let started = attempt.startedAt, let finished = attempt.finishedAt {
                    entry.lastDurationSeconds = finished.timeIntervalSince(started)
                }
            case .failed:
                entry.lastFailure = attempt.startedAt
                entry.lastError = attempt.error
                entry.failures += 1
            default: break
            }
            result[attempt.source] = entry
        }
        for snapshot in try workspace.catalog.snapshots() {
            guard var entry = result[snapshot.source] else { continue }
            entry.lastBytes = snapshot.bytes
            if let verified = snapshot.verifiedAt, entry.recoveryPoint.map({ snapshot.dataTime >= $0 }) ?? true {
                entry.recoveryPoint = snapshot.dataTime
                entry.verifiedAt = verified
            }
            result[snapshot.source] = entry
        }
        return result
    }
}
