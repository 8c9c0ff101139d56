import DRCore
import Foundation
@testable import Snapshots
import Testing
import TestSupport

@Suite("pvc-archive snapshots")
struct VolumeTests {
    func sources(_ volume: String, extra: String = "") -> String {
        "  - name: wp\n    kind: pvc-archive\n    path: \(volume)\n" + extra
    }

    func backup(_ workspace: Workspace, rehash: Bool = false) throws -> BackupOutcome {
        let (_, outcomes) = try Backup.run(workspace, options: BackupOptions(rehash: rehash))
        let outcome = try #require(outcomes.first)
        #expect(outcome.succeeded, "backup failed: \(outcome.error ?? "")")
        return outcome
    }

    /// A make-corpus tree plus what the corpus lacks: hard links, odd names, xattrs, modes.
    func makeVolume(_ volume: String) throws {
        try makeCorpus([volume, "--mb", "3"])
        try writeFile(named: Array("with\nnewline.txt".utf8), in: volume, contents: Array("newline".utf8))
        try writeFile(named: [0x62, 0x61, 0x64, 0xff, 0xfe, 0x2e, 0x62, 0x69, 0x6e], in: volume, contents: [1, 2, 3], mode: 0o600)
        try FileManager.default.createDirectory(atPath: "\(volume)/empty/nested", withIntermediateDirectories: true)
        try "shared".write(toFile: "\(volume)/hard-a", atomically: false, encoding: .utf8)
        try FileManager.default.linkItem(atPath: "\(volume)/hard-a", toPath: "\(volume)/mysql/hard-b")
        var command = Command("/bin/sh", ["-c", "python3 -c \"import os; os.setxattr('\(volume)/hard-a', 'user.drctl', b'kept')\""])
        command.timeout = .seconds(30)
        _ = try command.run()
    }

    @Test("full, mutate, incremental, mutate, incremental: every snapshot extracts to exactly its tree")
    func roundTrip() throws {
        try withTemporaryDirectory { dir in
            let volume = "\(dir)/volume"
            try makeVolume(volume)
            let workspace = try makeWorkspace(in: "\(dir)/drctl", sourcesYAML: sources(volume))
            var expected: [(SnapshotRecord, [String])] = []
            for step in 0..<3 {
                if step > 0 { try makeCorpus([volume, "--mutate", "10", "--seed", "\(step + 10)"]) }
                if step == 2 {
                    try FileManager.default.removeItem(atPath: "\(volume)/hard-a")  // hard-b survives alone
                    try FileManager.default.createSymbolicLink(atPath: "\(volume)/new-link", withDestinationPath: "mysql/hard-b")
                }
                let manifest = try treeManifest(volume)
                let outcome = try backup(workspace)
                let snapshot = try #require(outcome.snapshot)
                #expect(snapshot.level == (step == 0 ? .full : .incremental))
                #expect(snapshot.verifyResult?.hasPrefix("ok") == true)
                #expect(snapshot.files == Int64(manifest.count), "the snapshot's file count is the tree's entry count")
                expected.append((snapshot, manifest))
            }
            for (snapshot, manifest) in expected {
                let target = "\(dir)/restore-\(snapshot.shortID)"
                let report = try Extract.snapshot(snapshot.id, to: target, in: workspace)
                #expect(report.mismatches.isEmpty)
                let restored = try treeManifest(target)
                #expect(restored == manifest, "snapshot \(snapshot.shortID) differs: \(Set(restored).symmetricDifference(manifest).prefix(6))")
            }
            // xattrs survive.
            var check = Command("/bin/sh", ["-c", "python3 -c \"import os; print(os.getxattr('\(dir)/restore-\(expected[0].0.shortID)/hard-a', 'user.drctl'))\""])
            check.timeout = .seconds(30)
            #expect(try check.run().stdoutText.contains("kept"))
        }
    }

