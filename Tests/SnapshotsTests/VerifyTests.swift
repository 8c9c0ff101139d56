import DRCore
import Foundation
import Restore
import Snapshots
import Testing
import TestSupport

/// `drctl verify`: structure and read-data checks over real backups of every kind, with one
/// stored object flipped, truncated or deleted at a time.
@Suite("verify")
struct VerifyTests {
    /// Two snapshots each (full, then incremental) of a git repository and a volume, and one
    /// Secret export; all encrypted.
    struct Setup {
        let workspace: Workspace
        let root: String
        let git: [SnapshotRecord]
        let volume: [SnapshotRecord]
        let secrets: SnapshotRecord
    }

    func setUp(_ dir: String) throws -> Setup {
        let git = try GitFixture()
        try git.makeGitOpsRepository(at: "\(dir)/gitops")
        try FileIO.createDirectory("\(dir)/volume/uploads")
        try FileIO.atomicWrite(Array("<?php // config\n".utf8), to: "\(dir)/volume/wp-config.php")
        try FileIO.atomicWrite(Array(repeating: 0x41, count: 50_000), to: "\(dir)/volume/uploads/a.jpg")
        try FileIO.atomicWrite(Array(SecretFixtures.kubectlList().utf8), to: "\(dir)/secrets.yaml")
        let workspace = try makeWorkspace(in: "\(dir)/drctl", sourcesYAML: """
              - name: gitops
                kind: git-bundle
                repo: \(dir)/gitops
              - name: data
                kind: pvc-archive
                path: \(dir)/volume
              - name: secrets
                kind: secrets
                file: \(dir)/secrets.yaml

            """)
        func backup(_ source: String) throws -> SnapshotRecord {
            let outcome = try #require(try Backup.run(workspace, sources: [source]).outcomes.first)
            return try #require(outcome.snapshot, "\(outcome.error ?? "")")
        }
        let git1 = try backup("gitops")
        let volume1 = try backup("data")
        let secrets = try backup("secrets")
        try git.commit("\(dir)/gitops", file: "apps/new.yaml", content: "kind: ConfigMap\n", message: "Add a config map")
        try FileIO.atomicWrite(Array(repeating: 0x42, count: 30_000), to: "\(dir)/volume/uploads/b.jpg")
        let git2 = try backup("gitops")
        let volume2 = try backup("data")
        #expect(git2.level == .incremental && volume2.level == .incremental)
        guard case .local(let root) = try #require(workspace.config.repositories.first).location else {
            throw DRError(.failed, "not a local repository")
        }
        return Setup(workspace: workspace, root: root, git: [git1, git2], volume: [volume1, volume2], secrets: secrets)
    }

    /// The stored file of the data object with `role` of `snapshot`.
    func objectPath(_ setup: Setup, _ snapshot: SnapshotRecord, role: String) throws -> String {
        let item = try #require(try setup.workspace.catalog.objects(of: snapshot.id).first { $0.role == role })
        let sha = item.object.stored.sha256
        return "\(setup.root)/objects/\(sha.prefix(2))/\(sha)"
    }

    func damage(_ path: String, _ change: (inout [UInt8]) -> Void) throws {
        var bytes = try FileIO.read(path)
        change(&bytes)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        try FileIO.atomicWrite(bytes, to: path)
    }

    func failedIDs(_ report: VerifyReport) -> Set<String> { Set(report.failed.map(\.id)) }

    @Test("a healthy repository passes structure and read-data checks; the result is recorded per snapshot")
    func healthy() throws {
        try withTemporaryDirectory { dir in
            let setup = try setUp(dir)
            let structure = try Verify.run(setup.workspace, options: VerifyOptions())
            #expect(structure.passed, "\(structure.failed)")
            #expect(structure.snapshots.count == 5)
            #expect(structure.snapshots.allSatisfy { $0.depth == "structure" })
            let full = try Verify.run(setup.workspace, options: VerifyOptions(readData: true))
            #expect(full.passed, "\(full.failed)")
            #expect(full.snapshots.allSatisfy { $0.depth == "read-data" })
            #expect(full.objectsRead == full.objectsChecked)
            let recorded = try setup.workspace.catalog.snapshot(matching: setup.volume[1].id)
            #expect(recorded.verifyResult?.hasPrefix("ok: drctl verify (read-data)") == true, "\(recorded.verifyResult ?? "")")
        }
    }

    @Test("one flipped byte in a full volume archive: read-data fails exactly that snapshot and the incremental built on it")
    func flippedArchive() throws {
        try withTemporaryDirectory { dir in
            let setup = try setUp(dir)
            let path = try objectPath(setup, setup.volume[0], role: "archive")
            try damage(path) { $0[$0.count / 2] ^= 0x01 }
            // Sizes are unchanged: the structure check cannot see a flipped byte.
            #expect(try Verify.run(setup.workspace, options: VerifyOptions()).passed)
            let report = try Verify.run(setup.workspace, options: VerifyOptions(readData: true))
            #expect(failedIDs(report) == Set(setup.volume.map(\.id)))
            let sha = (path as NSString).lastPathComponent
            let own = try #require(report.failed.first { $0.id == setup.volume[0].id })
            #expect(own.problems.contains { $0.contains(String(sha.prefix(12))) }, "\(own.problems)")
            let child = try #require(report.failed.first { $0.id == setup.volume[1].id })
            #expect(child.problems.contains { $0.hasPrefix("in its chain, snapshot \(setup.volume[0].shortID)") }, "\(child.problems)")
            // Failed snapshots are recorded as such: restores and drills skip them.
            #expect(try setup.workspace.catalog.snapshot(matching: setup.volume[1].id).verifyResult?.hasPrefix("FAILED") == true)
            do {
                _ = try SnapshotSelection.newestVerified(source: "data", at: Date(), in: setup.workspace.catalog)
                Issue.record("a snapshot that failed verification was bound")
            } catch let error as DRError {
                #expect(error.message.contains("2 failed their last verification, newest \(setup.volume[1].shortID) (FAILED: drctl verify"), "\(error.message)")
            }
            #expect(try SnapshotSelection.newestVerified(source: "gitops", at: Date(), in: setup.workspace.catalog).id == setup.git[1].id)
            // Extracting an affected snapshot fails clearly; an unaffected one still extracts.
            #expect(throws: DRError.self) { try Extract.snapshot(setup.volume[1].id, to: "\(dir)/out-volume", in: setup.workspace) }
            #expect(!FileIO.exists("\(dir)/out-volume"))
            _ = try Extract.snapshot(setup.git[1].id, to: "\(dir)/out-git", in: setup.workspace)
            // Once the object is whole again, verification passes and the snapshots are bound again.
            try damage(path) { $0[$0.count / 2] ^= 0x01 }
            #expect(try Verify.run(setup.workspace, options: VerifyOptions(readData: true)).passed)
            #expect(try SnapshotSelection.newestVerified(source: "data", at: Date(), in: setup.workspace.catalog).id == setup.volume[1].id)
        }
    }

    @Test("a damaged incremental: restores bind the older snapshot and say which newer one they pass over")
    func plannerSkipsDamagedIncremental() throws {
        try withTemporaryDirectory { dir in
            let setup = try setUp(dir)
            try damage(try objectPath(setup, setup.volume[1], role: "archive")) { $0[$0.count / 2] ^= 0x01 }
            let report = try Verify.run(setup.workspace, options: VerifyOptions(readData: true))
            #expect(failedIDs(report) == [setup.volume[1].id])
            let chosen = try SnapshotSelection.newestVerified(source: "data", at: Date(), in: setup.workspace.catalog)
            #expect(chosen.id == setup.volume[0].id)
            #expect(try SnapshotSelection.skipped(after: chosen, at: Date(), in: setup.workspace.catalog).map(\.id) == [setup.volume[1].id])
        }
    }

    @Test("a truncated incremental bundle fails only that snapshot, already in the structure check")
    func truncatedBundle() throws {
        try withTemporaryDirectory { dir in
            let setup = try setUp(dir)
            try damage(try objectPath(setup, setup.git[1], role: "bundle")) { $0.removeLast(100) }
            let report = try Verify.run(setup.workspace, options: VerifyOptions())
            #expect(failedIDs(report) == [setup.git[1].id])
            #expect(report.failed.first?.problems.first?.contains("bytes in the repository") == true, "\(report.failed)")
            #expect(failedIDs(try Verify.run(setup.workspace, options: VerifyOptions(readData: true))) == [setup.git[1].id])
        }
    }

    @Test("a deleted export object fails only the export; flipping a byte in a git bundle is found by read-data")
    func deletedExportAndFlippedBundle() throws {
        try withTemporaryDirectory { dir in
            let setup = try setUp(dir)
            FileIO.remove(try objectPath(setup, setup.secrets, role: "objects"))
            let structure = try Verify.run(setup.workspace, options: VerifyOptions())
            #expect(failedIDs(structure) == [setup.secrets.id])
            #expect(structure.failed.first?.problems.contains { $0.contains("missing from the repository") } == true)
            try damage(try objectPath(setup, setup.git[0], role: "bundle")) { $0[$0.count - 40] ^= 0x80 }
            let report = try Verify.run(setup.workspace, options: VerifyOptions(readData: true))
            #expect(failedIDs(report) == Set([setup.secrets.id] + setup.git.map(\.id)))
            // Only the named snapshots are checked when ids are given.
            let one = try Verify.run(setup.workspace, options: VerifyOptions(snapshotIDs: [String(setup.volume[1].id.prefix(8))], readData: true))
            #expect(one.snapshots.map(\.id) == [setup.volume[1].id])
            #expect(one.passed)
        }
    }

    @Test("--read-data-subset rotates: successive 40% runs read every object once before any twice")
    func subsetRotates() throws {
        try withTemporaryDirectory { dir in
            let setup = try setUp(dir)
            let total = try Verify.run(setup.workspace, options: VerifyOptions()).objectsChecked
            let share = Int((Double(total) * 0.4).rounded(.up))
            var runs: [Set<String>] = []
            for _ in 0..<3 {
                let report = try Verify.run(setup.workspace, options: VerifyOptions(subsetPercent: 40))
                #expect(report.mode == "read-data-subset")
                #expect(report.passed)
                #expect(report.objectsRead == share)
                runs.append(Set(report.read))
            }
            // Two runs of 40% read different objects; three cover all of them.
            #expect(runs[0].isDisjoint(with: runs[1]))
            #expect(runs[0].union(runs[1]).union(runs[2]).count == total)
        }
    }
}
