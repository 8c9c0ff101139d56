internal import Crypto
public import DRCore
import Foundation
public import Logging

/// What `drctl catalog recover` did.
public struct RecoveryReport: Sendable, Codable {
    /// The config file written (or used).
    public var config: String
    public var catalog: String
    /// The catalog copy the catalog was restored from (SHA-256), nil when none was readable.
    public var copy: String?
    public var copyCreatedAt: String?
    /// Snapshots the copy held.
    public var snapshotsInCopy: Int
    /// Snapshots rebuilt from manifests newer than the copy, oldest first.
    public var replayed: [String]
    /// What could not be read or replayed, each naming the object.
    public var problems: [String]
    /// Set when the recovered config's identity file is not where it says.
    public var identityMissing: String?
}

/// Rebuilds a lost catalog from the repository alone: the newest readable catalog copy
/// (``CatalogCopies``), then every snapshot manifest the copy does not know (snapshots
/// taken after it), oldest first, with volume file indexes from their `file-index` objects.
public enum CatalogRecovery {
    /// Recovers into the paths of the recovered config (written to `configPath`, default
    /// the path it had). Refuses to overwrite an existing config or catalog. Without a
    /// readable copy, `configPath` must name an existing config for this repository; the
    /// catalog is then rebuilt from manifests alone.
    public static func recover(
        from repository: RepositoryConfig, identity: String, configPath: String?, environment: Environment, logger: Logger
    ) throws -> RecoveryReport {
        let scratch = NSTemporaryDirectory() + "drctl-recover-\(FileIO.randomHex(6))"
        try FileIO.createDirectory(scratch, mode: 0o700)
        defer { FileIO.remove(scratch) }
        let store = try repository.open(tmpDir: scratch, environment: environment, logger: logger)
        let codec = ObjectCodec(store: store, recipients: [], identityFile: identity)
        _ = try codec.loadIdentities()
        var (copies, problems) = try CatalogCopies.list(codec)
        var restored: (copy: CatalogCopies.Copy, config: [UInt8], database: String)?
        for copy in copies {
            let database = "\(scratch)/catalog-\(copy.object.stored.sha256.prefix(12)).db"
            do {
                restored = (copy, try CatalogCopies.extract(copy, codec: codec, catalogPath: database), database)
                break
            } catch {
                problems.append("catalog copy \(copy.object.stored.sha256.prefix(12)) of \(copy.header.createdAt): \(DRError.describe(error))")
            }
        }
        let config: DRConfig
        if let restored {
            let target = configPath ?? restored.copy.header.configPath
            guard !FileIO.exists(target) else {
                throw DRError(.refused, "\(target) exists; recovery never overwrites a config",
                              hint: "move it aside, or pass --config with a new path for the recovered one")
            }
            config = try DRConfig.parse(text: String(decoding: restored.config, as: UTF8.self), path: target,
                                        environment: environment.variables)
            guard !FileIO.exists(config.catalog) else {
                throw DRError(.refused, "a catalog exists at \(config.catalog); recovery never overwrites one",
                              hint: "move it aside first (or use it: recovery is for a machine that lost it)")
            }
            try FileIO.createDirectory((target as NSString).deletingLastPathComponent)
            try FileIO.atomicWrite(restored.config, to: target, mode: 0o600)
            try FileIO.createDirectory((config.catalog as NSString).deletingLastPathComponent, mode: 0o700)
            do {
                try FileManager.default.moveItem(atPath: restored.database, toPath: config.catalog)
            } catch {
                throw DRError(.io, "cannot put the recovered catalog at \(config.catalog)", cause: error)
            }
        } else {
            guard let configPath, FileIO.exists(configPath) else {
                throw DRError(.notFound, "no readable catalog copy in \(repository.locationDescription)" + (problems.isEmpty ? "" : " (\(problems.joined(separator: "; ")))"),
                              hint: "write a drctl.yaml for this repository and pass it with --config: the catalog is then rebuilt from the snapshot manifests")
            }
            config = try DRConfig.load(path: configPath, environment: environment.variables)
            guard !FileIO.exists(config.catalog) else {
                throw DRError(.refused, "a catalog exists at \(config.catalog); recovery never overwrites one")
            }
        }
        let workspace = try Workspace.open(config: config, environment: environment, logger: logger, store: store, createCatalog: true)
        let inCopy = try workspace.catalog.snapshots().count
        let replay = try replay(workspace, identity: identity)
        var report = RecoveryReport(
            config: config.file, catalog: config.catalog, copy: restored?.copy.object.stored.sha256,
            copyCreatedAt: restored?.copy.header.createdAt, snapshotsInCopy: inCopy, replayed: replay.replayed,
            problems: problems + replay.problems)
        if let path = config.encryption?.identity, !FileIO.exists(path) {
            report.identityMissing = path
        }
        return report
    }

