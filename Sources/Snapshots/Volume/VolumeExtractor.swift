#if canImport(Glibc)
import Glibc
#endif
// `struct stat` reaches Swift through CArchive's headers in this module (MemberImportVisibility).
internal import CArchive
import DRCore
import Foundation

/// Rebuilds a volume tree as it was at a snapshot: the full archive and the incrementals
/// of its chain, each extracting only the entries whose newest version it holds, so
/// deleted files stay absent. Every restored file's content hash is checked against the
/// catalog; directory modes and times are applied last.
enum VolumeExtractor {
    struct Outcome {
        var files = 0
        var bytes: Int64 = 0
        var mismatches: [String] = []
    }

    static func extract(_ snapshot: SnapshotRecord, into staging: String, include: [Glob], in workspace: Workspace) throws -> Outcome {
        let catalog = workspace.catalog
        let contentHash = try ContentHash(of: snapshot)
        let clock = PhaseClock(source: snapshot.source, logger: workspace.logger)
        var records: [FileRecord] = []
        var root: FileRecord?
        try catalog.files(at: snapshot.id) { record in
            if record.key.isEmpty { root = record } else { records.append(record) }
        }
        clock.lap("extract: reading the index of \(records.count) entries")
        if !include.isEmpty {
            var selected = records.filter { record in Self.selected(record.path, include) }
            // A hard link needs the file it links to.
            let keys = Set(selected.map(\.key))
            let targets = Set(selected.compactMap { $0.type == .hardlink ? $0.linkTarget : nil }).subtracting(keys)
            selected += records.filter { targets.contains($0.key) }
            records = selected.sorted { $0.key.lexicographicallyPrecedes($1.key) }
            guard !records.isEmpty else {
                throw DRError(.notFound, "no path of snapshot \(snapshot.shortID) matches --include \(include.map(\.pattern).joined(separator: " "))",
                              hint: "list its files with `drctl snapshots show \(snapshot.shortID) --files`")
            }
        }
        try FileIO.createDirectory(staging, mode: 0o700)
        var owned: [String: Set<[UInt8]>] = [:]
        for record in records {
            if let object = record.object { owned[object, default: []].insert(record.path) }
        }
        var outcome = Outcome()
        var hashes: [[UInt8]: [UInt8]] = [:]
        // The crash tests' `extract-mid` point: half of the entries queued for the writer.
        let half = max(1, records.count / 2)
        var extracted = 0
        let crash = workspace.crash
        for link in try catalog.chain(to: snapshot.id) {
            for item in try catalog.objects(of: link.id) where item.role == "archive" {
                guard let paths = owned[item.object.stored.sha256], !paths.isEmpty else { continue }
                do {
                    let stream = try ZstdDecoder.backgroundStream(item.object, codec: workspace.codec)
                    defer { stream.cancel() }
                    let result = try SecureExtractor.extract(stream, into: staging, include: { paths.contains($0) }, contentHash: contentHash) {
                        extracted += 1
                        if extracted == half { crash.reach(.extractMid) }
                    }
                    outcome.bytes += result.bytes
                    hashes.merge(result.hashes) { _, new in new }
                } catch {
                    let e = DRError.wrap(error)
                    throw DRError(e.code, "snapshot \(link.shortID) (source \(link.source)), archive \(item.object.stored.sha256): \(e.message)",
                                  hint: link.id == snapshot.id ? nil : "it is in the chain that snapshot \(snapshot.shortID) depends on")
                }
            }
        }
        clock.lap("extract: archives")
        // Check every file against the index, then put directory metadata back (deepest first).
        for record in records {
            let display = PathKey.display(record.path)
            switch record.type {
            case .regular:
                outcome.files += 1
                if hashes[record.path] != record.hash { outcome.mismatches.append(display) }
            case .hardlink, .symlink:
                outcome.files += 1
                if !FileIO.exists(staging + "/" + display) && !exists(staging, record.path) { outcome.mismatches.append(display) }
            case .directory, .deleted:
                break
            }
        }
        try applyMetadata(records, root: root, below: staging)
        clock.lap("extract: checking hashes and applying folder metadata")
        return outcome
    }

    /// True when a glob matches the path or one of its parent folders.
    static func selected(_ path: [UInt8], _ globs: [Glob]) -> Bool {
        var prefix = path
        while true {
            if globs.contains(where: { $0.matches(prefix) }) { return true }
            guard let slash = prefix.lastIndex(of: UInt8(ascii: "/")) else { return false }
            prefix = Array(prefix[..<slash])
        }
    }

    static func exists(_ staging: String, _ path: [UInt8]) -> Bool {
        var info = stat()
        return withCPath(Array(staging.utf8) + [UInt8(ascii: "/")] + path) { lstat($0, &info) } == 0
    }

    /// Puts back folder and symlink metadata, deepest first, then the root folder's. Paths go
    /// through ``ContainedTree``: one that leads through a symlink (only a hostile archive
    /// makes one) is left alone rather than followed out of `staging`.
    static func applyMetadata(_ records: [FileRecord], root: FileRecord?, below staging: String) throws {
        let tree = try ContainedTree(root: staging)
        for record in records.reversed() where record.type == .directory || record.type == .symlink {
            guard let (folder, name) = try? tree.parent(of: record.path) else { continue }
            withCPath(name) { apply(record, folder: folder, name: $0) }
        }
        if let root { apply(root, folder: AT_FDCWD, name: staging) }
    }

    /// Sets a folder's mode, owner (as root) and times, or a symlink's owner and times, from
    /// its record. `name` is looked up in `folder` without following a final symlink.
    static func apply(_ record: FileRecord, folder: Int32, name: UnsafePointer<CChar>) {
        var info = stat()
        guard fstatat(folder, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { return }
        let format = info.st_mode & S_IFMT
        guard format == S_IFDIR || format == S_IFLNK else { return }
        if geteuid() == 0 { _ = fchownat(folder, name, record.uid, record.gid, AT_SYMLINK_NOFOLLOW) }
        if format == S_IFDIR { _ = fchmodat(folder, name, mode_t(record.mode), 0) }
        let seconds = record.mtimeNs / 1_000_000_000
        let nanos = record.mtimeNs % 1_000_000_000
        var times = [timespec(tv_sec: Int(seconds), tv_nsec: Int(nanos)), timespec(tv_sec: Int(seconds), tv_nsec: Int(nanos))]
        _ = utimensat(folder, name, &times, AT_SYMLINK_NOFOLLOW)
    }
}
