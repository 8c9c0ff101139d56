import DRCore
import Foundation
import Snapshots
import Testing
import TestSupport

@Suite("git-bundle snapshots")
struct GitBundleTests {
    let git: GitFixture

    init() throws { git = try GitFixture() }

    func sources(_ repo: String, name: String = "gitops") -> String {
        "  - name: \(name)\n    kind: git-bundle\n    repo: \(repo)\n"
    }

    func backupOne(_ workspace: Workspace) throws -> BackupOutcome {
        let (_, outcomes) = try Backup.run(workspace)
        let outcome = try #require(outcomes.first)
        #expect(outcome.succeeded, "backup failed: \(outcome.error ?? "")")
        return outcome
    }

    @Test("full, then incremental after new commits and a deleted branch; each extracts to its refs")
    func fullThenIncremental() throws {
        try withTemporaryDirectory { dir in
            let repo = "\(dir)/gitops"
            try git.makeGitOpsRepository(at: repo)
            let workspace = try makeWorkspace(in: "\(dir)/drctl", sourcesYAML: sources(repo))
            let refsAtFirst = try git.refs(repo)
            let first = try #require(try backupOne(workspace).snapshot)
            #expect(first.level == .full)
            #expect(first.verifiedAt != nil)

            try git.commit(repo, file: "base/plugin-config.yaml", content: "plugin: transkrypt\n", message: "Configure plugin")
            try git("branch", "--quiet", "-D", "feature/ssl", in: repo)
            try git("tag", "v2", in: repo)
            let refsAtSecond = try git.refs(repo)
            let second = try #require(try backupOne(workspace).snapshot)
            #expect(second.level == .incremental)
            #expect(second.parentID == first.id)
            #expect(try workspace.catalog.objects(of: second.id).contains { $0.role == "bundle" })

            for (snapshot, expected) in [(first, refsAtFirst), (second, refsAtSecond)] {
                let target = "\(dir)/extract-\(snapshot.shortID)"
                _ = try Extract.snapshot(snapshot.id, to: target, in: workspace)
                #expect(try git.refs(target) == expected)
                #expect(try git("symbolic-ref", "HEAD", in: target).trimmingWhitespace() == "refs/heads/main")
                // Non-bare source: the working tree is checked out at HEAD.
                #expect(FileManager.default.fileExists(atPath: "\(target)/base/wordpress-stack.yaml"))
                try git("fsck", "--no-progress", in: target)
            }
        }
    }

    @Test("a repository served by git daemon on loopback backs up; a stopped daemon is an unreachable error")
    func gitDaemonSource() throws {
        try withTemporaryDirectory { dir in
            try FileIO.createDirectory("\(dir)/served")
            try git.makeGitOpsRepository(at: "\(dir)/work")
            try git("clone", "--quiet", "--bare", "\(dir)/work", "\(dir)/served/gitops.git")
            try FileIO.atomicWrite([], to: "\(dir)/served/gitops.git/git-daemon-export-ok")
            let daemon = try GitDaemon(base: "\(dir)/served")
            let workspace = try makeWorkspace(in: "\(dir)/drctl", sourcesYAML: sources(daemon.url("gitops.git")))
            let snapshot = try #require(try backupOne(workspace).snapshot)
            #expect(try workspace.catalog.refs(of: snapshot.id).map(\.name).contains("refs/heads/main"))

            daemon.stop()
            let failed = try #require(try Backup.run(workspace).outcomes.first)
            #expect(!failed.succeeded)
            #expect(failed.errorCode == DRError.Code.unreachable.rawValue, "\(failed.error ?? "")")
        }
    }

