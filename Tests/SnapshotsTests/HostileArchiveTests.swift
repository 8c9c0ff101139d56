import DRCore
import Foundation
@testable import Snapshots
import Testing
import TestSupport

/// Reads a plain file as an object stream.
final class FileStream: ObjectInputStream {
    let handle: FileHandle
    init(_ path: String) throws { handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path)) }
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let data = handle.readData(ofLength: buffer.count)
        data.copyBytes(to: buffer)
        return data.count
    }
}

@Suite("hostile archives")
struct HostileArchiveTests {
    /// Builds a tar.zst whose members are described by a Python snippet using `tf` (a TarFile) and `outside`.
    func craft(_ dir: String, outside: String, _ members: String) throws -> String {
        let script = """
            import io, tarfile, sys
            outside = sys.argv[2]
            def add(tf, name, data=b"x", **kw):
                info = tarfile.TarInfo(name); info.size = len(data)
                for k, v in kw.items(): setattr(info, k, v)
                tf.addfile(info, io.BytesIO(data) if info.isreg() else None)
            with tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT) as tf:
            \(members.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n"))
            """
        let tar = "\(dir)/hostile.tar"
        let python = try Environment.current.require("python3", purpose: "craft archives")
        let made = try Command(python, ["-c", script, tar, outside]).run()
        guard made.succeeded else { throw DRError(.failed, made.stderr) }
        let zstd = try Environment.current.require("zstd", purpose: "compress crafted archives")
        _ = try Command(zstd, ["-q", "-f", tar, "-o", "\(tar).zst"]).run()
        return "\(tar).zst"
    }

