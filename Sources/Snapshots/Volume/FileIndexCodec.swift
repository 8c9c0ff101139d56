internal import CZstd
import DRCore
import Foundation

/// The file-index rows of a volume snapshot as a repository object (role `file-index`), so
/// that `drctl catalog recover` can rebuild the catalog from the repository alone: a
/// compact binary record stream, zstd-compressed (then encrypted like every object).
///
/// ```
/// "DRFI" version(1) replacesState(1) count(varint)
/// per record: key(len+bytes) type(1 ASCII) size mtime_ns ctime_ns (zigzag varints)
///             mode uid gid (varints) flags(1: link, hash, object, entry)
///             [link(len+bytes)] [hash(32)] [object(32, raw SHA-256)] [entry(varint)]
/// ```
enum FileIndexCodec {
    /// The role of the object in `snapshot_object`.
    static let role = "file-index"
    static let magic: [UInt8] = Array("DRFI".utf8)
    static let version: UInt8 = 1

    static func encode(_ update: FileIndexUpdate) throws -> [UInt8] {
        var out = magic + [version, update.replacesState ? 1 : 0]
        out.reserveCapacity(update.records.count * 80)
        putVarint(&out, UInt64(update.records.count))
        for record in update.records {
            putBytes(&out, record.key)
            out.append(UInt8(ascii: Unicode.Scalar(record.type.rawValue) ?? "f"))
            putSigned(&out, record.size)
            putSigned(&out, record.mtimeNs)
            putSigned(&out, record.ctimeNs)
            putVarint(&out, UInt64(record.mode))
            putVarint(&out, UInt64(record.uid))
            putVarint(&out, UInt64(record.gid))
            let objectBytes = record.object.flatMap(hexBytes)
            let flags: UInt8 = (record.linkTarget != nil ? 1 : 0) | (record.hash != nil ? 2 : 0)
                | (objectBytes != nil ? 4 : 0) | (record.entry != nil ? 8 : 0)
            out.append(flags)
            if let link = record.linkTarget { putBytes(&out, link) }
            if let hash = record.hash {
                guard hash.count == 32 else { throw DRError(.failed, "file index: a content hash is not 32 bytes") }
                out += hash
            }
            if let objectBytes { out += objectBytes }
            if let entry = record.entry { putVarint(&out, UInt64(entry)) }
        }
        return try compress(out)
    }

    static func decode(_ compressed: [UInt8]) throws -> FileIndexUpdate {
        let bytes = try decompress(compressed)
        var reader = Reader(bytes: bytes)
        guard try reader.take(4) == magic, try reader.byte() == version else {
            throw DRError(.dataCorrupt, "not a drctl file-index object (or a newer format)")
        }
        let replaces = try reader.byte() == 1
        let count = try reader.varint()
        guard count <= UInt64(bytes.count) else { throw DRError(.dataCorrupt, "file index: absurd record count \(count)") }
        var records: [FileRecord] = []
        records.reserveCapacity(Int(count))
        for _ in 0..<count {
            let key = try reader.lengthPrefixed()
            guard let type = FileType(rawValue: String(UnicodeScalar(try reader.byte()))) else {
                throw DRError(.dataCorrupt, "file index: unknown entry type")
            }
            var record = FileRecord(
                key: key, type: type, size: try reader.signed(), mtimeNs: try reader.signed(), ctimeNs: try reader.signed(),
                mode: UInt32(truncatingIfNeeded: try reader.varint()), uid: UInt32(truncatingIfNeeded: try reader.varint()),
                gid: UInt32(truncatingIfNeeded: try reader.varint()))
            let flags = try reader.byte()
            if flags & 1 != 0 { record.linkTarget = try reader.lengthPrefixed() }
            if flags & 2 != 0 { record.hash = try reader.take(32) }
            if flags & 4 != 0 { record.object = try reader.take(32).map { String(format: "%02x", $0) }.joined() }
            if flags & 8 != 0 { record.entry = Int64(truncatingIfNeeded: try reader.varint()) }
            records.append(record)
        }
        guard reader.atEnd else { throw DRError(.dataCorrupt, "file index: trailing bytes") }
        return FileIndexUpdate(records: records, replacesState: replaces)
    }

