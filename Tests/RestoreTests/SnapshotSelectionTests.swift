import DRCore
import Foundation
import Restore
import Testing
import TestSupport

@Suite("snapshot selection")
struct SnapshotSelectionTests {
    @Test("a restore at time T binds the newest verified snapshot at or before T, and says why none qualifies")
    func newestVerified() throws {
        try withTemporaryDirectory { dir in
            let catalog = try Catalog.open(path: "\(dir)/catalog.db", create: true, logger: testLogger)
            _ = try catalog.ensureSource(name: "gitops", kind: "git-bundle", configDigest: "d")
            func manifest(_ n: Int) -> EncodedObject {
                EncodedObject(stored: StoredObject(type: .manifest, sha256: String(repeating: "\(n)", count: 64), size: 1),
                              plainSize: 1, encryption: .none)
            }
            // t=100 verified, t=200 verified, t=300 not verified.
            var parent: String?
            for (n, (time, verified)) in [(100.0, true), (200.0, true), (300.0, false)].enumerated() {
                let id = String(repeating: "\(n + 1)", count: 16)
                try catalog.insertSnapshot(
                    SnapshotRecord(id: id, source: "gitops", kind: "git-bundle", level: parent == nil ? .full : .incremental,
                                   parentID: parent, createdAt: Date(), dataTime: Date(timeIntervalSince1970: time),
                                   bytes: 0, plainBytes: 0, verifiedAt: verified ? Date() : nil,
                                   verifyResult: verified ? "ok" : nil),
                    objects: [], refs: [], manifest: manifest(n + 1), attempt: nil)
                parent = id
            }
            let at = { (t: Double) in try SnapshotSelection.newestVerified(source: "gitops", at: Date(timeIntervalSince1970: t), in: catalog) }
            #expect(try at(350).id == String(repeating: "2", count: 16))  // newest is unverified: skipped
            #expect(try at(150).id == String(repeating: "1", count: 16))
            let tooEarly = try #require(throws: DRError.self) { try at(50) }
            #expect(tooEarly.code == .notFound)
            #expect(tooEarly.message.contains("at or before"))
            let unknown = try #require(throws: DRError.self) {
                try SnapshotSelection.newestVerified(source: "other", at: Date(), in: catalog)
            }
            #expect(unknown.message.contains("no snapshots"))
        }
    }
}
