public import DRCore
import Foundation
internal import Logging

/// What `drctl verify` checks.
public struct VerifyOptions: Sendable {
    /// Snapshot ids or unique prefixes; empty means every snapshot.
    public var snapshotIDs: [String]
    /// Re-read, decrypt and decode every object (bundles unbundled and `git fsck`ed, archives
    /// walked end to end, exports decrypted and compared with the catalog's digests).
    public var readData: Bool
    /// Re-read only this share of the objects (0 < p ≤ 100), continuing where the previous
    /// subset run stopped, so that successive runs cover the whole repository.
    public var subsetPercent: Double?

    /// Record each verdict in the catalog (off when checking one repository of several:
    /// a gap there must not stop restores from another that holds the data).
    public var record: Bool

    public init(snapshotIDs: [String] = [], readData: Bool = false, subsetPercent: Double? = nil, record: Bool = true) {
        self.snapshotIDs = snapshotIDs
        self.readData = readData
        self.subsetPercent = subsetPercent
        self.record = record
    }
}

/// The verdict on one snapshot.
public struct SnapshotVerification: Sendable, Codable, Hashable {
    public var id: String
    public var source: String
    public var kind: String
    public var passed: Bool
    /// `structure`, `read-data`, or `structure+subset` (some of its objects were re-read).
    public var depth: String
    /// What is wrong, each naming the object or entry; problems of a snapshot it depends on
    /// are included (prefixed with that snapshot's id).
    public var problems: [String]
    /// What could not be checked and why (e.g. no identity to decrypt a manifest).
    public var notes: [String]
}

/// The result of one `drctl verify`.
public struct VerifyReport: Sendable, Codable {
    /// `structure`, `read-data` or `read-data-subset`.
    public var mode: String
    public var repository: String
    public var snapshots: [SnapshotVerification]
    /// Distinct objects whose presence and size were checked.
    public var objectsChecked: Int
    /// Distinct objects re-read (and decrypted, decoded) in this run.
    public var objectsRead: Int { read.count }
    /// The SHA-256 names of the objects re-read, sorted.
    public var read: [String]
    public var bytesRead: Int64
    public var seconds: Double
    /// Snapshots that vanished while verifying (forgotten by a concurrent prune); not judged.
    public var vanished: [String]

    /// True when every snapshot passed.
    public var passed: Bool { snapshots.allSatisfy(\.passed) }
    /// The snapshots that failed.
    public var failed: [SnapshotVerification] { snapshots.filter { !$0.passed } }
}

/// Checks that what the catalog records is really in the repository, and optionally that it
/// reads back intact; records the outcome per snapshot (`verified_at`, `verify_result`), so
/// restores and drills bind only snapshots that passed.
///
/// Structure: every object of the snapshot and of its chain exists with the recorded size,
/// and the manifest agrees with the catalog. With `readData`: every object is read through,
/// its hash checked and age layer decrypted; volume archives are walked entry by entry and
/// each file's hash compared with the file index; git snapshots are rebuilt (bundle
/// prerequisites, `git fsck`) and their refs compared; exports are decrypted, parsed and
/// compared with the keyed digests. Reads run without the data folder's lock: backups go
/// on meanwhile, and a snapshot that a concurrent prune forgets is reported as vanished.
public enum Verify {
    /// Runs a verification and records its outcome for every snapshot it judged.
    public static func run(_ workspace: Workspace, options: VerifyOptions) throws -> VerifyReport {
        let clock = ContinuousClock()
        let start = clock.now
        let catalog = workspace.catalog
        let listed: [SnapshotRecord]
        if options.snapshotIDs.isEmpty {
            listed = try catalog.snapshots()
        } else {
            var seen = Set<String>()
            listed = try options.snapshotIDs.map { try catalog.snapshot(matching: $0) }.filter { seen.insert($0.id).inserted }
        }
        var run = VerifyRun(workspace: workspace)
        // Every snapshot a target depends on is checked too. A prune running meanwhile may
        // forget a target between the listing and here: it has vanished, not failed.
        var chains: [String: [SnapshotRecord]] = [:]
        var vanished: [String] = []
        var targets: [SnapshotRecord] = []
        for target in listed {
            do {
                chains[target.id] = try catalog.chain(to: target.id)
                targets.append(target)
            } catch {
                guard (try? catalog.snapshot(matching: target.id)) == nil else { throw error }
                vanished.append(target.id)
            }
        }
        var closure: [String: SnapshotRecord] = [:]
        for chain in chains.values { for link in chain { closure[link.id] = link } }

        for snapshot in closure.values.sorted(by: { $0.id < $1.id }) { try run.checkStructure(snapshot) }

        var mode = "structure"
        var toRead: [String] = []
        if let percent = options.subsetPercent {
            mode = "read-data-subset"
            toRead = run.subset(percent: percent)
        } else if options.readData {
            mode = "read-data"
            toRead = run.objects.keys.sorted()
        }
        for sha in toRead { run.read(sha) }
        if options.readData && options.subsetPercent == nil {
            for target in targets { run.checkContent(target) }
        }

        var verdicts: [SnapshotVerification] = []
        let now = workspace.now()
        for target in targets {
            let chain = chains[target.id] ?? [target]
            var problems: [String] = []
            var notes: [String] = []
            for link in chain {
                let own = run.problems(of: link.id)
                problems += link.id == target.id ? own : own.map { "in its chain, snapshot \(link.shortID): \($0)" }
                if link.id == target.id { notes += run.notes[link.id] ?? [] }
            }
            let objects = chain.flatMap { run.snapshotObjects[$0.id] ?? [] }
            let readAll = !objects.isEmpty && objects.allSatisfy { run.readObjects.contains($0) }
            let depth = readAll && mode != "structure" ? "read-data" : (toRead.isEmpty ? "structure" : "structure+subset")
            // A snapshot a concurrent prune forgot is not a failure of the repository.
            guard (try? catalog.snapshot(matching: target.id)) != nil else {
                vanished.append(target.id)
                continue
            }
            let verdict = SnapshotVerification(
                id: target.id, source: target.source, kind: target.kind, passed: problems.isEmpty, depth: depth,
                problems: problems, notes: notes)
            let result = problems.isEmpty
                ? "ok: drctl verify (\(depth)): \(objects.count) object(s) present\(depth == "read-data" ? ", read and decoded" : "")"
                : "FAILED: drctl verify (\(depth)): " + problems.prefix(3).joined(separator: "; ")
                    + (problems.count > 3 ? "; and \(problems.count - 3) more" : "")
            if options.record { try catalog.recordVerification(target.id, at: now, result: result) }
            verdicts.append(verdict)
        }
        if !toRead.isEmpty, options.subsetPercent != nil { try run.saveCursor() }
        for verdict in verdicts where !verdict.passed {
            workspace.logger.error("snapshot \(verdict.id.prefix(8)) (\(verdict.source)) failed verification: \(verdict.problems.joined(separator: "; "))")
        }
        return VerifyReport(
            mode: mode, repository: workspace.store.location, snapshots: verdicts, objectsChecked: run.objects.count,
            read: run.readObjects.sorted(), bytesRead: run.bytesRead, seconds: (clock.now - start).seconds,
            vanished: vanished)
    }
}
