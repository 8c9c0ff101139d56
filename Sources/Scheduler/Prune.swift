public import DRCore
public import Foundation
internal import Snapshots
internal import Logging

/// What `drctl prune` does, and how.
public struct PruneOptions: Sendable {
    /// Only these sources (all configured ones when empty).
    public var sources: [String]
    /// Decide and report, change nothing.
    public var dryRun: Bool
    /// Block until the data folder's lock is free instead of refusing at once.
    public var waitForLock: Bool
    /// Repository files the catalog does not know (a backup in flight, or one that
    /// crashed) are deleted only once they are older than this.
    public var orphanGraceSeconds: Double

    public init(sources: [String] = [], dryRun: Bool = false, waitForLock: Bool = false,
                orphanGraceSeconds: Double = 86_400) {
        self.sources = sources
        self.dryRun = dryRun
        self.waitForLock = waitForLock
        self.orphanGraceSeconds = orphanGraceSeconds
    }
}

/// What a prune decided and did.
public struct PruneReport: Sendable, Codable {
    /// One snapshot's verdict.
    public struct Verdict: Sendable, Codable, Hashable {
        public var id: String
        public var source: String
        public var level: SnapshotLevel
        public var parentID: String?
        public var dataTime: Date
        public var keep: Bool
        /// Why it stays: retention rules, then protections (newest verified, parent of a
        /// kept snapshot, bound by a restore). Empty when forgotten.
        public var reasons: [String]
    }

    /// One source's verdicts, newest first.
    public struct SourceReport: Sendable, Codable, Hashable {
        public var source: String
        public var timeZone: String
        /// False when the source has no `retention:` (or no positive rule): it keeps everything.
        public var hasPolicy: Bool
        public var snapshots: [Verdict]

        public var kept: [Verdict] { snapshots.filter(\.keep) }
        public var forgotten: [Verdict] { snapshots.filter { !$0.keep } }
    }

    /// An object removed from the repository (or that would be, with `--dry-run`).
    public struct RemovedObject: Sendable, Codable, Hashable {
        public var type: ObjectType
        public var sha256: String
        public var size: Int64
        /// `unreferenced` (its snapshots were forgotten) or `orphan` (a repository file
        /// the catalog never recorded, older than the grace period).
        public var why: String
    }

    public var dryRun: Bool
    public var sources: [SourceReport]
    public var removedObjects: [RemovedObject]
    /// Unreferenced objects left in place because a backup wrote them again during the prune.
    public var rewrittenDuringPrune: [String]
    /// Stored bytes of the removed objects.
    public var bytesFreed: Int64
    /// Leftovers of killed processes in the repository's `tmp/` (unfinished object writes,
    /// objects a killed prune had moved aside), cleaned after the grace period.
    public var temporaryFiles = TemporaryCleanup()

    /// Ids of the forgotten snapshots, across sources.
    public var forgottenIDs: [String] { sources.flatMap { $0.forgotten.map(\.id) } }
}

/// `drctl prune`: applies each source's `retention:` with protections, forgets the
/// snapshots outside it in one catalog transaction, then garbage-collects the repository
/// (docs/SCHEDULING.md, "Retention and prune").
public enum Prune {
    /// Decides, per selected source, which snapshots stay. Reads only.
    public static func plan(_ workspace: Workspace, sources names: [String] = []) throws -> [PruneReport.SourceReport] {
        let config = workspace.config
        var selected: [SourceConfig] = []
        for name in names {
            guard let source = config.source(named: name) else {
                throw DRError(.notFound, "no source named `\(name)` in \(config.file)",
                              hint: "configured sources: \(config.sources.map(\.name).joined(separator: ", "))")
            }
            if !selected.contains(where: { $0.name == name }) { selected.append(source) }
        }
        if names.isEmpty { selected = config.sources }
        let bindings = try restoreBindings(workspace.catalog)
        return try selected.map { source in
            let zoneName = source.scheduling.timeZone
            guard let zone = TimeZone(identifier: zoneName) else {
                throw DRError(.config, "source \(source.name): unknown time zone `\(zoneName)`")
            }
            let snapshots = try workspace.catalog.snapshots(source: source.name)
            let policy = source.scheduling.retention ?? RetentionPolicy()
            return SourceReport(
                source: source.name, timeZone: zoneName, hasPolicy: Retention.hasRules(policy),
                snapshots: decide(snapshots, policy: policy, timeZone: zone, bindings: bindings))
        }
    }