    /// Adds to the workspace's catalog every snapshot whose manifest is in the repository but
    /// not in the catalog, oldest first. Objects are not read beyond manifests and file indexes.
    public static func replay(_ workspace: Workspace, identity: String? = nil) throws -> (replayed: [String], problems: [String]) {
        let store = workspace.store
        let codec = ObjectCodec(store: store, recipients: [], identityFile: identity ?? workspace.config.encryption?.identity)
        let catalog = workspace.catalog
        let known = Set(try catalog.allObjects().filter { $0.type == .manifest }.map(\.sha256))
        var problems: [String] = []
        var found: [(manifest: SnapshotManifest, object: EncodedObject)] = []
        for sha in try store.list(.manifest) where !known.contains(sha) {
            guard let size = store.size(of: .manifest, sha256: sha) else { continue }
            let stored = StoredObject(type: .manifest, sha256: sha, size: size)
            do {
                var object = EncodedObject(stored: stored, plainSize: 0, encryption: try CatalogCopies.encryption(of: stored, in: store))
                let bytes = try codec.readAll(object)
                object.plainSize = Int64(bytes.count)
                // Manifests copied from the primary repository carry its id: any repository
                // of the same set may be the one recovered from.
                let manifest = try JSONDecoder().decode(SnapshotManifest.self, from: Data(bytes))
                found.append((manifest, object))
            } catch {
                problems.append("manifest \(sha.prefix(12)): \(DRError.describe(error))")
            }
        }
        found.sort { ($0.manifest.createdAt, $0.manifest.snapshotID) < ($1.manifest.createdAt, $1.manifest.snapshotID) }
        var replayed: [String] = []
        for (manifest, object) in found {
            if (try? catalog.snapshot(matching: manifest.snapshotID))?.id == manifest.snapshotID { continue }
            do {
                let source = workspace.config.source(named: manifest.source)
                let digest = source.map { SHA256.hash(data: Data(String(describing: $0.spec).utf8)).hexString } ?? "recovered"
                _ = try catalog.ensureSource(name: manifest.source, kind: manifest.kind, configDigest: digest, now: workspace.now())
                var files: FileIndexUpdate?
                if let index = manifest.objects.first(where: { $0.role == FileIndexCodec.role }) {
                    files = try FileIndexCodec.decode(try codec.readAll(index.object))
                }
                guard let createdAt = ISO8601.parse(manifest.createdAt), let dataTime = ISO8601.parse(manifest.dataTime) else {
                    throw DRError(.dataCorrupt, "its times are not ISO 8601")
                }
                let record = SnapshotRecord(
                    id: manifest.snapshotID, source: manifest.source, kind: manifest.kind, level: manifest.level,
                    parentID: manifest.parentID, createdAt: createdAt, dataTime: dataTime,
                    bytes: manifest.objects.reduce(0) { $0 + $1.object.stored.size },
                    plainBytes: manifest.objects.reduce(0) { $0 + $1.object.plainSize }, files: manifest.files,
                    verifiedAt: manifest.verifiedAt.flatMap(ISO8601.parse), verifyResult: manifest.verifyResult,
                    runID: nil, meta: manifest.meta)
                try catalog.insertSnapshot(
                    record, objects: manifest.objects, refs: manifest.refs, manifest: object, files: files,
                    kubeObjects: manifest.kubeObjects ?? [], attempt: nil, now: workspace.now())
                replayed.append(manifest.snapshotID)
                workspace.logger.info("replayed snapshot \(manifest.snapshotID.prefix(8)) of \(manifest.source) from its manifest")
            } catch {
                problems.append("snapshot \(manifest.snapshotID.prefix(8)) of \(manifest.source) (manifest \(object.stored.sha256.prefix(12))): \(DRError.describe(error))")
            }
        }
        return (replayed, problems)
    }
}