    // MARK: - Encoding helpers

    static func putVarint(_ out: inout [UInt8], _ value: UInt64) {
        var value = value
        while value >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        out.append(UInt8(value))
    }

    static func putSigned(_ out: inout [UInt8], _ value: Int64) {
        putVarint(&out, UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    static func putBytes(_ out: inout [UInt8], _ bytes: [UInt8]) {
        putVarint(&out, UInt64(bytes.count))
        out += bytes
    }

    static func hexBytes(_ hex: String) -> [UInt8]? {
        let utf8 = Array(hex.utf8)
        guard utf8.count == 64 else { return nil }
        var result: [UInt8] = []
        result.reserveCapacity(32)
        for index in stride(from: 0, to: 64, by: 2) {
            guard let byte = UInt8(String(decoding: utf8[index..<index + 2], as: UTF8.self), radix: 16) else { return nil }
            result.append(byte)
        }
        return result
    }

    struct Reader {
        let bytes: [UInt8]
        var offset = 0

        var atEnd: Bool { offset == bytes.count }

        mutating func byte() throws -> UInt8 {
            guard offset < bytes.count else { throw DRError(.dataCorrupt, "file index: truncated") }
            defer { offset += 1 }
            return bytes[offset]
        }

        mutating func take(_ count: Int) throws -> [UInt8] {
            guard count >= 0, bytes.count - offset >= count else { throw DRError(.dataCorrupt, "file index: truncated") }
            defer { offset += count }
            return Array(bytes[offset..<offset + count])
        }

        mutating func varint() throws -> UInt64 {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                let next = try byte()
                guard shift < 64 else { throw DRError(.dataCorrupt, "file index: bad number") }
                value |= UInt64(next & 0x7f) << shift
                if next & 0x80 == 0 { return value }
                shift += 7
            }
        }

        mutating func signed() throws -> Int64 {
            let raw = try varint()
            return Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
        }

        mutating func lengthPrefixed() throws -> [UInt8] {
            let count = try varint()
            guard count <= UInt64(bytes.count - offset) else { throw DRError(.dataCorrupt, "file index: truncated") }
            return try take(Int(count))
        }
    }

    // MARK: - zstd

    static func compress(_ bytes: [UInt8]) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: ZSTD_compressBound(bytes.count))
        let written = out.withUnsafeMutableBytes { target in
            bytes.withUnsafeBytes { source in
                ZSTD_compress(target.baseAddress, target.count, source.baseAddress, source.count, 3)
            }
        }
        guard ZSTD_isError(written) == 0 else { throw DRError(.failed, "file index: zstd compression failed") }
        out.removeSubrange(written...)
        return out
    }

    /// The largest file index accepted (4 GiB decompressed).
    static let maximumSize: UInt64 = 4 << 30

    static func decompress(_ bytes: [UInt8]) throws -> [UInt8] {
        let size = bytes.withUnsafeBytes { ZSTD_getFrameContentSize($0.baseAddress, $0.count) }
        guard size != ZSTD_CONTENTSIZE_ERROR, size != ZSTD_CONTENTSIZE_UNKNOWN, size <= maximumSize else {
            throw DRError(.dataCorrupt, "file index: not a zstd frame with a known size")
        }
        var out = [UInt8](repeating: 0, count: Int(size))
        let written = out.withUnsafeMutableBytes { target in
            bytes.withUnsafeBytes { source in
                ZSTD_decompress(target.baseAddress, target.count, source.baseAddress, source.count)
            }
        }
        guard ZSTD_isError(written) == 0, written == Int(size) else { throw DRError(.dataCorrupt, "file index: zstd data is corrupt") }
        return out
    }
}
