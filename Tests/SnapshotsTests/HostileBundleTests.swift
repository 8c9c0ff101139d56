import DRCore
import Foundation
import Snapshots
import Testing
import TestSupport

/// Bundle objects whose bytes are intact (the hash matches) but are not the bundle the
/// catalog expects: garbage, a bundle header over garbage, an empty object, another
/// repository's bundle. Extraction fails clearly and leaves nothing at the destination.
@Suite("hostile bundles")
struct HostileBundleTests {
    /// Points the catalog's row for `old` at `new` (as if the repository had held other bytes all along).
    func repoint(_ catalog: String, from old: String, to new: EncodedObject) throws {
        let python = try Environment.current.require("python3", purpose: "edit the catalog")
        let script = """
            import sqlite3, sys
            db = sqlite3.connect(sys.argv[1])
            db.execute("UPDATE object SET sha256 = ?, size = ?, plain_size = ? WHERE sha256 = ?", (sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]))
            db.commit()
            """
        let result = try Command(python, ["-c", script, catalog, new.stored.sha256, "\(new.stored.size)", "\(new.plainSize)", old]).run()
        #expect(result.succeeded, "\(result.stderr)")
    }

    @Test("garbage, a fake header, an empty object and a foreign bundle each fail extract with a data error; nothing is left behind")
    func notBundles() throws {
        let git = try GitFixture()
        try withTemporaryDirectory { dir in
            try git.makeGitOpsRepository(at: "\(dir)/gitops")
            try git("init", "--quiet", "-b", "main", "\(dir)/other")
            try git.commit("\(dir)/other", file: "x", content: "unrelated", message: "unrelated history")
            let workspace = try makeWorkspace(in: "\(dir)/drctl", sourcesYAML: "  - name: gitops\n    kind: git-bundle\n    repo: \(dir)/gitops\n")
            let outcome = try #require(try Backup.run(workspace).outcomes.first)
            let snapshot = try #require(outcome.snapshot)
            let bundle = try #require(try workspace.catalog.objects(of: snapshot.id).first { $0.role == "bundle" })
            let foreign = "\(dir)/foreign.bundle"
            try git("bundle", "create", "--quiet", foreign, "--all", in: "\(dir)/other")

            var generator = SystemRandomNumberGenerator()
            let cases: [(String, [UInt8], String)] = [
                ("garbage", (0..<5000).map { _ in UInt8.random(in: 0...255, using: &generator) }, "cannot be applied"),
                ("fake header", Array("# v2 git bundle\n0123456789012345678901234567890123456789 refs/heads/main\n\nPACK".utf8)
                    + Array(repeating: 0x41, count: 300), "cannot be applied"),
                ("empty", [], "cannot be applied"),
                ("foreign bundle", try FileIO.read(foreign), "refs point at objects the bundles do not hold"),
            ]
            var current = bundle.object.stored.sha256
            for (label, bytes, fragment) in cases {
                let replacement = try workspace.codec.write(type: .data, bytes: bytes)
                try repoint("\(dir)/drctl/catalog.db", from: current, to: replacement)
                current = replacement.stored.sha256
                let destination = "\(dir)/out-\(label.replacingOccurrences(of: " ", with: "-"))"
                let error = try #require(throws: DRError.self) { try Extract.snapshot(snapshot.id, to: destination, in: workspace) }
                #expect(error.code == .dataCorrupt, "\(label): \(error)")
                #expect(error.message.contains(snapshot.shortID) && error.message.contains(fragment), "\(label): \(error.message)")
                #expect(!FileManager.default.fileExists(atPath: destination), "\(label)")
            }
            // No staging folder or scratch file survived the failures.
            #expect(FileIO.list(dir).sorted() == ["drctl", "foreign.bundle", "gitops", "other"])
            #expect(FileIO.list("\(dir)/drctl/tmp").isEmpty, "\(FileIO.list("\(dir)/drctl/tmp"))")
        }
    }
}
