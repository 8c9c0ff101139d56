public import DRCore
import Foundation
internal import Logging

/// Snapshots a directory tree (a mounted persistent volume) as a pax tar archive,
/// compressed with multi-threaded zstd and encrypted with age when configured.
///
/// The first snapshot is full. Later ones are incremental against the catalog's file
/// index: a walk of the whole tree (directories are always read; their mtimes are not
/// trusted) is merged, in key order, with the source's current state streamed from the
/// catalog. An entry is unchanged when type, size, mtime, ctime, mode, uid, gid and link
/// target are equal (inode numbers are ignored: remounted volumes change them); with
/// `--rehash` regular files are also hashed and compared. Only changed and new entries
/// go into the archive; deletions are recorded in the index.
public struct VolumeSnapshotter: Snapshotter {
    public init() {}

    public func snapshot(
        _ source: SourceConfig, previous: SnapshotRecord?, options: BackupOptions, in workspace: Workspace
    ) throws -> SnapshotDraft {
        guard case .pvcArchive(let spec) = source.spec else {
            throw DRError(.failed, "source \(source.name) is not a pvc-archive source")
        }
        guard FileIO.isDirectory(spec.path) else {
            throw DRError(.notFound, "source \(source.name): the volume \(spec.path) does not exist or is not a folder")
        }
        let hooks = HookRunner(source: source.name, volume: spec.path, environment: workspace.environment,
                               logger: workspace.logger)
        var draft: SnapshotDraft
        do {
            try hooks.runPre(spec.hooks.pre)
            draft = try take(source, spec, previous: previous, options: options, in: workspace)
        } catch {
            _ = hooks.runPost(spec.hooks.post)
            throw error
        }
        let failures = hooks.runPost(spec.hooks.post)
        if !failures.isEmpty { draft.note += (draft.note.isEmpty ? "" : "; ") + "\(failures.count) post-hook(s) failed" }
        return draft
    }

    /// What the walk found to do.
    struct Plan {
        var archive: [WalkEntry] = []
        var deleted: [FileRecord] = []
        /// The root folder's record when it changed (it has no archive entry).
        var root: FileRecord?
        var unchanged: Int64 = 0
        var bytes: Int64 = 0
        /// Entries the walk saw below the root: the size of the tree this snapshot restores.
        var entries: Int64 = 0
    }

    func take(
        _ source: SourceConfig, _ spec: PVCArchiveSourceConfig, previous: SnapshotRecord?, options: BackupOptions,
        in workspace: Workspace
    ) throws -> SnapshotDraft {
        let catalog = workspace.catalog
        let fullReason = try Self.fullReason(previous: previous, spec: spec, source: source.name, in: workspace)
        let full = fullReason != nil
        // A new chain uses the configured content hash; an incremental keeps its chain's.
        let contentHash = try (full ? nil : previous).map { try ContentHash(of: $0) } ?? spec.contentHash
        let dataTime = workspace.now()
        var walker = VolumeWalker(root: spec.path, exclude: spec.exclude.map(Glob.init))

        // 1. Walk and merge with the catalog's state, in key order.
        let clock = PhaseClock(source: source.name, logger: workspace.logger)
        var plan = Plan()
        try catalog.withFileState(source: source.name) { next in
            var state = full ? nil : try next()
            try walker.walk { entry in
                while let old = state, old.key.lexicographicallyPrecedes(entry.record.key) {
                    plan.deleted.append(FileRecord(key: old.key, type: .deleted))
                    state = try next()
                }
                if !entry.record.key.isEmpty { plan.entries += 1 }
                var unchanged = false
                if let old = state, old.key == entry.record.key {
                    state = try next()
                    unchanged = Self.unchanged(old, entry, rehash: options.rehash ? contentHash : nil, volume: spec.path)
                }
                if unchanged {
                    plan.unchanged += 1
                } else if entry.record.key.isEmpty {
                    plan.root = entry.record
                } else {
                    plan.archive.append(entry)
                    plan.bytes += entry.record.size
                }
            }
            if !full {
                while let old = state {
                    plan.deleted.append(FileRecord(key: old.key, type: .deleted))
                    state = try next()
                }
            }
        }
        if !walker.skipped.isEmpty {
            workspace.logger.warning("source \(source.name): skipped \(walker.skipped.count) socket(s), FIFO(s) or device(s), e.g. \(walker.skipped[0])")
        }

        clock.lap("walk: \(plan.archive.count) to archive, \(plan.unchanged) unchanged, \(plan.deleted.count) deleted")

        // 2. Archive what changed.
        var records: [FileRecord] = []
        var objects: [SnapshotObject] = []
        var tarBytes: Int64 = 0
        if let root = plan.root { records.append(root) }
        if !plan.archive.isEmpty {
            let archived = try VolumeArchiver.archive(
                plan.archive, volume: spec.path, source: source.name, totalBytes: plan.bytes, contentHash: contentHash,
                options: options, in: workspace)
            objects.append(SnapshotObject(object: archived.object, role: "archive"))
            tarBytes = archived.tarBytes
            records += archived.records
            records += archived.vanished.filter { _ in !full }.map { FileRecord(key: $0, type: .deleted) }
            plan.entries -= Int64(archived.vanished.count)
        }
        clock.lap("archive")
        records += plan.deleted
        records.sort { $0.key.lexicographicallyPrecedes($1.key) }

        // 3. Read the stored archive back end to end before anything is recorded.
        var verifyResult = "ok: nothing changed, no archive"
        if let archive = objects.first?.object {
            verifyResult = try VolumeArchiver.verify(archive, tarBytes: tarBytes, in: workspace)
            clock.lap("verify")
        }
        let note: String
        if let fullReason {
            note = fullReason
        } else if objects.isEmpty && records.isEmpty {
            note = "unchanged"
        } else {
            note = "\(plan.archive.count) changed, \(plan.deleted.count) deleted"
        }
        return SnapshotDraft(
            level: full ? .full : .incremental, parentID: full ? nil : previous?.id, dataTime: dataTime,
            objects: objects, files: plan.entries, fileIndex: FileIndexUpdate(records: records, replacesState: full),
            meta: ["path": spec.path, ContentHash.metaKey: contentHash.rawValue], verifiedAt: workspace.now(), verifyResult: verifyResult, note: note)
    }

