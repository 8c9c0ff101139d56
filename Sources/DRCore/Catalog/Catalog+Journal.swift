public import Foundation
internal import GRDB

/// Why a runbook execution was started.
public enum ExecutionMode: String, Sendable, Codable, CaseIterable {
    /// A real recovery.
    case incident
    /// A DR drill.
    case drill
    /// A dry run that only binds (`--plan`); such executions are never journaled today.
    case plan
}

/// Where an execution stands.
public enum ExecutionStatus: String, Sendable, Codable, CaseIterable {
    case running, succeeded, failed, interrupted
}

/// The outcome of one step attempt.
public enum StepStatus: String, Sendable, Codable, CaseIterable {
    /// Done, nothing needed changing.
    case ok
    /// Done, something changed.
    case changed
    /// Already done (its `check:` probe or the action's `isDone`): not run.
    case skipped
    /// The attempt failed.
    case failed

    /// Whether the step needs no further work.
    public var isFinished: Bool { self != .failed }
}

/// One `drctl restore` of a runbook, as journaled.
public struct ExecutionRecord: Sendable, Codable, Hashable {
    /// 16 lowercase hex characters; commands accept any unique prefix.
    public var id: String
    public var runbook: String
    /// Where the runbook was read from (a path or `builtin:NAME.md`).
    public var origin: String
    /// SHA-256 of the runbook file; `--resume` refuses when it changed.
    public var contentHash: String
    public var mode: ExecutionMode
    /// The point in time snapshots were bound at (`--at`).
    public var at: Date
    public var startedAt: Date
    public var finishedAt: Date?
    public var status: ExecutionStatus
    /// The bound plan as JSON (steps, snapshots, RPO).
    public var plan: String
    /// Measured recovery time: start of the execution to the end of its last step.
    public var rtoSeconds: Double?
    public var error: String?

    public init(
        id: String, runbook: String, origin: String, contentHash: String, mode: ExecutionMode, at: Date,
        startedAt: Date, finishedAt: Date? = nil, status: ExecutionStatus = .running, plan: String,
        rtoSeconds: Double? = nil, error: String? = nil
    ) {
        self.id = id
        self.runbook = runbook
        self.origin = origin
        self.contentHash = contentHash
        self.mode = mode
        self.at = at
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.status = status
        self.plan = plan
        self.rtoSeconds = rtoSeconds
        self.error = error
    }

    /// The first 8 characters of the id, as lists show it.
    public var shortID: String { String(id.prefix(8)) }

    /// A new random execution id.
    public static func newID() -> String { FileIO.randomHex(8) }
}

/// One attempt of one step of an execution.
public struct ExecutionStepRecord: Sendable, Codable, Hashable {
    public var executionID: String
    public var stepID: String
    /// 1-based, counting across resumes.
    public var attempt: Int
    public var status: StepStatus
    public var startedAt: Date
    public var finishedAt: Date
    /// The last ~4 KiB of the attempt's output, redacted.
    public var outputTail: String
    public var error: String?

    public init(
        executionID: String, stepID: String, attempt: Int, status: StepStatus, startedAt: Date, finishedAt: Date,
        outputTail: String = "", error: String? = nil
    ) {
        self.executionID = executionID
        self.stepID = stepID
        self.attempt = attempt
        self.status = status
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.outputTail = outputTail
        self.error = error
    }
}

/// Removes secrets from text before it is shown or journaled: `password=…`-style
/// assignments, bearer tokens, age secret keys, and every string registered with
/// ``register(_:)`` (values of Secrets a step handles).
public final class Redactor: @unchecked Sendable {
    /// What replaces a secret.
    public static let mask = "[REDACTED]"
    private let lock = NSLock()
    private var secrets: [String] = []

    public init() {}

    /// Redacts `secret` wherever it appears from now on (strings shorter than 4 characters
    /// are ignored: masking them would garble ordinary output).
    public func register(_ secret: String) {
        let trimmed = secret.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.count >= 4 else { return }
        lock.withLock {
            if !secrets.contains(trimmed) {
                secrets.append(trimmed)
                secrets.sort { $0.count > $1.count }
            }
        }
    }

    /// `text` with every known secret replaced by ``mask``.
    public func redact(_ text: String) -> String {
        var result = text
        for secret in lock.withLock({ secrets }) {
            result = result.replacingOccurrences(of: secret, with: Self.mask)
        }
        for (pattern, template) in Self.patterns {
            guard let regex = try? NSRegularExpression(pattern: pattern) else { continue }
            let range = NSRange(result.startIndex..., in: result)
            result = regex.stringByReplacingMatches(in: result, range: range, withTemplate: template)
        }
        return result
    }