    @Test("full_every: N starts a new chain after N incrementals, also for an unchanged repository")
    func fullEvery() throws {
        try withTemporaryDirectory { dir in
            let repo = "\(dir)/gitops"
            try git.makeGitOpsRepository(at: repo)
            let workspace = try makeWorkspace(in: "\(dir)/drctl", sourcesYAML: sources(repo) + "    full_every: 2\n")
            var levels: [SnapshotLevel] = []
            for index in 0..<4 {
                if index == 1 { try git.commit(repo, file: "README.md", content: "x\n", message: "change") }
                levels.append(try #require(try backupOne(workspace).snapshot).level)
            }
            #expect(levels == [.full, .incremental, .incremental, .full])
            let newest = try #require(try workspace.catalog.latestSnapshot(source: "gitops"))
            _ = try Extract.snapshot(newest.id, to: "\(dir)/out", in: workspace)
            #expect(try git.refs("\(dir)/out") == git.refs(repo))
        }
    }

    @Test("a force-push between snapshots gives a full snapshot that still extracts")
    func rewrittenHistoryIsFull() throws {
        try withTemporaryDirectory { dir in
            let repo = "\(dir)/gitops"
            try git.makeGitOpsRepository(at: repo)
            let workspace = try makeWorkspace(in: "\(dir)/drctl", sourcesYAML: sources(repo), encrypt: false)
            _ = try backupOne(workspace)
            try git("reset", "--quiet", "--hard", "HEAD~1", in: repo)
            try git.commit(repo, file: "base/other.yaml", content: "rewritten: true\n", message: "Rewritten")
            let expected = try git.refs(repo)
            let outcome = try backupOne(workspace)
            let snapshot = try #require(outcome.snapshot)
            #expect(snapshot.level == .full)
            #expect(outcome.note.contains("rewritten"))
            _ = try Extract.snapshot(snapshot.id, to: "\(dir)/out", in: workspace)
            #expect(try git.refs("\(dir)/out") == expected)
        }
    }

    @Test("an unchanged repository still records a snapshot, with no new object")
    func unchangedRecordsSnapshot() throws {
        try withTemporaryDirectory { dir in
            let repo = "\(dir)/gitops.git"
            try git("init", "--quiet", "--bare", "-b", "main", repo)
            let work = "\(dir)/work"
            try git("clone", "--quiet", repo, work)
            try git.commit(work, file: "README.md", content: "gitops\n", message: "init")
            try git("push", "--quiet", "origin", "main", in: work)
            let workspace = try makeWorkspace(in: "\(dir)/drctl", sourcesYAML: sources(repo))
            let first = try #require(try backupOne(workspace).snapshot)
            let objectsBefore = try workspace.store.list(.data)
            let again = try backupOne(workspace)
            let second = try #require(again.snapshot)
            #expect(again.note == "unchanged")
            #expect(second.parentID == first.id)
            #expect(second.dataTime >= first.dataTime)
            #expect(try workspace.catalog.objects(of: second.id).allSatisfy { $0.role == "manifest" })
            #expect(try workspace.store.list(.data) == objectsBefore)
            // A bare source extracts bare, with the same refs.
            _ = try Extract.snapshot(second.id, to: "\(dir)/out.git", in: workspace)
            #expect(try git.refs("\(dir)/out.git") == git.refs(repo))
            #expect(try git("rev-parse", "--is-bare-repository", in: "\(dir)/out.git").trimmingWhitespace() == "true")
        }
    }

    @Test("a corrupted bundle object fails extract, naming snapshot and object, writing nothing")
    func corruptObjectFailsExtract() throws {
        try withTemporaryDirectory { dir in
            let repo = "\(dir)/gitops"
            try git.makeGitOpsRepository(at: repo)
            let workspace = try makeWorkspace(in: "\(dir)/drctl", sourcesYAML: sources(repo))
            let snapshot = try #require(try backupOne(workspace).snapshot)
            let bundle = try #require(try workspace.catalog.objects(of: snapshot.id).first { $0.role == "bundle" })
            let sha = bundle.object.stored.sha256
            let path = "\(dir)/drctl/repository/objects/\(sha.prefix(2))/\(sha)"
            var bytes = try Array(Data(contentsOf: URL(fileURLWithPath: path)))
            bytes[bytes.count / 2] ^= 0x01
            try Data(bytes).write(to: URL(fileURLWithPath: path))

            let target = "\(dir)/restore"
            let error = try #require(throws: DRError.self) { try Extract.snapshot(snapshot.id, to: target, in: workspace) }
            #expect(error.code == .dataCorrupt)
            #expect(error.message.contains(snapshot.shortID))
            #expect(error.message.contains(sha))
            #expect(!FileManager.default.fileExists(atPath: target))
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir).allSatisfy { !$0.contains(".drctl-") })
        }
    }

    @Test("extract refuses a non-empty folder")
    func extractRefusesNonEmpty() throws {
        try withTemporaryDirectory { dir in
            let repo = "\(dir)/gitops"
            try git.makeGitOpsRepository(at: repo)
            let workspace = try makeWorkspace(in: "\(dir)/drctl", sourcesYAML: sources(repo))
            let snapshot = try #require(try backupOne(workspace).snapshot)
            try FileManager.default.createDirectory(atPath: "\(dir)/busy", withIntermediateDirectories: true)
            try "keep me".write(toFile: "\(dir)/busy/file", atomically: true, encoding: .utf8)
            let error = try #require(throws: DRError.self) { try Extract.snapshot(snapshot.id, to: "\(dir)/busy", in: workspace) }
            #expect(error.code == .refused)
            #expect(try String(contentsOfFile: "\(dir)/busy/file", encoding: .utf8) == "keep me")
        }
    }

    @Test("encrypted bundles and manifests decrypt with the stock age tool")
    func encryptedObjectsDecryptWithAge() throws {
        let environment = Environment.current
        let age = try environment.require("age", purpose: "cross-check encryption")
        try withTemporaryDirectory { dir in
            let repo = "\(dir)/gitops"
            try git.makeGitOpsRepository(at: repo)
            let workspace = try makeWorkspace(in: "\(dir)/drctl", sourcesYAML: sources(repo))
            let snapshot = try #require(try backupOne(workspace).snapshot)
            let objects = try workspace.catalog.objects(of: snapshot.id)
            #expect(objects.allSatisfy { $0.object.encryption == .age })
            let bundle = try #require(objects.first { $0.role == "bundle" }).object.stored.sha256
            var command = Command(age, ["-d", "-i", "\(dir)/drctl/keys/identity.txt", "-o", "\(dir)/plain.bundle",
                                        "\(dir)/drctl/repository/objects/\(bundle.prefix(2))/\(bundle)"])
            command.timeout = .seconds(60)
            #expect(try command.run().succeeded)
            let heads = try git("bundle", "list-heads", "\(dir)/plain.bundle", in: repo)
            #expect(heads.contains("refs/heads/main"))
            // The manifest decrypts too, and describes the snapshot.
            let manifest = try #require(objects.first { $0.role == "manifest" })
            let text = try SnapshotManifest.decode(try workspace.codec.readAll(manifest.object))
            #expect(text.snapshotID == snapshot.id)
            #expect(text.refs == (try workspace.catalog.refs(of: snapshot.id)))
        }
    }

    @Test("an unreachable URL fails with the unreachable code and leaves no snapshot row")
    func unreachableRemote() throws {
        try withTemporaryDirectory { dir in
            let workspace = try makeWorkspace(
                in: "\(dir)/drctl", sourcesYAML: sources("git://127.0.0.1:9/nothing.git", name: "remote"))
            let (runID, outcomes) = try Backup.run(workspace)
            let outcome = try #require(outcomes.first)
            #expect(!outcome.succeeded)
            #expect(outcome.errorCode == DRError.Code.unreachable.rawValue)
            #expect(try workspace.catalog.snapshots().isEmpty)
            let attempts = try workspace.catalog.attempts(run: runID)
            #expect(attempts.map(\.status) == [.failed])
            #expect(attempts.first?.error?.contains("127.0.0.1") == true)
        }
    }

    @Test("without git on PATH a backup fails with the missing-tool code")
    func missingGit() throws {
        try withTemporaryDirectory { dir in
            let repo = "\(dir)/gitops"
            try git.makeGitOpsRepository(at: repo)
            var environment = Environment.current
            environment["PATH"] = "\(dir)/empty-bin"
            let workspace = try makeWorkspace(in: "\(dir)/drctl", sourcesYAML: sources(repo), environment: environment)
            let (_, outcomes) = try Backup.run(workspace)
            let outcome = try #require(outcomes.first)
            #expect(outcome.errorCode == DRError.Code.missingTool.rawValue)
            #expect(outcome.error?.contains("git") == true)
            #expect(try workspace.catalog.snapshots().isEmpty)
        }
    }
}