    /// Why this snapshot must be full, or nil for an incremental.
    static func fullReason(
        previous: SnapshotRecord?, spec: PVCArchiveSourceConfig, source: String, in workspace: Workspace
    ) throws -> String? {
        guard let previous else { return "first snapshot" }
        let chain = try workspace.catalog.chain(to: previous.id)
        if let reason = spec.fullEvery?.reason(chain: chain, now: workspace.now()) { return reason }
        if let missing = try workspace.firstMissingObject(in: chain) {
            workspace.logger.warning("snapshot \(missing.snapshot.shortID) lost object \(missing.sha256); taking a full archive")
            return "previous chain is broken"
        }
        return nil
    }

    /// The change rule (docs/ARCHITECTURE.md): metadata equal, inode ignored; with
    /// `rehash` (the chain's content hash), regular files must also hash to the recorded hash.
    static func unchanged(_ old: FileRecord, _ entry: WalkEntry, rehash: ContentHash?, volume: String) -> Bool {
        var current = entry.record
        if old.type == .hardlink && current.type == .regular { current.type = .hardlink; current.linkTarget = old.linkTarget }
        guard old.sameMetadata(as: current) else { return false }
        // Hard links carry no hash of their own: their first path's entry is rehashed.
        guard let rehash, old.type == .regular else { return true }
        return (try? contentHash(Array(volume.utf8) + [UInt8(ascii: "/")] + entry.path, rehash)) == old.hash
    }

    static func contentHash(_ path: [UInt8], _ algorithm: ContentHash) throws -> [UInt8] {
        var reader = try FileReader(pathBytes: path)
        var hasher = algorithm.hasher()
        while let chunk = try reader.next() { chunk.withUnsafeBytes { hasher.update(bufferPointer: $0) } }
        return hasher.finalize()
    }
}

/// Logs how long each phase of a snapshot took (debug level, `-vv`).
final class PhaseClock {
    let source: String
    let logger: Logger
    var last = ContinuousClock.now

    init(source: String, logger: Logger) {
        self.source = source
        self.logger = logger
    }

    func lap(_ phase: String) {
        let now = ContinuousClock.now
        let elapsed = now - last
        last = now
        logger.debug("source \(source): \(phase) took \(elapsed.formatted(.units(allowed: [.seconds, .milliseconds], width: .narrow)))")
    }
}
