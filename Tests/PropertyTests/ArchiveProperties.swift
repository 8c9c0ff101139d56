import DRCore
import Foundation
import PropertyBased
@testable import Snapshots
import Testing
import TestSupport

/// Reads bytes as an object stream.
final class BytesStream: ObjectInputStream {
    let bytes: [UInt8]
    var offset = 0
    init(_ bytes: [UInt8]) { self.bytes = bytes }
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let count = min(buffer.count, bytes.count - offset)
        guard count > 0 else { return 0 }
        bytes.withUnsafeBytes { source in
            buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[offset..<offset + count]))
        }
        offset += count
        return count
    }
}

/// A plain pax tar (and its zstd form) with folders, files, a symlink inside the tree, a
/// hard link and a long name: what random mutations start from.
struct SeedArchive: Sendable {
    let tar: [UInt8]
    let zst: [UInt8]

    static let shared: Result<SeedArchive, DRError> = {
        do {
            return .success(try make())
        } catch {
            return .failure(DRError.wrap(error))
        }
    }()

    static func make() throws -> SeedArchive {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-seed-\(UUID().uuidString.prefix(8))").path
        try FileIO.createDirectory(dir)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let script = """
            import io, tarfile, sys
            def add(tf, name, data=b"", **kw):
                info = tarfile.TarInfo(name); info.size = len(data); info.mtime = 1700000000
                for k, v in kw.items(): setattr(info, k, v)
                tf.addfile(info, io.BytesIO(data) if info.isreg() else None)
            with tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT) as tf:
                add(tf, "wp-content", type=tarfile.DIRTYPE, mode=0o755)
                add(tf, "wp-content/uploads", type=tarfile.DIRTYPE, mode=0o755)
                add(tf, "wp-content/uploads/a.txt", b"hello " * 40, mode=0o644)
                add(tf, "wp-content/link", type=tarfile.SYMTYPE, linkname="uploads")
                add(tf, "wp-content/hard", type=tarfile.LNKTYPE, linkname="wp-content/uploads/a.txt")
                add(tf, "n" * 180 + "/é.bin", bytes(range(256)) * 3, mode=0o600)
                add(tf, "top.txt", b"top", mode=0o640)
            """
        let python = try Environment.current.require("python3", purpose: "craft archives")
        let made = try Command(python, ["-c", script, "\(dir)/seed.tar"]).run()
        guard made.succeeded else { throw DRError(.failed, made.stderr) }
        let zstd = try Environment.current.require("zstd", purpose: "compress crafted archives")
        let compressed = try Command(zstd, ["-q", "-f", "--check", "\(dir)/seed.tar", "-o", "\(dir)/seed.tar.zst"]).run()
        guard compressed.succeeded else { throw DRError(.failed, compressed.stderr) }
        return SeedArchive(tar: try FileIO.read("\(dir)/seed.tar"), zst: try FileIO.read("\(dir)/seed.tar.zst"))
    }
}

/// A mutation: flip, overwrite, insert or delete bytes, or truncate.
struct ArchiveMutation: Sendable, CustomStringConvertible {
    var edits: [(position: Int, byte: UInt8, kind: Int)]
    var description: String { edits.map { "\($0.kind)@\($0.position)=\($0.byte)" }.joined(separator: " ") }

    func apply(to original: [UInt8]) -> [UInt8] {
        var bytes = original
        for edit in edits where !bytes.isEmpty {
            let index = edit.position % bytes.count
            switch edit.kind {
            case 0: bytes[index] ^= 1 << (edit.byte % 8)
            case 1: bytes[index] = edit.byte
            case 2: bytes.insert(edit.byte, at: index)
            case 3: bytes.remove(at: index)
            case 4: bytes.removeSubrange(index...)
            // Overwrite a digit of a size or checksum field area in a header block.
            default:
                let field = (index / 512) * 512 + 124 + Int(edit.byte) % 32
                if field < bytes.count { bytes[field] = UInt8(ascii: "0") + edit.byte % 10 }
            }
        }
        return bytes
    }
}

let archiveMutations = zip(Gen.int(in: 0...1_000_000), Gen.uint8(in: 0...255), Gen.int(in: 0...5)).array(of: 1...4)
    .map { ArchiveMutation(edits: $0.map { (position: $0.0, byte: $0.1, kind: $0.2) }) }

