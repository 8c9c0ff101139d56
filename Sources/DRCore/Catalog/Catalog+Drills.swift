public import Foundation
internal import GRDB
internal import Logging

/// The overall result of a DR drill.
public enum DrillResultKind: String, Sendable, Codable, CaseIterable {
    /// Every step rehearsed and every verification passed.
    case success = "SUCCESS"
    /// Every verification passed, but some steps were not rehearsed.
    case warnings = "WARNINGS"
    /// A step or a verification failed.
    case failed = "FAILED"
}

/// A snapshot that passed a drill.
public struct SnapshotTest: Sendable, Codable, Hashable {
    public var snapshotID: String
    public var executionID: String
    public var testedAt: Date
}

extension Catalog {
    /// Records the result of drill execution `id` and its RTO (drill start to the last
    /// verification passing); a failed verification also fails the execution with `error`.
    public func finishDrill(_ id: String, result: DrillResultKind, rtoSeconds: Double?, error: String?) throws {
        try write { db in
            try db.execute(sql: "UPDATE execution SET drill_result = ?, rto_seconds = ? WHERE id = ?",
                           arguments: [result.rawValue, rtoSeconds, id])
            if let error {
                try db.execute(
                    sql: "UPDATE execution SET status = 'failed', error = ? WHERE id = ? AND status = 'succeeded'",
                    arguments: [error, id])
            }
        }
    }

    /// The recorded drill result of execution `id`, or nil (not a drill, or not finished).
    public func drillResult(_ id: String) throws -> DrillResultKind? {
        try read { db in
            try String.fetchOne(db, sql: "SELECT drill_result FROM execution WHERE id = ?", arguments: [id])
        }.flatMap(DrillResultKind.init(rawValue:))
    }

    /// Marks `snapshots` restore-tested by drill execution `executionID` at `time`.
    public func markRestoreTested(_ snapshots: [String], executionID: String, at time: Date) throws {
        try write { db in
            for id in snapshots {
                try db.execute(
                    sql: "INSERT OR REPLACE INTO snapshot_test (snapshot_id, execution_id, tested_at) VALUES (?, ?, ?)",
                    arguments: [id, executionID, ISO8601.format(time)])
            }
        }
    }

    /// The latest drill that restore-tested each snapshot, by snapshot id.
    public func restoreTests() throws -> [String: SnapshotTest] {
        let rows = try read { db in
            try Row.fetchAll(db, sql: "SELECT snapshot_id, execution_id, tested_at FROM snapshot_test ORDER BY tested_at")
        }
        var tests: [String: SnapshotTest] = [:]
        for row in rows {
            let id: String = row[0]
            let text: String = row[2]
            tests[id] = SnapshotTest(snapshotID: id, executionID: row[1], testedAt: ISO8601.parse(text) ?? .distantPast)
        }
        return tests
    }
}

extension Catalog {
    /// Stores the report of a finished drill (replacing an earlier one of the same execution).
    public func recordDrillReport(_ report: DrillReport) throws {
        guard let id = report.executionID else { return }
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        let json = String(decoding: try encoder.encode(report), as: UTF8.self)
        try write { db in
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO drill_report (execution_id, runbook, started_at, result, report)
                    VALUES (?, ?, ?, ?, ?)
                    """,
                arguments: [id, report.runbook, ISO8601.format(report.startedAt), report.result.rawValue, json])
        }
    }

    /// Stored drill reports, oldest first: of `runbook` only when given, and only the newest
    /// `limit` per runbook when given. A report that no longer decodes is skipped and logged.
    public func drillReports(runbook: String? = nil, limit: Int? = nil) throws -> [DrillReport] {
        let rows = try read { db in
            if let runbook {
                return try Row.fetchAll(
                    db, sql: "SELECT execution_id, report FROM drill_report WHERE runbook = ? ORDER BY started_at, execution_id",
                    arguments: [runbook])
            }
            return try Row.fetchAll(db, sql: "SELECT execution_id, report FROM drill_report ORDER BY started_at, execution_id")
        }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        var reports: [DrillReport] = []
        for row in rows {
            let text: String = row[1]
            do {
                reports.append(try decoder.decode(DrillReport.self, from: Data(text.utf8)))
            } catch {
                let id: String = row[0]
                logger.warning("drill report of execution \(id) is unreadable and skipped: \(error)")
            }
        }
        guard let limit else { return reports }
        var kept: [DrillReport] = []
        for name in Set(reports.map(\.runbook)) {
            kept += reports.filter { $0.runbook == name }.suffix(limit)
        }
        return kept.sorted { ($0.startedAt, $0.executionID ?? "") < ($1.startedAt, $1.executionID ?? "") }
    }

    /// When the newest drill of `runbook` started (any result), or nil when it never ran.
    public func lastDrillStart(runbook: String) throws -> Date? {
        let text = try read { db in
            try String.fetchOne(
                db, sql: "SELECT MAX(started_at) FROM execution WHERE mode = 'drill' AND runbook = ?", arguments: [runbook])
        }
        return text.flatMap(ISO8601.parse)
    }
}
