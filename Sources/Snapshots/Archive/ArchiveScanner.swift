#if canImport(Glibc)
import Glibc
#endif
internal import CArchive
import DRCore

/// Reads a (zstd-compressed) tar stream end to end without writing anything: every header
/// is checked as ``SecureExtractor`` would check it, and every regular file's content is
/// hashed with the snapshot's ``ContentHash``. `drctl verify --read-data` uses it to walk volume archives.
enum ArchiveScanner {
    struct Result {
        var entries = 0
        var bytes: Int64 = 0
        /// The content hash of each regular file, by relative path.
        var hashes: [[UInt8]: [UInt8]] = [:]
    }

    static func scan(_ source: any ObjectInputStream, contentHash: ContentHash) throws -> Result {
        let session = try ArchiveReader.Session(source)
        var result = Result()
        while let (_, header) = try session.nextEntry() {
            if header.type == .regular {
                var hasher = contentHash.hasher()
                try session.readData(of: header.path) { bytes, _ in
                    hasher.update(bufferPointer: bytes)
                    result.bytes += Int64(bytes.count)
                }
                result.hashes[header.path] = hasher.finalize()
            }
            result.entries += 1
        }
        // The end of the tar stream may come before the end of the object: drain it so the
        // stream checks the stored bytes' hash and the zstd frame checksum.
        if let error = session.context.error { throw error }
        let drain = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
        defer { drain.deallocate() }
        while try source.read(into: drain) > 0 {}
        return result
    }
}
