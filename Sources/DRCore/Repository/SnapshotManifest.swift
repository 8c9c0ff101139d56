import Foundation

/// The small object every snapshot writes next to its data. It describes the snapshot
/// fully, so that a lost catalog can be rebuilt from the repository alone.
/// Encrypted like the snapshot's data.
public struct SnapshotManifest: Codable, Sendable, Equatable {
    /// The manifest format this build writes.
    public static let currentFormat = 1

    public var format: Int
    public var repositoryID: String
    public var snapshotID: String
    public var source: String
    public var kind: String
    public var level: SnapshotLevel
    public var parentID: String?
    public var createdAt: String
    public var dataTime: String
    public var runID: Int64?
    public var files: Int64?
    public var objects: [SnapshotObject]
    public var refs: [GitRef]
    /// Kubernetes objects of an export snapshot (names and keyed digests, no values).
    public var kubeObjects: [KubeObjectRecord]?
    public var meta: [String: String]
    public var verifiedAt: String?
    public var verifyResult: String?
    public var drctlVersion: String

    enum CodingKeys: String, CodingKey {
        case format, source, kind, level, files, objects, refs, meta
        case kubeObjects = "kube_objects"
        case repositoryID = "repository_id"
        case snapshotID = "snapshot_id"
        case parentID = "parent_id"
        case createdAt = "created_at"
        case dataTime = "data_time"
        case runID = "run_id"
        case verifiedAt = "verified_at"
        case verifyResult = "verify_result"
        case drctlVersion = "drctl_version"
    }

    public init(
        snapshot: SnapshotRecord, repositoryID: String, objects: [SnapshotObject], refs: [GitRef],
        kubeObjects: [KubeObjectRecord]? = nil
    ) {
        self.kubeObjects = kubeObjects
        format = Self.currentFormat
        self.repositoryID = repositoryID
        snapshotID = snapshot.id
        source = snapshot.source
        kind = snapshot.kind
        level = snapshot.level
        parentID = snapshot.parentID
        createdAt = ISO8601.format(snapshot.createdAt)
        dataTime = ISO8601.format(snapshot.dataTime)
        runID = snapshot.runID
        files = snapshot.files
        self.objects = objects
        self.refs = refs
        meta = snapshot.meta
        verifiedAt = snapshot.verifiedAt.map(ISO8601.format)
        verifyResult = snapshot.verifyResult
        drctlVersion = DRVersion.current
    }

    /// The manifest as stable, pretty JSON.
    public func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(self)) + [0x0a]
    }

    /// Decodes a manifest, refusing formats newer than this build understands.
    public static func decode(_ bytes: [UInt8]) throws -> SnapshotManifest {
        let manifest: SnapshotManifest
        do {
            manifest = try JSONDecoder().decode(SnapshotManifest.self, from: Data(bytes))
        } catch {
            throw DRError(.dataCorrupt, "a snapshot manifest is not valid JSON of the expected shape", cause: error)
        }
        guard manifest.format <= currentFormat else {
            throw DRError(.refused, "snapshot manifest format \(manifest.format) is newer than this drctl understands")
        }
        return manifest
    }
}
