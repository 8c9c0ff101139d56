public import Foundation
internal import GRDB

extension Catalog {
    /// Records the start of a drctl invocation that does work, and returns its id.
    public func beginRun(trigger: RunTrigger, now: Date = Date()) throws -> Int64 {
        try write { db in
            try db.execute(
                sql: """
                    INSERT INTO run (trigger, started_at, status, host, pid, drctl_version)
                    VALUES (?, ?, 'running', ?, ?, ?)
                    """,
                arguments: [trigger.rawValue, ISO8601.format(now), ProcessInfo.processInfo.hostName,
                            Int(ProcessInfo.processInfo.processIdentifier), DRVersion.current])
            return db.lastInsertedRowID
        }
    }

    /// The ids of the runs with `status`, oldest first.
    public func runIDs(status: RunStatus) throws -> [Int64] {
        try read { db in
            try Int64.fetchAll(db, sql: "SELECT id FROM run WHERE status = ? ORDER BY id", arguments: [status.rawValue])
        }
    }

    /// Marks runs (and their attempts) still `running` that `isAbandoned(host, pid)` says
    /// were left by a process that is gone — killed or crashed — as failed, and returns
    /// their ids.
    @discardableResult
    public func closeAbandonedRuns(
        isAbandoned: (_ host: String, _ pid: Int32?) -> Bool, now: Date = Date()
    ) throws -> [Int64] {
        try write { db in
            let rows = try Row.fetchAll(db, sql: "SELECT id, host, pid FROM run WHERE status = 'running'")
            var closed: [Int64] = []
            for row in rows {
                let id: Int64 = row[0]
                let host: String = row[1] ?? ""
                let pid = (row[2] as Int64?).map { Int32(clamping: $0) }
                guard isAbandoned(host, pid) else { continue }
                let message = "drctl\(pid.map { " (pid \($0))" } ?? "") on \(host) ended without recording the end of this run (killed or crashed)"
                try db.execute(sql: "UPDATE run SET finished_at = ?, status = 'failed', error = ? WHERE id = ?",
                               arguments: [ISO8601.format(now), message, id])
                try db.execute(
                    sql: "UPDATE source_attempt SET finished_at = ?, status = 'failed', error = ? WHERE run_id = ? AND status = 'running'",
                    arguments: [ISO8601.format(now), message, id])
                closed.append(id)
            }
            return closed
        }
    }

    /// Records the end of a run.
    public func finishRun(_ id: Int64, status: RunStatus, error: String? = nil, now: Date = Date()) throws {
        try write { db in
            try db.execute(
                sql: "UPDATE run SET finished_at = ?, status = ?, error = ? WHERE id = ?",
                arguments: [ISO8601.format(now), status.rawValue, error, id])
        }
    }

    /// The id of the source row for `name`, created or updated to the current kind and config digest.
    public func ensureSource(name: String, kind: String, configDigest: String, now: Date = Date()) throws -> Int64 {
        try write { db in
            if let row = try Row.fetchOne(db, sql: "SELECT id, kind FROM source WHERE name = ?", arguments: [name]) {
                let existingKind: String = row["kind"]
                guard existingKind == kind else {
                    throw DRError(
                        .config, "source `\(name)` is a \(kind) source in drctl.yaml but the catalog holds \(existingKind) snapshots under that name",
                        hint: "give the new source a different name")
                }
                let id: Int64 = row["id"]
                try db.execute(sql: "UPDATE source SET config_digest = ? WHERE id = ?", arguments: [configDigest, id])
                return id
            }
            try db.execute(
                sql: "INSERT INTO source (name, kind, config_digest, created_at) VALUES (?, ?, ?, ?)",
                arguments: [name, kind, configDigest, ISO8601.format(now)])
            return db.lastInsertedRowID
        }
    }

    /// Records the start of one source's attempt within a run.
    public func beginAttempt(run: Int64, source: Int64, now: Date = Date()) throws -> Int64 {
        try write { db in
            try db.execute(
                sql: "INSERT INTO source_attempt (run_id, source_id, started_at, status) VALUES (?, ?, ?, 'running')",
                arguments: [run, source, ISO8601.format(now)])
            return db.lastInsertedRowID
        }
    }

    /// Records a failed attempt (successful ones are finished by ``insertSnapshot(_:objects:refs:manifest:attempt:now:)``).
    public func failAttempt(_ id: Int64, error: String, now: Date = Date()) throws {
        try write { db in
            try db.execute(
                sql: "UPDATE source_attempt SET finished_at = ?, status = 'failed', error = ? WHERE id = ?",
                arguments: [ISO8601.format(now), error, id])
        }
    }

    /// The attempts of a run, in order.
    public func attempts(run: Int64) throws -> [AttemptRecord] {
        try attempts(where: "a.run_id = ?", arguments: [run])
    }

    /// Every attempt of the named sources (all sources when nil), oldest first.
    public func attempts(sources: [String]? = nil) throws -> [AttemptRecord] {
        guard let sources else { return try attempts(where: "1", arguments: []) }
        guard !sources.isEmpty else { return [] }
        let marks = Array(repeating: "?", count: sources.count).joined(separator: ", ")
        return try attempts(where: "s.name IN (\(marks))", arguments: StatementArguments(sources))
    }

    private func attempts(where condition: String, arguments: StatementArguments) throws -> [AttemptRecord] {
        try read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT a.id, a.run_id, s.name, a.status, a.error, a.snapshot_id, a.started_at, a.finished_at
                    FROM source_attempt a JOIN source s ON s.id = a.source_id
                    WHERE \(condition) ORDER BY a.id
                    """, arguments: arguments
            ).map { row in
                AttemptRecord(
                    id: row[0], runID: row[1], source: row[2], status: RunStatus(rawValue: row[3]) ?? .failed,
                    error: row[4], snapshotID: row[5], startedAt: (row[6] as String?).flatMap(ISO8601.parse),
                    finishedAt: (row[7] as String?).flatMap(ISO8601.parse))
            }
        }
    }
}

/// The version of this drctl build.
public enum DRVersion {
    public static let current = "0.1.0"
}
