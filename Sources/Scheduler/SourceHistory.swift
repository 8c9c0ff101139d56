public import DRCore
public import Foundation
internal import GRDB

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

    /// Reads the history of `sources` from the catalog (a read-only connection; attempts
    /// still `running` count as neither success nor failure).
    public static func load(_ workspace: Workspace, sources: [String]) throws -> [String: SourceHistory] {
        var result: [String: SourceHistory] = [:]
        for name in sources { result[name] = SourceHistory(source: name) }
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(30)
        let rows: [Row]
        do {
            let queue = try DatabaseQueue(path: workspace.catalog.path, configuration: configuration)
            rows = try queue.read { db in
                try Row.fetchAll(db, sql: """
                    SELECT s.name, a.status, a.started_at, a.finished_at, a.error
                    FROM source_attempt a JOIN source s ON s.id = a.source_id ORDER BY a.id
                    """)
            }
        } catch {
            throw DRError(.io, "cannot read run history from \(workspace.catalog.path)", cause: error)
        }
        for row in rows {
            let name: String = row[0]
            guard var entry = result[name] else { continue }
            let status: String = row[1]
            let started = (row[2] as String?).flatMap(ISO8601.parse)
            let finished = (row[3] as String?).flatMap(ISO8601.parse)
            switch status {
            case RunStatus.succeeded.rawValue:
                entry.lastSuccess = started
                if let started, let finished { entry.lastDurationSeconds = finished.timeIntervalSince(started) }
            case RunStatus.failed.rawValue:
                entry.lastFailure = started
                entry.lastError = row[4]
                entry.failures += 1
            default: break
            }
            result[name] = entry
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
