import Foundation
internal import GRDB

extension Catalog {
    private static let recordColumns =
        "p.key, f.type, f.size, f.mtime_ns, f.ctime_ns, f.mode, f.uid, f.gid, f.link_target, f.hash, o.sha256, f.entry"

    static func record(_ row: Row) -> FileRecord {
        FileRecord(
            key: (row[0] as Data?).map { Array($0) } ?? [], type: FileType(rawValue: row[1]) ?? .regular,
            size: row[2], mtimeNs: row[3], ctimeNs: row[4], mode: UInt32(truncatingIfNeeded: row[5] as Int64),
            uid: UInt32(truncatingIfNeeded: row[6] as Int64), gid: UInt32(truncatingIfNeeded: row[7] as Int64),
            linkTarget: (row[8] as Data?).map { Array($0) }, hash: (row[9] as Data?).map { Array($0) },
            object: row[10], entry: row[11])
    }

    /// Streams the source's current file state (as of its newest snapshot) in key order,
    /// inside one read transaction, without loading it into memory.
    public func withFileState<T>(source: String, _ body: (_ next: () throws -> FileRecord?) throws -> T) throws -> T {
        try read { db in
            let cursor = try Row.fetchCursor(
                db,
                sql: """
                    SELECT \(Self.recordColumns)
                    FROM path p JOIN file_state f ON f.source_id = p.source_id AND f.path_id = p.id
                    LEFT JOIN object o ON o.id = f.object_id
                    WHERE p.source_id = (SELECT id FROM source WHERE name = ?) ORDER BY p.key
                    """, arguments: [source])
            return try body { try cursor.next().map(Self.record) }
        }
    }

    /// Every entry of the tree as it was at `snapshotID` (its chain's rows merged, deletions
    /// applied), in key order.
    public func files(at snapshotID: String, _ visit: (FileRecord) throws -> Void) throws {
        let chain = try chain(to: snapshotID).map(\.id)
        let position = Dictionary(uniqueKeysWithValues: chain.enumerated().map { ($1, $0) })
        try read { db in
            let placeholders = Array(repeating: "?", count: chain.count).joined(separator: ",")
            let cursor = try Row.fetchCursor(
                db,
                sql: """
                    SELECT \(Self.recordColumns), f.snapshot_id
                    FROM file f JOIN path p ON p.id = f.path_id LEFT JOIN object o ON o.id = f.object_id
                    WHERE f.snapshot_id IN (\(placeholders)) ORDER BY p.key
                    """, arguments: StatementArguments(chain))
            var best: (record: FileRecord, position: Int)?
            while let row = try cursor.next() {
                let record = Self.record(row)
                let rank = position[row[12] as String] ?? -1
                if let current = best, current.record.key == record.key {
                    if rank > current.position { best = (record, rank) }
                    continue
                }
                if let current = best, current.record.type != .deleted { try visit(current.record) }
                best = (record, rank)
            }
            if let current = best, current.record.type != .deleted { try visit(current.record) }
        }
    }

    /// For each snapshot of `source`, oldest first, the entry at `key` in that snapshot's tree
    /// (nil when absent). Uses the path index: a point lookup, not a scan.
    public func history(of key: [UInt8], source: String) throws -> [(snapshot: SnapshotRecord, record: FileRecord?)] {
        let snapshots = try snapshots(source: source)
        let rows: [String: FileRecord] = try read { db in
            var result: [String: FileRecord] = [:]
            let cursor = try Row.fetchCursor(
                db,
                sql: """
                    SELECT \(Self.recordColumns), f.snapshot_id
                    FROM path p JOIN file f ON f.path_id = p.id LEFT JOIN object o ON o.id = f.object_id
                    WHERE p.source_id = (SELECT id FROM source WHERE name = ?) AND p.key = ?
                    """, arguments: [source, Data(key)])
            while let row = try cursor.next() { result[row[12]] = Self.record(row) }
            return result
        }
        var state: [String: FileRecord?] = [:]
        var result: [(snapshot: SnapshotRecord, record: FileRecord?)] = []
        for snapshot in snapshots {
            let inherited: FileRecord?? = snapshot.level == .full ? .some(nil) : snapshot.parentID.flatMap { state[$0] }
            let own = rows[snapshot.id]
            let current: FileRecord? = own.map { $0.type == .deleted ? nil : $0 } ?? (inherited ?? nil)
            state[snapshot.id] = current
            result.append((snapshot, current))
        }
        return result
    }

    /// Paths of a source's file index (every path ever recorded), for pattern searches.
    public func forEachPath(source: String, _ visit: ([UInt8]) throws -> Void) throws {
        try read { db in
            let cursor = try Data.fetchCursor(
                db, sql: "SELECT key FROM path WHERE source_id = (SELECT id FROM source WHERE name = ?) ORDER BY key",
                arguments: [source])
            while let key = try cursor.next() { try visit(Array(key)) }
        }
    }
}

extension Catalog {
    /// Test support: replaces the recorded content hash of one path in a source's state,
    /// as if the disk had silently changed under unchanged metadata.
    package func corruptStateHashForTesting(source: String, path: String) throws {
        try write { db in
            try db.execute(
                sql: """
                    UPDATE file_state SET hash = zeroblob(32)
                    WHERE path_id = (SELECT id FROM path WHERE key = ? AND source_id = (SELECT id FROM source WHERE name = ?))
                    """, arguments: [Data(PathKey.key(Array(path.utf8))), source])
        }
    }

    /// Test support: sets (or, with nil, removes) one key of a snapshot's meta, as an older or
    /// newer drctl would have written it.
    package func setSnapshotMetaForTesting(_ snapshotID: String, key: String, value: String?) throws {
        try write { db in
            try db.execute(
                sql: value == nil ? "UPDATE snapshot SET meta = json_remove(meta, '$.' || ?) WHERE id = ?"
                    : "UPDATE snapshot SET meta = json_set(meta, '$.' || ?, ?) WHERE id = ?",
                arguments: value.map { [key, $0, snapshotID] } ?? [key, snapshotID])
        }
    }
}

extension Catalog {
    /// The file-index rows snapshot `snapshotID` itself wrote (not its chain's), in key order.
    public func ownFiles(of snapshotID: String, _ visit: (FileRecord) throws -> Void) throws {
        try read { db in
            let cursor = try Row.fetchCursor(
                db,
                sql: """
                    SELECT \(Self.recordColumns)
                    FROM file f JOIN path p ON p.id = f.path_id LEFT JOIN object o ON o.id = f.object_id
                    WHERE f.snapshot_id = ? ORDER BY p.key
                    """, arguments: [snapshotID])
            while let row = try cursor.next() { try visit(Self.record(row)) }
        }
    }
}
