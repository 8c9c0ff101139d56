public import Foundation

/// What started a run.
public enum RunTrigger: String, Sendable, Codable {
    case manual, cron, drill
}

/// The outcome of a run or a source attempt.
public enum RunStatus: String, Sendable, Codable {
    case running, succeeded, failed, partial
}

/// Full snapshots stand alone; incremental ones need their parent chain.
public enum SnapshotLevel: String, Sendable, Codable {
    case full, incremental
}

/// A git ref recorded with a bundle snapshot. `HEAD` carries its symbolic target in `symref`.
public struct GitRef: Sendable, Codable, Hashable, Comparable {
    public var name: String
    public var oid: String
    public var symref: String?

    public init(name: String, oid: String, symref: String? = nil) {
        self.name = name
        self.oid = oid
        self.symref = symref
    }

    public static func < (lhs: GitRef, rhs: GitRef) -> Bool { lhs.name < rhs.name }
}

/// An object a snapshot uses, and its role in it (`bundle`, `manifest`, …).
public struct SnapshotObject: Sendable, Codable, Hashable {
    public var object: EncodedObject
    public var role: String

    public init(object: EncodedObject, role: String) {
        self.object = object
        self.role = role
    }
}

/// One snapshot as the catalog knows it.
public struct SnapshotRecord: Sendable, Codable, Hashable {
    /// 16 lowercase hex characters; commands accept any unique prefix.
    public var id: String
    public var source: String
    public var kind: String
    public var level: SnapshotLevel
    public var parentID: String?
    public var createdAt: Date
    /// The point in time this snapshot restores to (its recovery point).
    public var dataTime: Date
    /// Stored bytes of the objects this snapshot added.
    public var bytes: Int64
    /// Plaintext bytes of the objects this snapshot added.
    public var plainBytes: Int64
    public var files: Int64?
    public var verifiedAt: Date?
    public var verifyResult: String?
    public var runID: Int64?
    /// Kind-specific facts (for git bundles: `repo`, `bare`).
    public var meta: [String: String]

    public init(
        id: String, source: String, kind: String, level: SnapshotLevel, parentID: String?, createdAt: Date,
        dataTime: Date, bytes: Int64, plainBytes: Int64, files: Int64? = nil, verifiedAt: Date? = nil,
        verifyResult: String? = nil, runID: Int64? = nil, meta: [String: String] = [:]
    ) {
        self.id = id
        self.source = source
        self.kind = kind
        self.level = level
        self.parentID = parentID
        self.createdAt = createdAt
        self.dataTime = dataTime
        self.bytes = bytes
        self.plainBytes = plainBytes
        self.files = files
        self.verifiedAt = verifiedAt
        self.verifyResult = verifyResult
        self.runID = runID
        self.meta = meta
    }

    /// The first 8 characters of the id, as lists show it.
    public var shortID: String { String(id.prefix(8)) }

    /// A new random snapshot id.
    public static func newID() -> String { FileIO.randomHex(8) }
}

/// One source attempt within a run, as `drctl backup` reports it.
public struct AttemptRecord: Sendable, Codable {
    public var id: Int64
    public var runID: Int64
    public var source: String
    public var status: RunStatus
    public var error: String?
    public var snapshotID: String?
    public var startedAt: Date?
    public var finishedAt: Date?
}