    private static let patterns: [(String, String)] = [
        (#"AGE-SECRET-KEY-1[0-9A-Za-z]+"#, mask),
        (#"(?i)\b(bearer)(\s+)[A-Za-z0-9._~+/=-]+"#, "$1$2\(mask)"),
        (#"(?i)\b([A-Za-z0-9_.-]*(?:password|passwd|token|api[_-]?key)[A-Za-z0-9_.-]*)(["']?\s*[=:]\s*)(?!\[REDACTED\])("[^"]*"|'[^']*'|[^\s,;&"']+)"#, "$1$2\(mask)"),
    ]
}

extension Catalog {
    /// The most output an attempt keeps in the journal.
    public static let outputTailLimit = 4096

    /// Records the start of an execution (status `running`).
    public func beginExecution(_ record: ExecutionRecord, redactor: Redactor) throws {
        try write { db in
            try db.execute(
                sql: """
                    INSERT INTO execution (id, runbook, origin, content_hash, mode, at, started_at, finished_at,
                                           status, plan, rto_seconds, error)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [record.id, record.runbook, record.origin, record.contentHash, record.mode.rawValue,
                            ISO8601.format(record.at), ISO8601.format(record.startedAt),
                            record.finishedAt.map(ISO8601.format), record.status.rawValue, redactor.redact(record.plan),
                            record.rtoSeconds, record.error.map(redactor.redact)])
        }
    }

    /// Marks an execution `running` again for `--resume` (clears its end, RTO and error).
    public func reopenExecution(_ id: String) throws {
        try write { db in
            try db.execute(
                sql: "UPDATE execution SET status = 'running', finished_at = NULL, rto_seconds = NULL, error = NULL WHERE id = ?",
                arguments: [id])
        }
    }

    /// Records the end of an execution.
    public func finishExecution(
        _ id: String, status: ExecutionStatus, rtoSeconds: Double?, error: String?, redactor: Redactor, now: Date = Date()
    ) throws {
        try write { db in
            try db.execute(
                sql: "UPDATE execution SET status = ?, finished_at = ?, rto_seconds = ?, error = ? WHERE id = ?",
                arguments: [status.rawValue, ISO8601.format(now), rtoSeconds, error.map(redactor.redact), id])
        }
    }

    /// Journals one step attempt; the output tail is cut to ``outputTailLimit`` bytes and
    /// redacted, like the error.
    public func recordStep(_ record: ExecutionStepRecord, redactor: Redactor) throws {
        let tail = Self.tail(redactor.redact(record.outputTail), limit: Self.outputTailLimit)
        try write { db in
            try db.execute(
                sql: """
                    INSERT INTO execution_step (execution_id, step_id, attempt, status, started_at, finished_at,
                                                output_tail, error)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [record.executionID, record.stepID, record.attempt, record.status.rawValue,
                            ISO8601.format(record.startedAt), ISO8601.format(record.finishedAt), tail,
                            record.error.map(redactor.redact)])
        }
    }

    /// The execution whose id is `idOrPrefix` or starts with it (at least 4 characters).
    public func execution(matching idOrPrefix: String) throws -> ExecutionRecord {
        let key = idOrPrefix.lowercased()
        guard key.count >= 4, key.allSatisfy(\.isHexDigit) else {
            throw DRError(.notFound, "`\(idOrPrefix)` is not an execution id (use at least 4 hex characters, as `drctl restore --history` shows)")
        }
        let rows = try read { db in
            try Row.fetchAll(
                db, sql: "SELECT \(Self.executionColumns) FROM execution WHERE id >= ? AND id < ? ORDER BY id LIMIT 3",
                arguments: [key, key + "g"])
        }
        guard let first = rows.first else { throw DRError(.notFound, "no execution with id \(idOrPrefix)") }
        guard rows.count == 1 else {
            throw DRError(.notFound, "execution id prefix \(idOrPrefix) is ambiguous; give more characters")
        }
        return Self.execution(from: first)
    }

    /// Executions, newest first.
    public func executions(limit: Int = 100) throws -> [ExecutionRecord] {
        try read { db in
            try Row.fetchAll(
                db, sql: "SELECT \(Self.executionColumns) FROM execution ORDER BY started_at DESC, id LIMIT ?",
                arguments: [limit]
            ).map(Self.execution(from:))
        }
    }

    /// Every journaled attempt of an execution, in order.
    public func executionSteps(_ executionID: String) throws -> [ExecutionStepRecord] {
        try read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT execution_id, step_id, attempt, status, started_at, finished_at, output_tail, error
                    FROM execution_step WHERE execution_id = ? ORDER BY id
                    """, arguments: [executionID]
            ).map { row in
                let status: String = row[3]
                let started: String = row[4]
                let finished: String = row[5]
                return ExecutionStepRecord(
                    executionID: row[0], stepID: row[1], attempt: row[2], status: StepStatus(rawValue: status) ?? .failed,
                    startedAt: ISO8601.parse(started) ?? .distantPast, finishedAt: ISO8601.parse(finished) ?? .distantPast,
                    outputTail: row[6], error: row[7])
            }
        }
    }

    private static let executionColumns =
        "id, runbook, origin, content_hash, mode, at, started_at, finished_at, status, plan, rto_seconds, error"

    private static func execution(from row: Row) -> ExecutionRecord {
        func date(_ text: String?) -> Date? { text.flatMap(ISO8601.parse) }
        let mode: String = row[4]
        let status: String = row[8]
        return ExecutionRecord(
            id: row[0], runbook: row[1], origin: row[2], contentHash: row[3], mode: ExecutionMode(rawValue: mode) ?? .incident,
            at: date(row[5]) ?? .distantPast, startedAt: date(row[6]) ?? .distantPast, finishedAt: date(row[7]),
            status: ExecutionStatus(rawValue: status) ?? .failed, plan: row[9], rtoSeconds: row[10], error: row[11])
    }

    /// The last `limit` bytes of `text`, starting at a line (or character) boundary.
    static func tail(_ text: String, limit: Int) -> String {
        let bytes = Array(text.utf8)
        guard bytes.count > limit else { return text }
        var cut = String(decoding: bytes.suffix(limit), as: UTF8.self)
        if cut.first == "\u{FFFD}" { cut.removeFirst() }
        if let newline = cut.firstIndex(of: "\n"), cut.distance(from: cut.startIndex, to: newline) < 512 {
            cut = String(cut[cut.index(after: newline)...])
        }
        return "…\n" + cut
    }
}