    @Test("an unchanged volume records a snapshot without an archive; --rehash finds silent content changes")
    func unchangedAndRehash() throws {
        try withTemporaryDirectory { dir in
            let volume = "\(dir)/volume"
            try makeCorpus([volume, "--mb", "1"])
            try "linked".write(toFile: "\(volume)/hard-a", atomically: false, encoding: .utf8)
            try FileManager.default.linkItem(atPath: "\(volume)/hard-a", toPath: "\(volume)/hard-b")
            let workspace = try makeWorkspace(in: "\(dir)/drctl", sourcesYAML: sources(volume), encrypt: false)
            let first = try #require(try backup(workspace).snapshot)
            let unchanged = try backup(workspace)
            #expect(unchanged.note == "unchanged")
            #expect(try workspace.catalog.objects(of: #require(unchanged.snapshot).id).map(\.role) == ["manifest"])
            #expect(unchanged.snapshot?.files == first.files)
            #expect(try backup(workspace, rehash: true).note == "unchanged")
            // Pretend the disk rotted under the same metadata: the catalog's hash no longer matches.
            try workspace.catalog.corruptStateHashForTesting(source: "wp", path: "wp-config.php")
            let rehashed = try backup(workspace, rehash: true)
            #expect(rehashed.note.hasPrefix("1 changed"))
        }
    }

