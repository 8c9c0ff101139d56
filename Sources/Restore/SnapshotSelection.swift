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
        guard let chosen = eligible.last(where: { $0.verifiedAt != nil && ($0.verifyResult ?? "").hasPrefix("ok") }) else {
            throw DRError(.notFound, "source \(source) has no verified snapshot at or before \(ISO8601.format(time))")
        }
        return chosen
    }
}
