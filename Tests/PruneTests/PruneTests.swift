import DRCore
import Foundation
import Restore
@testable import Scheduler
import Snapshots
import Testing
import TestSupport

@Suite("prune")
struct PruneTests {
    let git: GitFixture

    init() throws { git = try GitFixture() }

    func backup(_ workspace: Workspace, _ source: String) throws -> SnapshotRecord {
        let (_, outcomes) = try Backup.run(workspace, sources: [source])
        let outcome = try #require(outcomes.first)
        #expect(outcome.succeeded, "backup of \(source) failed: \(outcome.error ?? "")")
        return try #require(outcome.snapshot)
    }

    /// Catalog rows and repository files, for before/after comparisons.
    func state(_ workspace: Workspace) throws -> [String] {
        try workspace.catalog.snapshots().map { "snapshot \($0.id)" }
            + workspace.catalog.allObjects().map { "object \($0.type.rawValue) \($0.sha256) \($0.size)" }
            + ObjectType.allCases.flatMap { type in try workspace.store.list(type).map { "file \(type.rawValue) \($0)" } }
    }

    /// Records a failed restore execution whose plan binds `snapshot`.
    func failedRestore(binding snapshot: SnapshotRecord, in workspace: Workspace) throws -> String {
        let plan = """
            {"runbook":"volume","snapshots":[{"id":"\(snapshot.id)","source":"\(snapshot.source)"}],"steps":[]}
            """
        let id = ExecutionRecord.newID()
        let redactor = Redactor()
        try workspace.catalog.beginExecution(
            ExecutionRecord(id: id, runbook: "volume", origin: "test", contentHash: "x", mode: .drill, at: Date(),
                            startedAt: Date(), plan: plan), redactor: redactor)
        try workspace.catalog.finishExecution(id, status: .failed, rtoSeconds: nil, error: "step failed", redactor: redactor)
        return id
    }

    @Test("prune forgets outside retention, keeps chains, bound and newest verified; every kept snapshot extracts")
    func pruneRealBackups() throws {
        try withTemporaryDirectory { dir in
            let repo = "\(dir)/gitops"
            try git.makeGitOpsRepository(at: repo)
            let volume = "\(dir)/volume"
            try makeCorpus([volume, "--mb", "2"])
            let sources = """
                  - name: gitops
                    kind: git-bundle
                    repo: \(repo)
                    retention: {keep_last: 1}
                  - name: wp
                    kind: pvc-archive
                    path: \(volume)
                    full_every: 2
                    timezone: Europe/Warsaw
                    retention: {keep_last: 1}

                """
            let workspace = try makeWorkspace(in: "\(dir)/drctl", sourcesYAML: sources)

            // git: full + 3 incrementals (one chain). volume: F0 I1 I2 F3 I4.
            var gitSnapshots: [(SnapshotRecord, [String])] = []
            for step in 0..<4 {
                if step > 0 { try git.commit(repo, file: "step\(step).yaml", content: "step: \(step)\n", message: "Step \(step)") }
                gitSnapshots.append((try backup(workspace, "gitops"), try git.refs(repo)))
            }
            var volumeSnapshots: [(SnapshotRecord, [String])] = []
            for step in 0..<5 {
                if step > 0 { try makeCorpus([volume, "--mutate", "10", "--seed", "\(step + 20)"]) }
                let manifest = try treeManifest(volume)
                volumeSnapshots.append((try backup(workspace, "wp"), manifest))
            }
            #expect(volumeSnapshots.map(\.0.level) == [.full, .incremental, .incremental, .full, .incremental])
            let v = volumeSnapshots.map(\.0)
            let execution = try failedRestore(binding: v[1], in: workspace)

            // Dry run: the same report, and nothing changes.
            let before = try state(workspace)
            let dry = try Prune.run(workspace, options: PruneOptions(dryRun: true))
            #expect(try state(workspace) == before)
            #expect(Set(dry.forgottenIDs) == [v[2].id])

            let forgottenObjects = try workspace.catalog.objects(of: v[2].id).map(\.object.stored)
            let report = try Prune.run(workspace)
            #expect(report.forgottenIDs == dry.forgottenIDs)
            #expect(report.bytesFreed == dry.bytesFreed)
            #expect(report.removedObjects == dry.removedObjects)

            // git: keep_last 1 keeps the newest; its chain keeps the rest.
            let gitReport = try #require(report.sources.first { $0.source == "gitops" })
            #expect(gitReport.forgotten.isEmpty)
            #expect(gitReport.snapshots.dropFirst().allSatisfy { $0.reasons.contains { $0.hasPrefix("parent of kept") } })

            // volume: I4 by rule (and newest verified), F3 its parent, I1 bound, F0 its parent; I2 goes.
            let wp = try #require(report.sources.first { $0.source == "wp" })
            #expect(wp.timeZone == "Europe/Warsaw")
            let reasons = Dictionary(uniqueKeysWithValues: wp.snapshots.map { ($0.id, $0.reasons) })
            #expect(reasons[v[4].id] == ["last snapshot", "newest verified snapshot"])
            #expect(reasons[v[3].id] == ["parent of kept \(v[4].shortID)"])
            #expect(reasons[v[1].id] == ["bound by restore execution \(execution.prefix(8)) (failed)"])
            #expect(reasons[v[0].id] == ["parent of kept \(v[1].shortID)"])
            #expect(reasons[v[2].id] == [])

            // The forgotten snapshot's objects are gone from catalog and repository; bytes add up.
            #expect(!forgottenObjects.isEmpty)
            for object in forgottenObjects {
                #expect(workspace.store.size(of: object.type, sha256: object.sha256) == nil)
            }
            #expect(Set(report.removedObjects.map(\.sha256)) == Set(forgottenObjects.map(\.sha256)))
            #expect(report.bytesFreed == forgottenObjects.reduce(0) { $0 + $1.size })
            #expect(report.bytesFreed > 0)
            #expect(try workspace.catalog.snapshots().map(\.id).contains(v[2].id) == false)
            #expect(try workspace.catalog.integrityProblems().isEmpty)

            // Every kept snapshot still extracts to exactly its tree / refs.
            for (snapshot, manifest) in volumeSnapshots where snapshot.id != v[2].id {
                let target = "\(dir)/extract-\(snapshot.shortID)"
                let extract = try Extract.snapshot(snapshot.id, to: target, in: workspace)
                #expect(extract.mismatches.isEmpty)
                #expect(try treeManifest(target) == manifest, "snapshot \(snapshot.shortID) differs after prune")
            }
            for (snapshot, refs) in gitSnapshots {
                let target = "\(dir)/extract-\(snapshot.shortID)"
                _ = try Extract.snapshot(snapshot.id, to: target, in: workspace)
                #expect(try git.refs(target) == refs)
            }

            // A second prune finds nothing; a backup after it builds on the kept chain.
            let again = try Prune.run(workspace)
            #expect(again.forgottenIDs.isEmpty && again.removedObjects.isEmpty)
            try makeCorpus([volume, "--mutate", "5", "--seed", "99"])
            let next = try backup(workspace, "wp")
            #expect(next.parentID == v[4].id || next.level == .full)
        }
    }

