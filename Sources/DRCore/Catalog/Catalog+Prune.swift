import Foundation
internal import GRDB

/// An object the catalog records, as prune reports it.
public struct CatalogObject: Sendable, Codable, Hashable {
    public var type: ObjectType
    public var sha256: String
    /// Stored size in bytes.
    public var size: Int64

    public init(type: ObjectType, sha256: String, size: Int64) {
        self.type = type
        self.sha256 = sha256
        self.size = size
    }
}

extension Catalog {
    /// Restore executions that may still use their bound snapshots: `running`, or
    /// `failed` / `interrupted` (resumable with `drctl restore --resume`).
    public func resumableExecutions() throws -> [ExecutionRecord] {
        let live = try read { db in
            try String.fetchAll(
                db, sql: "SELECT id FROM execution WHERE status IN ('running', 'failed', 'interrupted') ORDER BY started_at")
        }
        return try live.map { try execution(matching: $0) }
    }

    /// Every object row, keyed by type and SHA-256.
    public func allObjects() throws -> [CatalogObject] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT type, sha256, size FROM object ORDER BY type, sha256").map { row in
                CatalogObject(type: ObjectType(rawValue: row[0]) ?? .data, sha256: row[1], size: row[2])
            }
        }
    }

    /// Forgets snapshots and collects the object rows nothing references any more, in one
    /// transaction: deletes the snapshots' `file`, `kube_object`, `git_ref`,
    /// `snapshot_object` and `snapshot` rows (attempts keep their row, their snapshot link
    /// is cleared), then every `object` row no remaining snapshot (`snapshot_object`,
    /// `manifest_object_id`), `file` or `file_state` row refers to. Returns the deleted
    /// objects; their repository files are the caller's to delete, after this returns.
    ///
    /// With `dryRun` the same work is done and rolled back, so the answer is exact.
    /// Refuses (and changes nothing) when a snapshot that stays has a forgotten parent.
    public func forget(_ snapshotIDs: [String], dryRun: Bool) throws -> [CatalogObject] {
        do {
            var garbage: [CatalogObject] = []
            try pool.writeWithoutTransaction { db in
                try db.inTransaction(.immediate) {
                    garbage = try Self.forget(snapshotIDs, db: db)
                    return dryRun ? .rollback : .commit
                }
            }
            return garbage
        } catch let error as DRError {
            throw error
        } catch {
            throw DRError(.io, "catalog write failed (\(path))", cause: error)
        }
    }

    private static func forget(_ snapshotIDs: [String], db: Database) throws -> [CatalogObject] {
        try db.execute(sql: "CREATE TEMP TABLE IF NOT EXISTS prune_forget (id TEXT PRIMARY KEY)")
        try db.execute(sql: "DELETE FROM prune_forget")
        for id in snapshotIDs {
            try db.execute(sql: "INSERT OR IGNORE INTO prune_forget (id) VALUES (?)", arguments: [id])
        }
        if let orphan = try String.fetchOne(
            db,
            sql: """
                SELECT s.id FROM snapshot s JOIN prune_forget f ON f.id = s.parent_id
                WHERE s.id NOT IN (SELECT id FROM prune_forget) LIMIT 1
                """) {
            throw DRError(.refused, "cannot forget the parent of snapshot \(orphan), which stays")
        }
        try db.execute(sql: """
            DELETE FROM file WHERE snapshot_id IN (SELECT id FROM prune_forget);
            DELETE FROM kube_object WHERE snapshot_id IN (SELECT id FROM prune_forget);
            DELETE FROM git_ref WHERE snapshot_id IN (SELECT id FROM prune_forget);
            DELETE FROM snapshot_object WHERE snapshot_id IN (SELECT id FROM prune_forget);
            UPDATE source_attempt SET snapshot_id = NULL WHERE snapshot_id IN (SELECT id FROM prune_forget);
            """)
        // Children before parents: `parent_id` is checked row by row.
        let ordered = try String.fetchAll(
            db,
            sql: "SELECT id FROM snapshot WHERE id IN (SELECT id FROM prune_forget) ORDER BY data_time DESC, created_at DESC")
        var pending = ordered
        while !pending.isEmpty {
            var next: [String] = []
            for id in pending {
                let hasChild = try Bool.fetchOne(
                    db, sql: "SELECT EXISTS (SELECT 1 FROM snapshot WHERE parent_id = ?)", arguments: [id]) ?? false
                if hasChild { next.append(id) } else {
                    try db.execute(sql: "DELETE FROM snapshot WHERE id = ?", arguments: [id])
                }
            }
            guard next.count < pending.count else {
                throw DRError(.dataCorrupt, "the catalog's snapshot chain loops at \(next[0])")
            }
            pending = next
        }
        try db.execute(sql: "DELETE FROM prune_forget")
        // One materialised set of referenced ids (the file index has no object_id index).
        let unreferenced = """
            FROM object o WHERE o.id NOT IN (
                SELECT object_id FROM snapshot_object
                UNION SELECT manifest_object_id FROM snapshot
                UNION SELECT object_id FROM file WHERE object_id IS NOT NULL
                UNION SELECT object_id FROM file_state WHERE object_id IS NOT NULL)
            """
        let garbage = try Row.fetchAll(db, sql: "SELECT o.type, o.sha256, o.size \(unreferenced) ORDER BY o.type, o.sha256")
            .map { row in CatalogObject(type: ObjectType(rawValue: row[0]) ?? .data, sha256: row[1], size: row[2]) }
        try db.execute(sql: "DELETE FROM object WHERE id IN (SELECT o.id \(unreferenced))")
        return garbage
    }
}
