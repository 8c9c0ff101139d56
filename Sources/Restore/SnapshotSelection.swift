public import DRCore
public import Foundation

/// How a restore binds a source to a snapshot: the newest *verified* snapshot whose
/// data time is at or before the requested point in time.
public enum SnapshotSelection {
    /// The snapshot a restore at `time` would use, or a ``DRError/Code/notFound`` error
    /// that says why none qualifies.
    public static func newestVerified(source: String, at time: Date, in catalog: Catalog) throws -> SnapshotRecord {
        let all = try catalog.snapshots(source: source)
        guard !all.isEmpty else { throw DRError(.notFound, "source \(source) has no snapshots") }
        let eligible = all.filter { $0.dataTime <= time }
        guard !eligible.isEmpty else {
            throw DRError(.notFound, "source \(source) has no snapshot at or before \(ISO8601.format(time))")
        }
        guard let chosen = eligible.last(where: isVerified) else {
            let failed = eligible.filter { $0.verifiedAt != nil }
            let detail = failed.isEmpty ? "" : "; \(failed.count) failed their last verification, newest \(describe(failed[failed.count - 1]))"
            throw DRError(.notFound, "source \(source) has no verified snapshot at or before \(ISO8601.format(time))\(detail)")
        }
        return chosen
    }

    /// Whether a snapshot's last verification passed.
    public static func isVerified(_ snapshot: SnapshotRecord) -> Bool {
        snapshot.verifiedAt != nil && (snapshot.verifyResult ?? "").hasPrefix("ok")
    }

    /// The snapshots newer than `chosen` (at or before `time`) that a restore passes over
    /// because they are not verified, newest first.
    public static func skipped(after chosen: SnapshotRecord, at time: Date, in catalog: Catalog) throws -> [SnapshotRecord] {
        try catalog.snapshots(source: chosen.source)
            .filter { $0.dataTime > chosen.dataTime && $0.dataTime <= time && !isVerified($0) }
            .reversed()
    }

    /// `7f3a9c01 (FAILED: drctl verify …)` for messages.
    public static func describe(_ snapshot: SnapshotRecord) -> String {
        "\(snapshot.shortID) (\(snapshot.verifyResult ?? "never verified"))"
    }
}