    @Test("the newest verified snapshot stays even when the rules would drop it")
    func newestVerifiedProtected() {
        let base = Date(timeIntervalSince1970: 1_750_000_000)
        func record(_ n: Int, verified: Bool, parent: String? = nil) -> SnapshotRecord {
            SnapshotRecord(
                id: "00000000000000\(n)0", source: "s", kind: "pvc-archive", level: parent == nil ? .full : .incremental,
                parentID: parent, createdAt: base + Double(n) * 3600, dataTime: base + Double(n) * 3600, bytes: 1,
                plainBytes: 1, verifiedAt: verified ? base : nil, verifyResult: verified ? "ok" : nil)
        }
        let snapshots = [record(1, verified: true), record(2, verified: true, parent: "0000000000000010"),
                         record(3, verified: false), record(4, verified: false)]
        let verdicts = Prune.decide(snapshots, policy: RetentionPolicy(keepLast: 1), timeZone: .gmt, bindings: [:])
        #expect(verdicts.map(\.keep) == [true, false, true, true])
        #expect(verdicts[2].reasons == ["newest verified snapshot"])
        #expect(verdicts[3].reasons == ["parent of kept 00000000"])
        // Without rules everything stays.
        let all = Prune.decide(snapshots, policy: RetentionPolicy(), timeZone: .gmt, bindings: [:])
        #expect(all.allSatisfy { $0.keep })
    }

    @Test("a second prune waits for, or refuses, the data folder's lock")
    func lockRefuses() throws {
        try withTemporaryDirectory { dir in
            try FileIO.createDirectory("\(dir)/volume")
            let workspace = try makeWorkspace(
                in: "\(dir)/drctl", sourcesYAML: "  - name: wp\n    kind: pvc-archive\n    path: \(dir)/volume\n", encrypt: false)
            guard case .acquired(let held) = try RunLock.acquire(dataDir: workspace.config.dataDir, wait: false) else {
                Issue.record("the lock should be free")
                return
            }
            #expect(throws: DRError.self) { try Prune.run(workspace) }
            held.release()
            #expect(try Prune.run(workspace).forgottenIDs.isEmpty)
        }
    }

