public import DRCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif
internal import Logging
internal import Crypto

/// The result of backing up one source.
public struct BackupOutcome: Sendable, Codable {
    public var source: String
    public var succeeded: Bool
    public var snapshot: SnapshotRecord?
    /// New stored bytes this snapshot added to the repository.
    public var addedBytes: Int64
    public var note: String
    public var error: String?
    /// The ``DRError/Code`` of a failure.
    public var errorCode: String?
    public var seconds: Double
}

/// Runs backups: for each source, objects first, then the manifest, then one catalog
/// transaction. A failed source leaves an attempt row with its error and no snapshot row.
public enum Backup {
    /// Backs up `sources` (all configured ones when empty) in one run.
    public static func run(
        _ workspace: Workspace, sources names: [String] = [], trigger: RunTrigger = .manual,
        options: BackupOptions = BackupOptions()
    ) throws -> (runID: Int64, outcomes: [BackupOutcome]) {
        let config = workspace.config
        var selected: [SourceConfig] = []
        for name in names {
            guard let source = config.source(named: name) else {
                let known = config.sources.map(\.name).joined(separator: ", ")
                throw DRError(.notFound, "no source named `\(name)` in \(config.file)",
                              hint: known.isEmpty ? "add one under `sources:`" : "configured sources: \(known)")
            }
            if !selected.contains(where: { $0.name == name }) { selected.append(source) }
        }
        if names.isEmpty { selected = config.sources }
        guard !selected.isEmpty else {
            throw DRError(.config, "\(config.file) configures no sources; add one under `sources:` (see docs/CONFIG.md)")
        }
        let catalog = workspace.catalog
        let here = ProcessInfo.processInfo.hostName
        let closed = try catalog.closeAbandonedRuns(isAbandoned: { host, pid in
            if options.holdsRunLock { return true }
            guard host == here, let pid, pid != getpid() else { return false }
            return kill(pid, 0) != 0 && errno == ESRCH
        }, now: workspace.now())
        if !closed.isEmpty {
            workspace.logger.warning("marked \(closed.count) run(s) left `running` by a killed or crashed drctl as failed")
        }
        workspace.removeStaleScratch()
        // Shared with other backups, exclusive with a prune on any host.
        let lock = try RepositoryLock.acquire(.backup, on: workspace.store, logger: workspace.logger)
        defer { lock.release() }
        let runID = try catalog.beginRun(trigger: trigger, now: workspace.now())
        var outcomes: [BackupOutcome] = []
        for source in selected {
            outcomes.append(backup(source, run: runID, options: options, in: workspace))
        }
        let failures = outcomes.filter { !$0.succeeded }.count
        let status: RunStatus = failures == 0 ? .succeeded : failures == outcomes.count ? .failed : .partial
        try catalog.finishRun(
            runID, status: status,
            error: failures == 0 ? nil : "\(failures) of \(outcomes.count) sources failed", now: workspace.now())
        if failures < outcomes.count { CatalogCopies.saveAfterRun(workspace) }
        return (runID, outcomes)
    }

    static func backup(
        _ source: SourceConfig, run runID: Int64, options: BackupOptions, in workspace: Workspace
    ) -> BackupOutcome {
        let started = ContinuousClock.now
        let catalog = workspace.catalog
        var attempt: Int64?
        func seconds() -> Double { (ContinuousClock.now - started).seconds }
        do {
            let digest = SHA256.hash(data: Data(String(describing: source.spec).utf8)).hexString
            let sourceID = try catalog.ensureSource(
                name: source.name, kind: source.kind.rawValue, configDigest: digest, now: workspace.now())
            attempt = try catalog.beginAttempt(run: runID, source: sourceID, now: workspace.now())
            let previous = try catalog.latestSnapshot(source: source.name)
            let draft = try source.kind.snapshotter.snapshot(source, previous: previous, options: options, in: workspace)
            var objects = draft.objects
            if let index = draft.fileIndex, !index.records.isEmpty || index.replacesState {
                // The file index travels with the snapshot, so the catalog can be rebuilt
                // from the repository alone (`drctl catalog recover`).
                let encoded = try workspace.codec.write(type: .data, bytes: try FileIndexCodec.encode(index))
                objects.append(SnapshotObject(object: encoded, role: FileIndexCodec.role))
            }
            let record = SnapshotRecord(
                id: SnapshotRecord.newID(), source: source.name, kind: source.kind.rawValue, level: draft.level,
                parentID: draft.parentID, createdAt: workspace.now(), dataTime: draft.dataTime,
                bytes: objects.reduce(0) { $0 + $1.object.stored.size },
                plainBytes: objects.reduce(0) { $0 + $1.object.plainSize }, files: draft.files,
                verifiedAt: draft.verifiedAt, verifyResult: draft.verifyResult, runID: runID, meta: draft.meta)
            let manifest = SnapshotManifest(
                snapshot: record, repositoryID: workspace.store.repositoryID, objects: objects, refs: draft.refs,
                kubeObjects: draft.kubeObjects.isEmpty ? nil : draft.kubeObjects)
            let manifestObject = try workspace.codec.write(type: .manifest, bytes: try manifest.encoded())
            workspace.crash.reach(.manifestWritten)
            let committing = ContinuousClock.now
            try catalog.insertSnapshot(
                record, objects: objects, refs: draft.refs, manifest: manifestObject, files: draft.fileIndex, kubeObjects: draft.kubeObjects,
                attempt: attempt, now: workspace.now(), beforeCommit: { workspace.crash.reach(.catalogBeforeCommit) })
            workspace.crash.reach(.catalogCommitted)
            workspace.logger.debug("source \(source.name): catalog commit took \(ContinuousClock.now - committing)")
            workspace.logger.info("source \(source.name): snapshot \(record.shortID) (\(draft.note))")
            var failedCopies: [String] = []
            for target in Replication.targets(for: source, in: workspace) {
                do {
                    let copied = try Replication.replicate(record, to: target, in: workspace)
                    workspace.logger.info("source \(source.name): snapshot \(record.shortID) copied to repository \(target.name) (\(copied.objects) object(s), \(copied.bytes) bytes)")
                } catch {
                    failedCopies.append("\(target.name): \(DRError.describe(error))")
                }
            }
            if !failedCopies.isEmpty {
                let message = "snapshot \(record.shortID) is stored in repository \(workspace.store.name) but copying it failed for "
                    + failedCopies.joined(separator: "; ") + " (the next backup of this source copies what is missing)"
                workspace.logger.error("source \(source.name): \(message)")
                return BackupOutcome(
                    source: source.name, succeeded: false, snapshot: record, addedBytes: record.bytes, note: draft.note,
                    error: message, errorCode: DRError.Code.unreachable.rawValue, seconds: seconds())
            }
            return BackupOutcome(
                source: source.name, succeeded: true, snapshot: record, addedBytes: record.bytes, note: draft.note,
                error: nil, errorCode: nil, seconds: seconds())
        } catch {
            let drError = DRError.wrap(error)
            workspace.logger.error("source \(source.name) failed: \(drError.description)")
            if let attempt { try? catalog.failAttempt(attempt, error: drError.description, now: workspace.now()) }
            return BackupOutcome(
                source: source.name, succeeded: false, snapshot: nil, addedBytes: 0, note: "failed",
                error: drError.description, errorCode: drError.code.rawValue, seconds: seconds())
        }
    }
}
