import Foundation
internal import GRDB
internal import GRDBSQLite

extension Catalog {
    /// Writes a snapshot's file-index rows and patches (or, for a full, replaces) the state.
    ///
    /// Three statements per entry, bound and stepped through SQLite's C API on GRDB's
    /// cached statements: for a million-entry snapshot, boxing every value into GRDB's
    /// `StatementArguments` cost more than SQLite's own work.
    static func apply(_ update: FileIndexUpdate, db: Database, sourceID: Int64, snapshotID: String) throws {
        if update.replacesState {
            try db.execute(sql: "DELETE FROM file_state WHERE source_id = ?", arguments: [sourceID])
        }
        let path = try RawStatement(db, """
            INSERT INTO path (source_id, key) VALUES (?, ?)
            ON CONFLICT (source_id, key) DO UPDATE SET key = excluded.key RETURNING id
            """)
        let file = try RawStatement(db, """
            INSERT INTO file (snapshot_id, path_id, type, size, mtime_ns, ctime_ns, mode, uid, gid, link_target, hash, object_id, entry)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        let state = try RawStatement(db, """
            INSERT OR REPLACE INTO file_state (snapshot_id, path_id, type, size, mtime_ns, ctime_ns, mode, uid, gid, link_target, hash, object_id, entry, source_id)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        let deleteState = try RawStatement(db, "DELETE FROM file_state WHERE source_id = ? AND path_id = ?")
        var objectIDs: [String: Int64] = [:]
        for record in update.records {
            path.bind(1, sourceID)
            path.bind(2, blob: record.key)
            guard let pathID = try path.stepReturningInt64() else {
                throw DRError(.failed, "cannot record path \(PathKey.display(record.key)) in the catalog")
            }
            var objectID: Int64?
            if let sha = record.object {
                if let known = objectIDs[sha] {
                    objectID = known
                } else {
                    objectID = try Int64.fetchOne(db, sql: "SELECT id FROM object WHERE type = 'data' AND sha256 = ?", arguments: [sha])
                    guard let objectID else { throw DRError(.failed, "file index refers to unknown object \(sha)") }
                    objectIDs[sha] = objectID
                }
            }
            file.bindRow(snapshotID, pathID, record, objectID)
            try file.step()
            if record.type == .deleted {
                deleteState.bind(1, sourceID)
                deleteState.bind(2, pathID)
                try deleteState.step()
            } else {
                state.bindRow(snapshotID, pathID, record, objectID)
                state.bind(14, sourceID)
                try state.step()
            }
        }
    }
}

/// A GRDB cached statement driven through SQLite's C API: bind, step, reset.
private struct RawStatement {
    let handle: SQLiteStatement
    let connection: SQLiteConnection?

    init(_ db: Database, _ sql: String) throws {
        let statement = try db.cachedStatement(sql: sql)
        handle = statement.sqliteStatement
        connection = db.sqliteConnection
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    /// SQLite copies bound text and blobs (`SQLITE_TRANSIENT`).
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    func bind(_ index: Int32, _ value: Int64) { sqlite3_bind_int64(handle, index, value) }

    func bind(_ index: Int32, _ text: String) { sqlite3_bind_text(handle, index, text, -1, Self.transient) }

    func bind(_ index: Int32, blob: [UInt8]?) {
        guard let blob else { sqlite3_bind_null(handle, index); return }
        blob.withUnsafeBytes { raw in
            // An empty key is still a (zero-length) blob, not NULL.
            _ = sqlite3_bind_blob(handle, index, raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32(raw.count), Self.transient)
        }
    }

    func bind(_ index: Int32, _ value: Int64?) {
        if let value { sqlite3_bind_int64(handle, index, value) } else { sqlite3_bind_null(handle, index) }
    }

    /// Binds the 13 columns shared by `file` and `file_state`, in their INSERT order.
    func bindRow(_ snapshotID: String, _ pathID: Int64, _ record: FileRecord, _ objectID: Int64?) {
        bind(1, snapshotID)
        bind(2, pathID)
        bind(3, record.type.rawValue)
        bind(4, record.size)
        bind(5, record.mtimeNs)
        bind(6, record.ctimeNs)
        bind(7, Int64(record.mode))
        bind(8, Int64(record.uid))
        bind(9, Int64(record.gid))
        bind(10, blob: record.linkTarget)
        bind(11, blob: record.hash)
        bind(12, objectID)
        bind(13, record.entry)
    }

    /// Runs the statement to completion.
    func step() throws {
        defer { sqlite3_reset(handle) }
        let status = sqlite3_step(handle)
        guard status == SQLITE_DONE else { throw failure(status) }
    }

    /// Runs a statement with `RETURNING` one integer; nil when it returned no row.
    func stepReturningInt64() throws -> Int64? {
        defer { sqlite3_reset(handle) }
        var value: Int64?
        while true {
            let status = sqlite3_step(handle)
            if status == SQLITE_ROW {
                value = sqlite3_column_int64(handle, 0)
            } else if status == SQLITE_DONE {
                return value
            } else {
                throw failure(status)
            }
        }
    }

    private func failure(_ status: Int32) -> DRError {
        let message = connection.flatMap { sqlite3_errmsg($0) }.map { String(cString: $0) } ?? "SQLite error \(status)"
        return DRError(.io, "cannot record the file index in the catalog: SQLite says \(message)")
    }
}