/// Every entry below `root` as `TYPE PATH` (`f`, `d`, `l`, or `c`, `b`, `p`, `s` for special
/// files), read with `readdir` so names may be any bytes; symlinks are not followed.
func tree(_ root: String) -> Set<String> {
    var result: Set<String> = []
    func walk(_ relative: [UInt8]) {
        let path = Array(root.utf8) + (relative.isEmpty ? [] : [UInt8(ascii: "/")] + relative)
        guard let dir = (path + [0]).withUnsafeBufferPointer({ $0.withMemoryRebound(to: CChar.self) { opendir($0.baseAddress!) } })
        else { return }
        defer { closedir(dir) }
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { Array($0.prefix { $0 != 0 }) }
            if name == [UInt8(ascii: ".")] || name == [UInt8(ascii: "."), UInt8(ascii: ".")] { continue }
            let child = relative.isEmpty ? name : relative + [UInt8(ascii: "/")] + name
            var info = stat()
            let full = Array(root.utf8) + [UInt8(ascii: "/")] + child + [0]
            let type: String
            if full.withUnsafeBufferPointer({ $0.withMemoryRebound(to: CChar.self) { lstat($0.baseAddress!, &info) } }) != 0 {
                type = "?"
            } else {
                switch info.st_mode & S_IFMT {
                case S_IFREG: type = "f"
                case S_IFDIR: type = "d"
                case S_IFLNK: type = "l"
                case S_IFCHR: type = "c"
                case S_IFBLK: type = "b"
                case S_IFIFO: type = "p"
                default: type = "s"
                }
            }
            result.insert(type + " " + String(decoding: child, as: UTF8.self))
            if type == "d" { walk(child) }
        }
    }
    walk([])
    return result
}

@Suite("archive reader properties")
struct ArchiveProperties {
    /// Extracts `bytes` into `case/target` beside `case/outside` (which holds a canary) and
    /// checks that nothing appeared, changed or vanished anywhere but below `target`.
    func extractConfined(_ bytes: [UInt8], in dir: String, label: String) throws {
        let root = "\(dir)/case-\(FileIO.randomHex(4))"
        try FileIO.createDirectory("\(root)/target")
        try FileIO.createDirectory("\(root)/outside")
        try FileIO.atomicWrite(Array("canary".utf8), to: "\(root)/outside/canary")
        defer { try? FileManager.default.removeItem(atPath: root) }
        do {
            _ = try SecureExtractor.extract(BytesStream(bytes), into: "\(root)/target")
        } catch is VolumeArchiveError {
            // Refusing is fine; what matters is where things were written.
        } catch let error as DRError {
            #expect(error.code == .dataCorrupt || error.code == .io, "\(label): \(error)")
        }
        let entries = tree(root)
        #expect(Set(entries.filter { $0.dropFirst(2) != "target" && !$0.dropFirst(2).hasPrefix("target/") })
                == ["d outside", "f outside/canary"], "\(label)")
        #expect(entries.contains("d target"), "\(label)")
        #expect(try FileIO.read("\(root)/outside/canary") == Array("canary".utf8), "\(label)")
        // No device node, FIFO or socket was made.
        #expect(!entries.contains { ["c", "b", "p", "s", "?"].contains($0.prefix(1)) }, "\(label): \(entries)")
    }

    @Test("random mutations of a plain tar never crash the extractor or the scanner, and never write outside the target")
    func mutatedTar() async throws {
        let seed = try await blocking { try SeedArchive.shared.get() }
        try await withTemporaryDirectoryAsync { dir in
            await propertyCheck(count: 150, input: archiveMutations) { mutation in
                let bytes = mutation.apply(to: seed.tar)
                try extractConfined(bytes, in: dir, label: "\(mutation)")
                do { _ = try ArchiveScanner.scan(BytesStream(bytes), contentHash: .blake3) } catch is VolumeArchiveError {} catch let error as DRError {
                    #expect(error.code == .dataCorrupt || error.code == .io, "\(mutation): \(error)")
                }
            }
        }
    }

    @Test("random mutations of a tar.zst never crash the extractor and never write outside the target")
    func mutatedZstd() async throws {
        let seed = try await blocking { try SeedArchive.shared.get() }
        try await withTemporaryDirectoryAsync { dir in
            // The unmutated archive extracts completely.
            let root = "\(dir)/whole"
            try FileIO.createDirectory(root)
            let result = try SecureExtractor.extract(BytesStream(seed.zst), into: root)
            #expect(result.entries == 7)
            #expect(try FileIO.read("\(root)/wp-content/hard") == Array(String(repeating: "hello ", count: 40).utf8))
            await propertyCheck(count: 120, input: archiveMutations) { mutation in
                try extractConfined(mutation.apply(to: seed.zst), in: dir, label: "\(mutation)")
            }
        }
    }
}

/// ``withTemporaryDirectory(_:)`` for async bodies.
func withTemporaryDirectoryAsync(_ body: (String) async throws -> Void) async throws {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-test-\(UUID().uuidString.prefix(8))").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: path) }
    try await body(path)
}
