import DRCore
import Foundation
import Testing
import TestSupport

@Suite("Catalog")
struct CatalogTests {
    func object(_ n: Int, _ type: ObjectType = .data) -> EncodedObject {
        EncodedObject(stored: StoredObject(type: type, sha256: String(repeating: String(n % 10), count: 64), size: 10),
                      plainSize: 8, encryption: .none)
    }

    @Test("snapshots, objects and refs are recorded together and found by id prefix")
    func insertAndQuery() throws {
        try withTemporaryDirectory { dir in
            let catalog = try Catalog.open(path: "\(dir)/catalog.db", create: true, logger: testLogger)
            let run = try catalog.beginRun(trigger: .manual)
            let source = try catalog.ensureSource(name: "gitops", kind: "git-bundle", configDigest: "d1")
            let attempt = try catalog.beginAttempt(run: run, source: source)
            let full = SnapshotRecord(id: "aaaa000011112222", source: "gitops", kind: "git-bundle", level: .full,
                                      parentID: nil, createdAt: Date(), dataTime: Date(timeIntervalSince1970: 1000),
                                      bytes: 10, plainBytes: 8, verifiedAt: Date(), verifyResult: "ok", runID: run)
            try catalog.insertSnapshot(full, objects: [SnapshotObject(object: object(1), role: "bundle")],
                                       refs: [GitRef(name: "refs/heads/main", oid: "abc")], manifest: object(2, .manifest),
                                       attempt: attempt)
            var incremental = full
            incremental.id = "aaab000011112222"
            incremental.level = .incremental
            incremental.parentID = full.id
            incremental.dataTime = Date(timeIntervalSince1970: 2000)
            try catalog.insertSnapshot(incremental, objects: [], refs: [], manifest: object(3, .manifest), attempt: nil)

            #expect(try catalog.snapshot(matching: "aaaa").id == full.id)
            #expect(try catalog.latestSnapshot(source: "gitops")?.id == incremental.id)
            #expect(try catalog.chain(to: "aaab").map(\.id) == [full.id, incremental.id])
            #expect(try catalog.objects(of: full.id).map(\.role) == ["manifest", "bundle"])
            #expect(try catalog.refs(of: full.id) == [GitRef(name: "refs/heads/main", oid: "abc")])
            #expect(try catalog.attempts(run: run).first?.snapshotID == full.id)
            let ambiguous = try #require(throws: DRError.self) { try catalog.snapshot(matching: "aaa0") }
            #expect(ambiguous.code == .notFound)
            #expect(try catalog.integrityProblems().isEmpty)
        }
    }

    @Test("an incremental snapshot must name its parent; a failing insert leaves nothing behind")
    func constraints() throws {
        try withTemporaryDirectory { dir in
            let catalog = try Catalog.open(path: "\(dir)/catalog.db", create: true, logger: testLogger)
            _ = try catalog.ensureSource(name: "gitops", kind: "git-bundle", configDigest: "d1")
            let orphan = SnapshotRecord(id: "bbbb000011112222", source: "gitops", kind: "git-bundle", level: .incremental,
                                        parentID: "ffff000011112222", createdAt: Date(), dataTime: Date(), bytes: 0, plainBytes: 0)
            #expect(throws: DRError.self) {
                try catalog.insertSnapshot(orphan, objects: [SnapshotObject(object: object(4), role: "bundle")], refs: [],
                                           manifest: object(5, .manifest), attempt: nil)
            }
            #expect(try catalog.snapshots().isEmpty)
        }
    }

    @Test("a missing catalog is a clear not-found error; a source cannot change kind")
    func openErrors() throws {
        try withTemporaryDirectory { dir in
            let error = try #require(throws: DRError.self) { try Catalog.open(path: "\(dir)/none.db", logger: testLogger) }
            #expect(error.code == .notFound)
            let catalog = try Catalog.open(path: "\(dir)/catalog.db", create: true, logger: testLogger)
            _ = try catalog.ensureSource(name: "x", kind: "git-bundle", configDigest: "1")
            #expect(throws: DRError.self) { try catalog.ensureSource(name: "x", kind: "secrets", configDigest: "1") }
        }
    }
}