    func expectRefused(_ archive: String, target: String, outside: String, code: VolumeArchiveError.Code = .unsafeEntry,
                       mentions: String) throws {
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        let error = try #require(throws: VolumeArchiveError.self) {
            try SecureExtractor.extract(try FileStream(archive), into: target)
        }
        #expect(error.code == code)
        #expect(error.message.contains(mentions), "message: \(error.message)")
        #expect(!FileManager.default.fileExists(atPath: "\(outside)/escape"))
        #expect(!FileManager.default.fileExists(atPath: "\(outside)/pwned"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside).isEmpty)
    }

    @Test("`..`, absolute paths, write-through-symlink and device entries are refused; nothing escapes")
    func hostileEntries() throws {
        try withTemporaryDirectory { dir in
            let outside = "\(dir)/outside"
            try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
            let cases: [(String, String)] = [
                ("add(tf, \"ok.txt\")\nadd(tf, \"../outside/escape\")", "`..`"),
                ("add(tf, outside + \"/escape\")", "absolute"),
                ("add(tf, \"link\", type=tarfile.SYMTYPE, linkname=outside)\nadd(tf, \"link/pwned\")", "link/pwned"),
                ("add(tf, \"dev\", type=tarfile.CHRTYPE, devmajor=1, devminor=3)", "devices"),
                ("add(tf, \"hl\", type=tarfile.LNKTYPE, linkname=\"../outside/escape\")", "hard link"),
                ("add(tf, \"a/../../outside/escape\")", "`..`"),
                ("add(tf, \"fifo\", type=tarfile.FIFOTYPE)", "FIFOs"),
                ("info = tarfile.TarInfo(\"huge\"); info.size = 2 << 40\ntf.fileobj.write(info.tobuf(tarfile.PAX_FORMAT))", "absurd"),
                // Relative symlink escapes: a link to `..`, then a file written through it.
                ("add(tf, \"up\", type=tarfile.SYMTYPE, linkname=\"..\")\nadd(tf, \"up/outside/escape\")", "up/outside/escape"),
                // A hard link to a symlink that points outside, then a file through the copy.
                ("add(tf, \"s\", type=tarfile.SYMTYPE, linkname=outside)\nadd(tf, \"h\", type=tarfile.LNKTYPE, linkname=\"s\")\nadd(tf, \"h/escape\")", "escape"),
                ("add(tf, \"blk\", type=tarfile.BLKTYPE, devmajor=8, devminor=0)", "devices"),
                ("add(tf, \"hl\", type=tarfile.LNKTYPE, linkname=outside + \"/escape\")", "hard link"),
                ("add(tf, \"./a/./../../outside/escape\")", "`..`"),
                ("add(tf, \"a/..\", type=tarfile.DIRTYPE)", "`..`"),
                // A pax size far beyond any file: refused before anything is written.
                ("info = tarfile.TarInfo(\"huge2\"); info.size = 1\ninfo.pax_headers = {\"size\": str(1 << 62)}\ntf.fileobj.write(info.tobuf(tarfile.PAX_FORMAT))", "absurd"),
                // A symlink, then a folder of the same name (it must not count as existing), then a file below.
                ("add(tf, \"s\", type=tarfile.SYMTYPE, linkname=outside)\nadd(tf, \"s\", type=tarfile.DIRTYPE)\nadd(tf, \"s/escape\")", "a symlink of that name exists"),
                // A symlink pointing out, then a regular file of the same name: never written through.
                ("add(tf, \"x\", type=tarfile.SYMTYPE, linkname=outside + \"/escape\")\nadd(tf, \"x\", b\"through\")", "archive entry x"),
                // A hard link to a symlink that carries data: the data would go through the symlink.
                ("add(tf, \"s\", type=tarfile.SYMTYPE, linkname=outside + \"/escape\")\ninfo = tarfile.TarInfo(\"h\"); info.type = tarfile.LNKTYPE; info.linkname = \"s\"; info.size = 1\ninfo.pax_headers = {\"comment\": \"pax: the size counts\"}\ntf.fileobj.write(info.tobuf(tarfile.PAX_FORMAT) + b\"x\" + bytes(511))", "hard link to s"),
            ]
            for (index, (members, mention)) in cases.enumerated() {
                let archive = try craft(dir, outside: outside, members)
                try expectRefused(archive, target: "\(dir)/target-\(index)", outside: outside, mentions: mention)
                // `drctl verify --read-data` walks archives with the same entry checks, writing nothing.
                if !["link/pwned", "up/outside/escape", "escape", "a symlink of that name exists", "hard link to s", "archive entry x"].contains(mention) {
                    let scanned = try #require(throws: VolumeArchiveError.self) { try ArchiveScanner.scan(try FileStream(archive), contentHash: .blake3) }
                    #expect(scanned.code == .unsafeEntry, "\(index): \(scanned)")
                }
            }
            #expect(cases.count == 18)
            // A folder followed by a symlink of the same name pointing outside: the folder is
            // kept (nothing is overwritten) and the next entry lands inside it.
            let replaced = try craft(dir, outside: outside, "add(tf, \"d\", type=tarfile.DIRTYPE)\nadd(tf, \"d\", type=tarfile.SYMTYPE, linkname=outside)\nadd(tf, \"d/escape\")")
            try FileManager.default.createDirectory(atPath: "\(dir)/target-replaced", withIntermediateDirectories: true)
            _ = try? SecureExtractor.extract(try FileStream(replaced), into: "\(dir)/target-replaced")
            #expect(FileIO.isDirectory("\(dir)/target-replaced/d"))
            #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: "\(dir)/target-replaced/d")) == nil)
            #expect(try FileManager.default.contentsOfDirectory(atPath: outside).isEmpty)
        }
    }

    @Test("a truncated or bit-flipped archive is reported as corrupt")
    func corruptStreams() throws {
        try withTemporaryDirectory { dir in
            let outside = "\(dir)/outside"
            try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
            let archive = try craft(dir, outside: outside, "add(tf, \"big\", bytes(range(256)) * 4096)\nadd(tf, \"tail\")")
            let bytes = try Data(contentsOf: URL(fileURLWithPath: archive))
            try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: "\(dir)/truncated.zst"))
            var flipped = bytes
            flipped[flipped.count / 2] ^= 0x20
            try flipped.write(to: URL(fileURLWithPath: "\(dir)/flipped.zst"))
            for name in ["truncated", "flipped"] {
                try FileManager.default.createDirectory(atPath: "\(dir)/t-\(name)", withIntermediateDirectories: true)
                let error = try #require(throws: VolumeArchiveError.self) {
                    try SecureExtractor.extract(try FileStream("\(dir)/\(name).zst"), into: "\(dir)/t-\(name)")
                }
                #expect(error.code == .corruptArchive || error.code == .io, "\(name): \(error)")
            }
        }
    }

    @Test("a tampered archive object in the repository fails extract, naming snapshot and object, writing nothing")
    func tamperedObject() throws {
        try withTemporaryDirectory { dir in
            let volume = "\(dir)/volume"
            try makeCorpus([volume, "--mb", "1"])
            let workspace = try makeWorkspace(in: "\(dir)/drctl", sourcesYAML: "  - name: wp\n    kind: pvc-archive\n    path: \(volume)\n")
            let (_, outcomes) = try Backup.run(workspace)
            let snapshot = try #require(outcomes.first?.snapshot)
            let archive = try #require(try workspace.catalog.objects(of: snapshot.id).first { $0.role == "archive" })
            let sha = archive.object.stored.sha256
            let path = "\(dir)/drctl/repository/objects/\(sha.prefix(2))/\(sha)"
            var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            bytes[bytes.count / 3] ^= 0x01
            try bytes.write(to: URL(fileURLWithPath: path))
            let error = try #require(throws: DRError.self) { try Extract.snapshot(snapshot.id, to: "\(dir)/restore", in: workspace) }
            #expect(error.code == .dataCorrupt)
            #expect(error.message.contains(snapshot.shortID) && error.message.contains(sha))
            #expect(!FileManager.default.fileExists(atPath: "\(dir)/restore"))
        }
    }
}