    @Test("full_every: N takes a full after N incrementals")
    func fullEvery() throws {
        try withTemporaryDirectory { dir in
            let volume = "\(dir)/volume"
            try makeCorpus([volume, "--mb", "1"])
            let workspace = try makeWorkspace(in: "\(dir)/drctl", sourcesYAML: sources(volume, extra: "    full_every: 2\n"), encrypt: false)
            let levels = try (0..<4).map { _ in try #require(try backup(workspace).snapshot).level }
            #expect(levels == [.full, .incremental, .incremental, .full])
        }
    }

    @Test("a previous chain that lost an object makes the next snapshot full, and it extracts")
    func brokenChainTakesFull() throws {
        try withTemporaryDirectory { dir in
            let volume = "\(dir)/volume"
            try makeCorpus([volume, "--mb", "1"])
            let workspace = try makeWorkspace(in: "\(dir)/drctl", sourcesYAML: sources(volume), encrypt: false)
            let first = try #require(try backup(workspace).snapshot)
            let archive = try #require(try workspace.catalog.objects(of: first.id).first { $0.role == "archive" })
            try workspace.store.delete(.data, sha256: archive.object.stored.sha256)
            let next = try backup(workspace)
            #expect(next.snapshot?.level == .full)
            #expect(next.note == "previous chain is broken")
            let report = try Extract.snapshot(try #require(next.snapshot).id, to: "\(dir)/out", in: workspace)
            #expect(report.mismatches.isEmpty)
            #expect(try treeManifest("\(dir)/out") == treeManifest(volume))
        }
    }

    @Test("exclude globs leave paths out; --include restores a subset")
    func excludeAndInclude() throws {
        try withTemporaryDirectory { dir in
            let volume = "\(dir)/volume"
            try makeCorpus([volume, "--mb", "1"])
            let workspace = try makeWorkspace(
                in: "\(dir)/drctl", sourcesYAML: sources(volume, extra: "    exclude: ['wp-content/uploads/**', '*.css']\n"), encrypt: false)
            let snapshot = try #require(try backup(workspace).snapshot)
            var paths: [String] = []
            try workspace.catalog.files(at: snapshot.id) { paths.append(PathKey.display($0.path)) }
            #expect(!paths.contains { $0.hasPrefix("wp-content/uploads/") || $0.hasSuffix(".css") })
            #expect(paths.contains("wp-content/uploads"))
            #expect(paths.contains("wp-config.php"))
            let report = try Extract.snapshot(snapshot.id, to: "\(dir)/subset", include: [Glob("mysql")], in: workspace)
            #expect(report.mismatches.isEmpty)
            let restored = try FileManager.default.subpathsOfDirectory(atPath: "\(dir)/subset")
            #expect(restored.contains("mysql/ibdata1"))
            #expect(restored.allSatisfy { $0.hasPrefix("mysql") })
            let nothing = try #require(throws: DRError.self) {
                try Extract.snapshot(snapshot.id, to: "\(dir)/none", include: [Glob("no-such-*")], in: workspace)
            }
            #expect(nothing.code == .notFound)
            #expect(!FileManager.default.fileExists(atPath: "\(dir)/none"))
        }
    }

    @Test("archives read with stock tar --zstd and bsdtar, after age -d for encrypted ones")
    func stockToolsRead() throws {
        let environment = Environment.current
        let age = try environment.require("age", purpose: "decrypt in tests")
        let tar = try environment.require("tar", purpose: "read archives in tests")
        let bsdtar = try environment.require("bsdtar", package: "libarchive-tools", purpose: "read archives in tests")
        try withTemporaryDirectory { dir in
            let volume = "\(dir)/volume"
            try makeVolume(volume)
            let workspace = try makeWorkspace(in: "\(dir)/drctl", sourcesYAML: sources(volume))
            let snapshot = try #require(try backup(workspace).snapshot)
            let archive = try #require(try workspace.catalog.objects(of: snapshot.id).first { $0.role == "archive" })
            let sha = archive.object.stored.sha256
            let plain = "\(dir)/archive.tar.zst"
            #expect(try Command(age, ["-d", "-i", "\(dir)/drctl/keys/identity.txt", "-o", plain,
                                      "\(dir)/drctl/repository/objects/\(sha.prefix(2))/\(sha)"]).run().succeeded)
            let expected = try treeManifest(volume).filter { !$0.hasPrefix(" ") }
            for (tool, arguments) in [(tar, ["--zstd", "-xf", plain, "-C"]), (bsdtar, ["-xf", plain, "-C"])] {
                let out = "\(dir)/\((tool as NSString).lastPathComponent)"
                try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
                let result = try Command(tool, arguments + [out]).run()
                #expect(result.succeeded, "\(tool): \(result.stderr)")
                // Stock tools do not restore directory mtimes after later writes the way drctl does: compare files.
                let files = { (lines: [String]) in lines.filter { $0.split(separator: " ")[1] != "d" } }
                #expect(files(try treeManifest(out)) == files(expected))
            }
        }
    }

    @Test("a file that changes while it is read fails the snapshot and is named; nothing is recorded")
    func changingFile() throws {
        try withTemporaryDirectory { dir in
            let volume = "\(dir)/volume"
            try FileManager.default.createDirectory(atPath: volume, withIntermediateDirectories: true)
            try Data(repeating: 7, count: 3 << 20).write(to: URL(fileURLWithPath: "\(volume)/growing.log"))
            var archive: [UInt8] = []
            let writer = try TarZstdWriter { archive.append(contentsOf: $0) }
            writer.afterFirstChunk = { path in
                let handle = FileHandle(forWritingAtPath: PathKey.display(path))
                handle?.seekToEndOfFile()
                handle?.write(Data("more".utf8))
                try? handle?.close()
            }
            let error = try #require(throws: VolumeArchiveError.self) {
                try writer.addEntry(from: Array("\(volume)/growing.log".utf8), as: Array("growing.log".utf8))
            }
            #expect(error.code == .fileChangedDuringRead)
            #expect(error.message.contains("growing.log"))
        }
    }

    @Test("pre-hook failure fails the snapshot; post-hooks always run and see the source")
    func hooks() throws {
        try withTemporaryDirectory { dir in
            let volume = "\(dir)/volume"
            try FileManager.default.createDirectory(atPath: volume, withIntermediateDirectories: true)
            let marker = "\(dir)/post-ran"
            let extra = """
                    hooks:
                      pre:
                        - run: "echo dump > dump.sql && exit $FAIL_PRE"
                          timeout: 30s
                      post:
                        - "echo $DRCTL_SOURCE >> \(marker)"

                """
            var environment = Environment.current
            environment["FAIL_PRE"] = "3"
            let failing = try makeWorkspace(in: "\(dir)/a", sourcesYAML: sources(volume, extra: extra), encrypt: false, environment: environment)
            let (_, outcomes) = try Backup.run(failing)
            #expect(outcomes.first?.succeeded == false)
            #expect(outcomes.first?.error?.contains("pre-hook 1 failed") == true)
            #expect(try failing.catalog.snapshots().isEmpty)
            #expect(try String(contentsOfFile: marker, encoding: .utf8) == "wp\n")

            environment["FAIL_PRE"] = "0"
            let passing = try makeWorkspace(in: "\(dir)/b", sourcesYAML: sources(volume, extra: extra), encrypt: false, environment: environment)
            let snapshot = try #require(try backup(passing).snapshot)
            var paths: [String] = []
            try passing.catalog.files(at: snapshot.id) { paths.append(PathKey.display($0.path)) }
            #expect(paths.contains("dump.sql"))  // the pre-hook's dump is in the snapshot
            #expect(try String(contentsOfFile: marker, encoding: .utf8) == "wp\nwp\n")
        }
    }
}