    typealias SourceReport = PruneReport.SourceReport

    /// Retention verdicts plus the protections, newest first. `bindings` maps snapshot ids
    /// (or prefixes of at least 8 characters) to the restore executions that bind them.
    static func decide(
        _ snapshots: [SnapshotRecord], policy: RetentionPolicy, timeZone: TimeZone, bindings: [String: [String]]
    ) -> [PruneReport.Verdict] {
        var verdicts = Retention.evaluate(snapshots, policy: policy, timeZone: timeZone).map { item in
            PruneReport.Verdict(
                id: item.snapshot.id, source: item.snapshot.source, level: item.snapshot.level,
                parentID: item.snapshot.parentID, dataTime: item.snapshot.dataTime, keep: item.keep, reasons: item.reasons)
        }
        let index = Dictionary(verdicts.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { first, _ in first })
        func protect(_ position: Int, _ reason: String) {
            verdicts[position].keep = true
            verdicts[position].reasons.append(reason)
        }
        // Newest first, so the first verified one is the newest verified one.
        let records = Dictionary(snapshots.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        if let newestVerified = verdicts.firstIndex(where: { verdict in
            guard let record = records[verdict.id] else { return false }
            return record.verifiedAt != nil && (record.verifyResult ?? "").hasPrefix("ok")
        }) {
            protect(newestVerified, "newest verified snapshot")
        }
        for position in verdicts.indices {
            let id = verdicts[position].id
            let holders = bindings.filter { id.hasPrefix($0.key) }.flatMap(\.value)
            for holder in Set(holders).sorted() { protect(position, "bound by restore execution \(holder)") }
        }
        // Parent chains of everything kept; newest first, and each link is walked once.
        var walked = Set<String>()
        for position in verdicts.indices where verdicts[position].keep {
            var child = verdicts[position]
            while !walked.contains(child.id), let parent = child.parentID, let at = index[parent] {
                walked.insert(child.id)
                if !verdicts[at].keep { protect(at, "parent of kept \(String(child.id.prefix(8)))") }
                child = verdicts[at]
            }
        }
        return verdicts
    }

    /// Snapshot ids bound by running or resumable restore executions, from their plans:
    /// every hex string of at least 8 characters in the plan JSON, mapped to
    /// `EXEC_SHORT_ID (status)`.
    static func restoreBindings(_ catalog: Catalog) throws -> [String: [String]] {
        var result: [String: [String]] = [:]
        for execution in try catalog.resumableExecutions() {
            let holder = "\(execution.shortID) (\(execution.status.rawValue))"
            guard let json = try? JSONSerialization.jsonObject(with: Data(execution.plan.utf8)) else { continue }
            var strings: [String] = []
            func collect(_ value: Any) {
                if let text = value as? String {
                    strings.append(text)
                } else if let array = value as? [Any] {
                    array.forEach(collect)
                } else if let object = value as? [String: Any] {
                    object.values.forEach(collect)
                }
            }
            collect(json)
            for text in strings where text.count >= 8 && text.count <= 16 && text.allSatisfy(\.isHexDigit) {
                result[text.lowercased(), default: []].append(holder)
            }
        }
        return result
    }

    /// Runs a prune: takes the data folder's lock, decides, forgets (one catalog
    /// transaction), then deletes the repository files of objects nothing references.
    public static func run(_ workspace: Workspace, options: PruneOptions = PruneOptions()) throws -> PruneReport {
        guard case .acquired(let lock) = try RunLock.acquire(dataDir: workspace.config.dataDir, wait: options.waitForLock) else {
            let holder = RunLock.holder(dataDir: workspace.config.dataDir).map { " (pid \($0))" } ?? ""
            throw DRError(.refused, "another drctl (a `run --due`, the daemon or a prune)\(holder) holds \(RunLock.path(dataDir: workspace.config.dataDir))",
                          hint: "try again when it has finished, or pass --wait")
        }
        defer { lock.release() }
        // Other hosts sharing the repository: prune runs alone (dead locks are cleared first).
        var repositoryLock: RepositoryLock?
        if !options.dryRun {
            let cleared = (try? RepositoryLock.removeDead(in: workspace.store)) ?? 0
            if cleared > 0 { workspace.logger.info("removed \(cleared) released or stale repository lock(s)") }
            repositoryLock = try RepositoryLock.acquire(.prune, on: workspace.store, logger: workspace.logger)
        }
        defer { repositoryLock?.release() }
        // File times are wall-clock times, whatever clock the workspace uses.
        let started = Date()
        let sources = try plan(workspace, sources: options.sources)
        var report = PruneReport(dryRun: options.dryRun, sources: sources, removedObjects: [], rewrittenDuringPrune: [],
                                 bytesFreed: 0)
        let store = workspace.store
        let garbage = try workspace.catalog.forget(report.forgottenIDs, dryRun: options.dryRun)
        if !options.dryRun { workspace.crash.reach(.pruneAfterForget) }
        for object in garbage {
            let present = store.size(of: object.type, sha256: object.sha256)
            if options.dryRun {
                if let present {
                    report.removedObjects.append(.init(type: object.type, sha256: object.sha256, size: present, why: "unreferenced"))
                    report.bytesFreed += present
                }
                continue
            }
            if try store.delete(object.type, sha256: object.sha256, ifWrittenBefore: started) {
                if let present {
                    report.removedObjects.append(.init(type: object.type, sha256: object.sha256, size: present, why: "unreferenced"))
                    report.bytesFreed += present
                    workspace.crash.reach(.pruneMidDelete)
                }
            } else {
                report.rewrittenDuringPrune.append(object.sha256)
            }
        }
        // Orphans: files no catalog row names, older than the grace period.
        var known = Set(try workspace.catalog.allObjects().map { "\($0.type.rawValue)/\($0.sha256)" })
        for object in garbage { known.insert("\(object.type.rawValue)/\(object.sha256)") }
        let cutoff = started.addingTimeInterval(-options.orphanGraceSeconds)
        for type in ObjectType.allCases where type != .catalog {
            for sha in try store.list(type) where !known.contains("\(type.rawValue)/\(sha)") {
                guard let written = store.modificationDate(of: type, sha256: sha), written < cutoff,
                      let size = store.size(of: type, sha256: sha)
                else { continue }
                if try options.dryRun || store.delete(type, sha256: sha, ifWrittenBefore: cutoff) {
                    report.removedObjects.append(.init(type: type, sha256: sha, size: size, why: "orphan"))
                    report.bytesFreed += size
                    if !options.dryRun { workspace.crash.reach(.pruneMidDelete) }
                }
            }
        }
        // Leftovers of killed processes: unfinished writes and objects moved aside in tmp/
        // (this prune holds the lock every backup takes, so none is being written), and
        // scratch folders of ended drctl processes in the data folder.
        if !options.dryRun {
            let referenced = Set(try workspace.catalog.allObjects().map { "\($0.type.rawValue)/\($0.sha256)" })
            report.temporaryFiles = store.cleanTemporaryFiles(writtenBefore: cutoff) { type, sha in
                referenced.contains("\(type.rawValue)/\(sha)")
            }
            workspace.removeStaleScratch()
        }
        // Catalog copies: the newest few are kept, by write time (no decryption needed).
        let copies = try store.list(.catalog).compactMap { sha in
            store.modificationDate(of: .catalog, sha256: sha).map { (sha: sha, written: $0) }
        }.sorted { $0.written > $1.written }
        for copy in copies.dropFirst(CatalogCopies.kept) where copy.written < cutoff {
            guard let size = store.size(of: .catalog, sha256: copy.sha) else { continue }
            if options.dryRun {
                report.removedObjects.append(.init(type: .catalog, sha256: copy.sha, size: size, why: "old catalog copy"))
            } else {
                try store.delete(.catalog, sha256: copy.sha)
                report.removedObjects.append(.init(type: .catalog, sha256: copy.sha, size: size, why: "old catalog copy"))
            }
            report.bytesFreed += size
        }
        if !options.dryRun { CatalogCopies.saveAfterRun(workspace) }
        return report
    }
}
