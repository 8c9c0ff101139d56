#if canImport(Glibc)
import Glibc
#endif
internal import CArchive
public import DRCore

/// Reads a tar stream (zstd-compressed or not) entry by entry, without writing anything:
/// for verification and listing.
public enum ArchiveReader {
    /// One entry's header as read from the archive.
    public struct Entry: Sendable {
        public var path: [UInt8]
        public var type: FileType
        public var size: Int64
        public var mode: UInt32
        public var mtimeNs: Int64
        public var linkTarget: [UInt8]?
    }

    /// Calls `visit` for each entry with a function that streams its content.
    public static func forEach(
        _ source: any ObjectInputStream,
        _ visit: (Entry, _ readContent: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws -> Void
    ) throws {
        guard let archive = archive_read_new() else { throw DRError(.io, "libarchive: cannot allocate a reader") }
        defer { archive_read_free(archive) }
        archive_read_support_filter_zstd(archive)
        archive_read_support_filter_none(archive)
        archive_read_support_format_tar(archive)
        let context = ReadContext(source: source)
        let unmanaged = Unmanaged.passRetained(context)
        defer { unmanaged.release() }
        let opened = archive_read_open(archive, unmanaged.toOpaque(), nil, { _, client, buffer in
            guard let client, let buffer else { return -1 }
            let context = Unmanaged<ReadContext>.fromOpaque(client).takeUnretainedValue()
            return context.fill(buffer)
        }, nil)
        guard opened == ARCHIVE_OK else { throw failure(archive, context, "cannot open the archive") }
        var entryPointer: OpaquePointer?
        var block = [UInt8](repeating: 0, count: 1 << 18)
        while true {
            let status = archive_read_next_header(archive, &entryPointer)
            if status == ARCHIVE_EOF { break }
            guard status == ARCHIVE_OK || status == ARCHIVE_WARN, let entryPointer else {
                throw failure(archive, context, "the archive is corrupt or truncated")
            }
            let entry = Self.entry(entryPointer)
            var consumed = false
            try visit(entry) { consume in
                consumed = true
                while true {
                    let n = block.withUnsafeMutableBytes { archive_read_data(archive, $0.baseAddress, $0.count) }
                    if n == 0 { break }
                    guard n > 0 else { throw failure(archive, context, "the archive is corrupt or truncated in \(PathKey.display(entry.path))") }
                    try block.withUnsafeBytes { try consume(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
                }
            }
            if !consumed { archive_read_data_skip(archive) }
        }
        if let error = context.error { throw error }
    }

    static func entry(_ pointer: OpaquePointer) -> Entry {
        let path = bytes(archive_entry_pathname_utf8(pointer) ?? archive_entry_pathname(pointer)) ?? []
        let hardlink = bytes(archive_entry_hardlink_utf8(pointer) ?? archive_entry_hardlink(pointer))
        let symlink = bytes(archive_entry_symlink_utf8(pointer) ?? archive_entry_symlink(pointer))
        let format = archive_entry_filetype(pointer)
        let type: FileType = hardlink != nil ? .hardlink
            : format == UInt32(Glibc.S_IFDIR) ? .directory : format == UInt32(Glibc.S_IFLNK) ? .symlink : .regular
        var trimmed = path
        if trimmed.last == UInt8(ascii: "/") { trimmed.removeLast() }
        return Entry(
            path: trimmed, type: type, size: archive_entry_size(pointer), mode: UInt32(archive_entry_perm(pointer)),
            mtimeNs: Int64(archive_entry_mtime(pointer)) * 1_000_000_000 + Int64(archive_entry_mtime_nsec(pointer)),
            linkTarget: hardlink ?? symlink)
    }

    /// A C string's bytes.
    static func bytes(_ text: UnsafePointer<CChar>?) -> [UInt8]? {
        guard let text else { return nil }
        return Array(UnsafeRawBufferPointer(start: text, count: strlen(text)))
    }

    static func failure(_ archive: OpaquePointer, _ context: ReadContext, _ what: String) -> DRError {
        if let error = context.error { return DRError.wrap(error) }
        let detail = archive_error_string(archive).map { String(cString: $0) } ?? "unknown libarchive error"
        return DRError(.dataCorrupt, "\(what): \(detail)")
    }

    /// Feeds libarchive from an object stream; keeps the stream's own error (e.g. a hash mismatch).
    final class ReadContext {
        let source: any ObjectInputStream
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        var error: (any Error)?

        init(source: any ObjectInputStream) { self.source = source }

        deinit { buffer.deallocate() }

        func fill(_ out: UnsafeMutablePointer<UnsafeRawPointer?>) -> Int {
            do {
                let n = try source.read(into: buffer)
                out.pointee = UnsafeRawPointer(buffer.baseAddress)
                return n
            } catch {
                self.error = error
                return -1
            }
        }
    }
}
