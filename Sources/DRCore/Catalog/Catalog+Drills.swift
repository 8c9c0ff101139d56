public import Foundation
internal import GRDB

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
