import DRCore
import Foundation
import Testing
import TestSupport

@Suite("Catalog file index")
struct CatalogFileIndexTests {
    let archive = EncodedObject(
        stored: StoredObject(type: .data, sha256: String(repeating: "a", count: 64), size: 100), plainSize: 90, encryption: .age)
    let archive2 = EncodedObject(
        stored: StoredObject(type: .data, sha256: String(repeating: "b", count: 64), size: 50), plainSize: 40, encryption: .age)

    func manifest(_ n: Int) -> EncodedObject {
        EncodedObject(stored: StoredObject(type: .manifest, sha256: String(repeating: String(n), count: 64), size: 10),
                      plainSize: 8, encryption: .age)
    }

    func snapshot(_ id: String, parent: String?) -> SnapshotRecord {
        SnapshotRecord(id: id, source: "vol", kind: "pvc-archive", level: parent == nil ? .full : .incremental,
                       parentID: parent, createdAt: Date(), dataTime: Date(), bytes: 100, plainBytes: 90)
    }

    /// Every column kind: the root's empty key, NULL and non-NULL blobs, a non-UTF-8 name,
    /// a symlink target, a hard link's target key, entries and object references; in key
    /// order, as the catalog returns them.
    func fullTree() -> [FileRecord] {
        let sha = archive.stored.sha256
        return sorted([
            FileRecord(key: [], type: .directory, mtimeNs: 1, ctimeNs: 2, mode: 0o755, uid: 0, gid: 0),
            FileRecord(key: Array("a.txt".utf8), type: .regular, size: 5, mtimeNs: 1_700_000_000_123_456_789,
                       ctimeNs: 9, mode: 0o644, uid: 1000, gid: 1000, hash: Array(repeating: 7, count: 32), object: sha, entry: 0),
            FileRecord(key: Array("d".utf8), type: .directory, mode: 0o700, uid: 33, gid: 33, object: sha, entry: 1),
            FileRecord(key: Array("d".utf8) + [0] + [0xFF, 0xFE, 0x0A], type: .regular, size: 0, mode: 0o600,
                       hash: Array(repeating: 1, count: 32), object: sha, entry: 2),
            FileRecord(key: Array("d".utf8) + [0] + Array("hard".utf8), type: .hardlink, size: 5, mode: 0o644,
                       linkTarget: Array("a.txt".utf8), object: sha, entry: 3),
            FileRecord(key: Array("link".utf8), type: .symlink, mode: 0o777, linkTarget: Array("../etc".utf8), object: sha,
                       entry: 4),
        ])
    }

    func sorted(_ records: [FileRecord]) -> [FileRecord] {
        records.sorted { $0.key.lexicographicallyPrecedes($1.key) }
    }

    func record(_ records: [FileRecord], _ name: String) throws -> FileRecord {
        try #require(records.first { $0.key == Array(name.utf8) })
    }

    func open(_ dir: String) throws -> Catalog {
        let catalog = try Catalog.open(path: "\(dir)/catalog.db", create: true, logger: testLogger)
        _ = try catalog.ensureSource(name: "vol", kind: "pvc-archive", configDigest: "d")
        return catalog
    }

    func collect(_ walk: ((FileRecord) throws -> Void) throws -> Void) throws -> [FileRecord] {
        var records: [FileRecord] = []
        try walk { records.append($0) }
        return records
    }

    /// Records a full snapshot of `records` stored in `archive`.
    func insertFull(_ catalog: Catalog, _ id: String, _ records: [FileRecord], manifest n: Int) throws {
        try catalog.insertSnapshot(
            snapshot(id, parent: nil), objects: [SnapshotObject(object: archive, role: "archive")], refs: [],
            manifest: manifest(n), files: FileIndexUpdate(records: records, replacesState: true), attempt: nil)
    }

    /// The source's current state, as change detection streams it.
    func state(_ catalog: Catalog) throws -> [FileRecord] {
        try catalog.withFileState(source: "vol") { next in
            var rows: [FileRecord] = []
            while let row = try next() { rows.append(row) }
            return rows
        }
    }

    func pathCount(_ catalog: Catalog) throws -> Int {
        var paths = 0
        try catalog.forEachPath(source: "vol") { _ in paths += 1 }
        return paths
    }

    @Test("a full and an incremental index read back exactly as written, deletions applied")
    func roundTrip() throws {
        try withTemporaryDirectory { dir in
            let catalog = try open(dir)
            let full = fullTree()
            try insertFull(catalog, "1111000011110000", full, manifest: 1)
            #expect(try collect { try catalog.files(at: "1111000011110000", $0) } == full)

            // The incremental changes a.txt, deletes the symlink and adds a file.
            let sha2 = archive2.stored.sha256
            var changed = try record(full, "a.txt")
            changed.size = 6
            changed.hash = Array(repeating: 8, count: 32)
            changed.object = sha2
            changed.entry = 0
            let added = FileRecord(key: Array("z".utf8), type: .regular, size: 1, mode: 0o644,
                                   hash: Array(repeating: 9, count: 32), object: sha2, entry: 1)
            let deleted = FileRecord(key: Array("link".utf8), type: .deleted)
            try catalog.insertSnapshot(
                snapshot("2222000022220000", parent: "1111000011110000"),
                objects: [SnapshotObject(object: archive2, role: "archive")], refs: [], manifest: manifest(2),
                files: FileIndexUpdate(records: [changed, deleted, added], replacesState: false), attempt: nil)

            let expected = sorted(full.filter { $0.key != Array("a.txt".utf8) && $0.key != Array("link".utf8) } + [changed, added])
            #expect(try collect { try catalog.files(at: "2222000022220000", $0) } == expected)
            #expect(try collect { try catalog.ownFiles(of: "2222000022220000", $0) } == [changed, deleted, added])
            #expect(try state(catalog) == expected)
            // The older snapshot is unchanged by the newer one's rows.
            #expect(try collect { try catalog.files(at: "1111000011110000", $0) } == full)
            #expect(try catalog.integrityProblems().isEmpty)
        }
    }

    @Test("a new full replaces the state; paths are interned once")
    func fullReplacesState() throws {
        try withTemporaryDirectory { dir in
            let catalog = try open(dir)
            let full = fullTree()
            try insertFull(catalog, "1111000011110000", full, manifest: 1)
            let smaller = Array(full.prefix(2))
            try insertFull(catalog, "3333000033330000", smaller, manifest: 3)
            #expect(try state(catalog) == smaller)
            #expect(try pathCount(catalog) == full.count)
        }
    }

    @Test("a row SQLite refuses fails the whole snapshot with SQLite's reason, and nothing is recorded")
    func refusedRowRollsBack() throws {
        try withTemporaryDirectory { dir in
            let catalog = try open(dir)
            var records = fullTree()
            records.append(try record(records, "a.txt"))  // the same path twice: the file table's primary key refuses it
            let error = try #require(throws: DRError.self) {
                try insertFull(catalog, "4444000044440000", records, manifest: 4)
            }
            #expect(error.message.contains("UNIQUE constraint failed"), "\(error.message)")
            #expect(try catalog.snapshots().isEmpty)
            #expect(try state(catalog).isEmpty)
            #expect(try pathCount(catalog) == 0)
        }
    }
}
