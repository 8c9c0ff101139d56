public import DRCore
public import Foundation

/// What a snapshotter produced: objects already durable in the repository, and the
/// facts the catalog and manifest record about them.
public struct SnapshotDraft: Sendable {
    public var level: SnapshotLevel
    public var parentID: String?
    public var dataTime: Date
    public var objects: [SnapshotObject]
    public var refs: [GitRef]
    public var files: Int64?
    /// File-index rows to commit with the snapshot (volume archives).
    public var fileIndex: FileIndexUpdate?
    /// Kubernetes objects of an export snapshot (names and keyed digests).
    public var kubeObjects: [KubeObjectRecord] = []
    public var meta: [String: String]
    public var verifiedAt: Date?
    public var verifyResult: String?
    /// A short human note for the summary line (e.g. "unchanged", "full: history rewritten").
    public var note: String

    public init(
        level: SnapshotLevel, parentID: String?, dataTime: Date, objects: [SnapshotObject], refs: [GitRef] = [],
        files: Int64? = nil, fileIndex: FileIndexUpdate? = nil, meta: [String: String] = [:], verifiedAt: Date?,
        verifyResult: String?, note: String
    ) {
        self.level = level
        self.parentID = parentID
        self.dataTime = dataTime
        self.objects = objects
        self.refs = refs
        self.files = files
        self.fileIndex = fileIndex
        self.meta = meta
        self.verifiedAt = verifiedAt
        self.verifyResult = verifyResult
        self.note = note
    }
}

/// Options of one backup run.
public struct BackupOptions: Sendable {
    /// Hash every file instead of trusting unchanged metadata (volume archives).
    public var rehash: Bool
    /// Called with progress of long work (bytes done, bytes total) when set.
    public var progress: (@Sendable (Progress) -> Void)?
    /// The caller holds the data folder's `RunLock`, which every backup run takes: any
    /// other run the catalog still shows `running` was abandoned by a killed drctl.
    /// Without it only runs of this host whose process is gone count as abandoned.
    public var holdsRunLock: Bool

    public init(rehash: Bool = false, progress: (@Sendable (Progress) -> Void)? = nil, holdsRunLock: Bool = false) {
        self.rehash = rehash
        self.progress = progress
        self.holdsRunLock = holdsRunLock
    }

    /// How far a snapshot is.
    public struct Progress: Sendable {
        public var source: String
        public var files: Int64
        public var totalFiles: Int64
        public var bytes: Int64
        public var totalBytes: Int64
    }
}

/// Takes snapshots of one kind of source. One implementation per ``SourceKind``.
public protocol Snapshotter: Sendable {
    /// Makes the source's data durable in the repository and describes it.
    /// `previous` is the source's newest snapshot, for incremental levels.
    func snapshot(
        _ source: SourceConfig, previous: SnapshotRecord?, options: BackupOptions, in workspace: Workspace
    ) throws -> SnapshotDraft
}

extension SourceKind {
    /// The snapshotter for this kind.
    public var snapshotter: any Snapshotter {
        switch self {
        case .gitBundle: GitBundleSnapshotter()
        case .pvcArchive: VolumeSnapshotter()
        case .secrets: SecretsSnapshotter()
        case .argocdState: ArgoStateSnapshotter()
        }
    }
}

extension Workspace {
    /// The first object of `chain` missing from the repository (or of the wrong size), with
    /// the snapshot that needs it; nil when the whole chain is present. Snapshotters take
    /// a full snapshot instead of building on a broken chain.
    func firstMissingObject(in chain: [SnapshotRecord]) throws -> (snapshot: SnapshotRecord, sha256: String)? {
        for link in chain {
            for item in try catalog.objects(of: link.id)
            where store.size(of: item.object.stored.type, sha256: item.object.stored.sha256) != item.object.stored.size {
                return (link, item.object.stored.sha256)
            }
        }
        return nil
    }
}