    @Test("orphaned repository files are removed only after the grace period")
    func orphans() throws {
        try withTemporaryDirectory { dir in
            let repo = "\(dir)/gitops"
            try git.makeGitOpsRepository(at: repo)
            let workspace = try makeWorkspace(
                in: "\(dir)/drctl", sourcesYAML: "  - name: gitops\n    kind: git-bundle\n    repo: \(repo)\n", encrypt: false)
            _ = try backup(workspace, "gitops")
            let orphan = try workspace.store.write(type: .data) { emit in
                try Array("in flight".utf8).withUnsafeBytes { try emit($0) }
            }
            let young = try Prune.run(workspace, options: PruneOptions(orphanGraceSeconds: 3600))
            #expect(young.removedObjects.isEmpty)
            #expect(workspace.store.size(of: .data, sha256: orphan.sha256) != nil)
            let old = try Prune.run(workspace, options: PruneOptions(orphanGraceSeconds: -60))
            #expect(old.removedObjects.map(\.sha256) == [orphan.sha256])
            #expect(old.removedObjects.first?.why == "orphan")
            #expect(workspace.store.size(of: .data, sha256: orphan.sha256) == nil)
            #expect(try Prune.run(workspace, options: PruneOptions(orphanGraceSeconds: -60)).removedObjects.isEmpty)
        }
    }

    @Test("drctl prune through the binary: --dry-run changes nothing, then prune forgets and frees")
    func binary() throws {
        try withTemporaryDirectory { dir in
            let volume = "\(dir)/volume"
            try makeCorpus([volume, "--mb", "1"])
            let workspace = try makeWorkspace(
                in: "\(dir)/drctl",
                sourcesYAML: "  - name: wp\n    kind: pvc-archive\n    path: \(volume)\n    full_every: 1\n    retention: {keep_last: 1}\n",
                encrypt: false)
            for step in 0..<3 {
                if step > 0 { try makeCorpus([volume, "--mutate", "10", "--seed", "\(step + 40)"]) }
                _ = try backup(workspace, "wp")
            }
            let config = workspace.config.file
            let before = try state(workspace)
            let dry = try runDrctl(["prune", "--dry-run", "--config", config])
            #expect(dry.status == 0, "\(dry.stderr)")
            #expect(dry.stdoutText.contains("would forget 2"), "\(dry.stdoutText)")
            #expect(try state(workspace) == before)

            let run = try runDrctl(["prune", "--json", "--config", config])
            #expect(run.status == 0, "\(run.stderr)")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout)) as? [String: Any])
            #expect((json["bytesFreed"] as? Int ?? 0) > 0)
            #expect((json["removedObjects"] as? [Any])?.isEmpty == false)
            #expect(try workspace.catalog.snapshots().count == 1)

            let unknown = try runDrctl(["prune", "--source", "nope", "--config", config])
            #expect(unknown.status == DRError.Code.notFound.exitCode)
        }
    }
}

@Suite("prune safety")
struct PruneSafetyTests {
    @Test("an object written again after the cutoff survives deletion; an older one goes")
    func rewrittenObjectSurvives() throws {
        try withTemporaryDirectory { dir in
            let store = try LocalRepository.create(name: "default", root: "\(dir)/repo")
            func put(_ text: String) throws -> StoredObject {
                try store.write(type: .data) { emit in try Array(text.utf8).withUnsafeBytes { try emit($0) } }
            }
            let old = try put("old")
            #expect(try store.delete(.data, sha256: old.sha256, ifWrittenBefore: Date().addingTimeInterval(60)))
            #expect(store.size(of: .data, sha256: old.sha256) == nil)

            let cutoff = Date().addingTimeInterval(-60)
            let fresh = try put("fresh")
            #expect(try store.delete(.data, sha256: fresh.sha256, ifWrittenBefore: cutoff) == false)
            #expect(store.size(of: .data, sha256: fresh.sha256) == fresh.size)
            #expect(FileIO.list("\(dir)/repo/tmp").isEmpty, "nothing is left aside")
            #expect(try store.delete(.data, sha256: "0000", ifWrittenBefore: Date()), "an absent object is gone")
        }
    }

    @Test("the catalog refuses to forget the parent of a snapshot that stays, and changes nothing")
    func catalogRefusesBrokenChain() throws {
        try withTemporaryDirectory { dir in
            let git = try GitFixture()
            let repo = "\(dir)/gitops"
            try git.makeGitOpsRepository(at: repo)
            let workspace = try makeWorkspace(
                in: "\(dir)/drctl", sourcesYAML: "  - name: gitops\n    kind: git-bundle\n    repo: \(repo)\n", encrypt: false)
            _ = try Backup.run(workspace)
            try git.commit(repo, file: "x.yaml", content: "x: 1\n", message: "x")
            _ = try Backup.run(workspace)
            let snapshots = try workspace.catalog.snapshots()
            #expect(snapshots.map(\.level) == [.full, .incremental])
            let objects = try workspace.catalog.allObjects()
            #expect(throws: DRError.self) { try workspace.catalog.forget([snapshots[0].id], dryRun: false) }
            #expect(try workspace.catalog.snapshots() == snapshots)
            #expect(try workspace.catalog.allObjects() == objects)
            // Forgetting the whole chain is fine: children go before parents.
            let garbage = try workspace.catalog.forget(snapshots.map(\.id), dryRun: false)
            #expect(try workspace.catalog.snapshots().isEmpty)
            #expect(Set(garbage) == Set(objects))
        }
    }
}
