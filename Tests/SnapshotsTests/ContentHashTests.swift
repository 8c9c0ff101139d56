import DRCore
import Foundation
@testable import Snapshots
import Testing
import TestSupport

@Suite("content hashes of volume snapshots")
struct ContentHashTests {
    func sources(_ volume: String, extra: String = "") -> String {
        "  - name: wp\n    kind: pvc-archive\n    path: \(volume)\n" + extra
    }

    func backup(_ workspace: Workspace, rehash: Bool = false) throws -> (SnapshotRecord, String) {
        let (_, outcomes) = try Backup.run(workspace, options: BackupOptions(rehash: rehash))
        let outcome = try #require(outcomes.first)
        #expect(outcome.succeeded, "backup failed: \(outcome.error ?? "")")
        return (try #require(outcome.snapshot), outcome.note)
    }

    /// What a stock tool (`b3sum`, `sha256sum`) prints for a file.
    func stockHash(_ tool: String, _ file: String) throws -> String {
        let executable = try Environment.current.require(tool, purpose: "cross-check content hashes")
        let result = try Command(executable, [file]).run()
        #expect(result.succeeded, "\(tool): \(result.stderr)")
        return String(result.stdoutText.prefix(64))
    }

    @Test("BLAKE3 by default and SHA-256 when configured, each equal to what b3sum and sha256sum print")
    func algorithmsMatchStockTools() throws {
        try withTemporaryDirectory { dir in
            let volume = "\(dir)/volume"
            try makeCorpus([volume, "--mb", "1"])
            for (name, extra, tool) in [("blake3", "", "b3sum"), ("sha256", "    content_hash: sha256\n", "sha256sum")] {
                let workspace = try makeWorkspace(in: "\(dir)/drctl-\(name)", sourcesYAML: sources(volume, extra: extra), encrypt: false)
                let (snapshot, _) = try backup(workspace)
                #expect(snapshot.meta[ContentHash.metaKey] == name)
                var checked = 0
                try workspace.catalog.files(at: snapshot.id) { record in
                    guard record.type == .regular, checked < 20 else { return }
                    let file = "\(volume)/\(String(decoding: record.path, as: UTF8.self))"
                    let printed = try stockHash(tool, file)
                    #expect(record.hash?.hexString == printed, "\(name): \(file)")
                    checked += 1
                }
                #expect(checked == 20)
            }
        }
    }

    @Test("a chain keeps its content hash, --rehash uses it, the next full takes the configured one; all extract and verify")
    func chainKeepsItsAlgorithm() throws {
        try withTemporaryDirectory { dir in
            let volume = "\(dir)/volume"
            try makeCorpus([volume, "--mb", "1"])
            let first = try makeWorkspace(in: "\(dir)/drctl", sourcesYAML: sources(volume, extra: "    content_hash: sha256\n    full_every: 3\n"), encrypt: false)
            var taken: [(SnapshotRecord, [String])] = []
            taken.append((try backup(first).0, try treeManifest(volume)))
            // The operator switches to BLAKE3: the running chain stays SHA-256 until its next full.
            let file = first.config.file
            let text = try String(contentsOfFile: file, encoding: .utf8)
            try text.replacingOccurrences(of: "content_hash: sha256", with: "content_hash: blake3").write(toFile: file, atomically: true, encoding: .utf8)
            let workspace = try Workspace.open(config: DRConfig.load(path: file, environment: Environment.current.variables),
                                               environment: .current, logger: testLogger)
            // Rehashing every file with the chain's SHA-256 finds nothing changed (this unchanged
            // snapshot counts towards `full_every: 3`).
            #expect(try backup(workspace, rehash: true).1 == "unchanged")
            for step in 1...3 {
                try makeCorpus([volume, "--mutate", "10", "--seed", "\(step + 20)"])
                taken.append((try backup(workspace).0, try treeManifest(volume)))
            }
            #expect(taken.map(\.0.level) == [.full, .incremental, .incremental, .full])
            #expect(taken.map { $0.0.meta[ContentHash.metaKey] } == ["sha256", "sha256", "sha256", "blake3"])
            for (snapshot, manifest) in taken {
                let target = "\(dir)/restore-\(snapshot.shortID)"
                let report = try Extract.snapshot(snapshot.id, to: target, in: workspace)
                #expect(report.mismatches.isEmpty, "\(snapshot.shortID): \(report.mismatches.prefix(3))")
                #expect(try treeManifest(target) == manifest)
            }
            let verified = try Verify.run(workspace, options: VerifyOptions(readData: true))
            #expect(verified.passed, "\(verified)")
        }
    }

    @Test("a snapshot without a recorded algorithm is SHA-256; an unknown one is refused by name")
    func recordedAlgorithm() throws {
        try withTemporaryDirectory { dir in
            let volume = "\(dir)/volume"
            try makeCorpus([volume, "--mb", "1"])
            let workspace = try makeWorkspace(in: "\(dir)/drctl", sourcesYAML: sources(volume, extra: "    content_hash: sha256\n"), encrypt: false)
            let (snapshot, _) = try backup(workspace)
            // As drctl wrote snapshots before it recorded the algorithm.
            try workspace.catalog.setSnapshotMetaForTesting(snapshot.id, key: ContentHash.metaKey, value: nil)
            let legacy = try workspace.catalog.snapshot(matching: snapshot.id)
            #expect(legacy.meta[ContentHash.metaKey] == nil)
            #expect(try Extract.snapshot(snapshot.id, to: "\(dir)/legacy", in: workspace).mismatches.isEmpty)
            // The next incremental continues the chain with SHA-256.
            try makeCorpus([volume, "--mutate", "10", "--seed", "7"])
            let (next, _) = try backup(workspace)
            #expect(next.level == .incremental && next.meta[ContentHash.metaKey] == "sha256")

            try workspace.catalog.setSnapshotMetaForTesting(snapshot.id, key: ContentHash.metaKey, value: "whirlpool")
            let error = try #require(throws: DRError.self) { try Extract.snapshot(snapshot.id, to: "\(dir)/unknown", in: workspace) }
            #expect(error.message.contains("snapshot \(snapshot.shortID)") && error.message.contains("`whirlpool`")
                        && error.message.contains("blake3"), "\(error.message)")
            #expect(!FileManager.default.fileExists(atPath: "\(dir)/unknown"))
        }
    }

    @Test("BLAKE3 and SHA-256 hashers agree with the one-shot hashes over split input")
    func hasherSplits() throws {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<100_003).map { _ in UInt8.random(in: 0...255, using: &generator) }
        for algorithm in ContentHash.allCases {
            var hasher = algorithm.hasher()
            var offset = 0
            while offset < bytes.count {
                let count = min(Int.random(in: 0...9000, using: &generator), bytes.count - offset)
                bytes[offset..<(offset + count)].withUnsafeBytes { hasher.update(bufferPointer: $0) }
                offset += count
            }
            #expect(hasher.finalize() == algorithm.hash(bytes), "\(algorithm)")
            #expect(algorithm.hash(bytes).count == 32)
        }
        #expect(ContentHash.sha256.hash(bytes) != ContentHash.blake3.hash(bytes))
        #expect(ContentHash.blake3.hash(bytes) == BLAKE3.hash(bytes))
    }
}
