import DRCore
import Foundation
@testable import Snapshots
import Testing
import TestSupport

@Suite("folders opened below an extraction root")
struct ContainedTreeTests {
    func bytes(_ path: String) -> [UInt8] { Array(path.utf8) }

    @Test("real folders open, missing ones are nil, a symlink or file on the way is refused by name")
    func walk() throws {
        try withTemporaryDirectory { dir in
            let root = "\(dir)/root", outside = "\(dir)/outside"
            for folder in ["\(root)/a/b", "\(outside)/b"] {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            }
            try FileManager.default.createSymbolicLink(atPath: "\(root)/link", withDestinationPath: outside)
            try FileManager.default.createSymbolicLink(atPath: "\(root)/a/up", withDestinationPath: "..")
            try Data("x".utf8).write(to: URL(fileURLWithPath: "\(root)/a/file"))
            let tree = try ContainedTree(root: root)

            let (folder, name) = try #require(try tree.parent(of: bytes("a/b/new.txt")))
            #expect(name == bytes("new.txt"))
            // The descriptor is the folder a/b itself: a file made through it lands there.
            let made = openat(folder, "made", O_CREAT | O_EXCL | O_WRONLY, 0o600)
            #expect(made >= 0)
            close(made)
            #expect(FileManager.default.fileExists(atPath: "\(root)/a/b/made"))
            #expect(try tree.parent(of: bytes("a/missing/x")) == nil)
            #expect(try tree.mode(of: bytes("a/file")).map { $0 & S_IFMT } == S_IFREG)
            #expect(try tree.mode(of: bytes("a/nothing")) == nil)
            // A final symlink is reported as one, not followed.
            #expect(try tree.mode(of: bytes("link")).map { $0 & S_IFMT } == S_IFLNK)

            for (path, walked) in [("link/b/x", "link"), ("a/up/a/x", "a/up"), ("a/file/x", "a/file")] {
                let error = try #require(throws: VolumeArchiveError.self) { _ = try tree.parent(of: bytes(path)) }
                #expect(error.code == .unsafeEntry)
                #expect(error.message.contains("`\(walked)` is a symlink or not a folder"), "\(error.message)")
            }
            let dotdot = try #require(throws: VolumeArchiveError.self) { _ = try tree.parent(of: bytes("a/../../outside/x")) }
            #expect(dotdot.code == .unsafeEntry && dotdot.message.contains("`..`"))
            // After a refusal, the kept folders are still the right ones.
            #expect(try tree.parent(of: bytes("a/b/y"))?.name == bytes("y"))
            // A folder made after a miss is found on the next call.
            try FileManager.default.createDirectory(atPath: "\(root)/a/missing", withIntermediateDirectories: false)
            #expect(try tree.parent(of: bytes("a/missing/x"))?.name == bytes("x"))
        }
    }

    @Test("folder metadata is never applied through a symlink out of the staging folder")
    func metadataStaysInside() throws {
        try withTemporaryDirectory { dir in
            let staging = "\(dir)/staging", outside = "\(dir)/outside"
            for folder in ["\(staging)/d/e", "\(outside)/e"] {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            }
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: "\(outside)/e")
            // A hostile archive made `s` a symlink where the index says `s` and `s/e` are folders.
            try FileManager.default.createSymbolicLink(atPath: "\(staging)/s", withDestinationPath: outside)
            let mtime: Int64 = 1_000_000_000 * 1_000_000_000
            let records = ["d", "d/e", "s", "s/e"].map {
                FileRecord(key: PathKey.key(bytes($0)), type: .directory, mtimeNs: mtime, mode: 0o700)
            }
            try VolumeExtractor.applyMetadata(records, root: nil, below: staging)

            let inside = try FileManager.default.attributesOfItem(atPath: "\(staging)/d/e")
            #expect((inside[.posixPermissions] as? Int) == 0o700)
            #expect((inside[.modificationDate] as? Date)?.timeIntervalSince1970 == 1_000_000_000)
            let escaped = try FileManager.default.attributesOfItem(atPath: "\(outside)/e")
            #expect((escaped[.posixPermissions] as? Int) == 0o755)
            #expect((escaped[.modificationDate] as? Date)?.timeIntervalSince1970 != 1_000_000_000)
            // The symlink itself is left a symlink.
            #expect(try FileManager.default.destinationOfSymbolicLink(atPath: "\(staging)/s") == outside)
        }
    }
}
