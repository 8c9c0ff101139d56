#if canImport(Glibc)
import Glibc
#endif
internal import CArchive
public import DRCore

/// Reading tar entries with libarchive: header decoding (names as bytes, UTF-8 first)
/// and the pull-based read context shared by the extractor.
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

    /// An open libarchive reader over a tar stream (zstd-compressed or plain) pulled from an
    /// object stream; freed with it.
    final class Session {
        let reader: OpaquePointer
        let context: ReadContext
        private let unmanaged: Unmanaged<ReadContext>

        init(_ source: any ObjectInputStream) throws {
            guard let reader = archive_read_new() else { throw VolumeArchiveError(.libarchive, "libarchive: out of memory") }
            archive_read_support_filter_zstd(reader)
            archive_read_support_filter_none(reader)
            archive_read_support_format_tar(reader)
            self.reader = reader
            context = ReadContext(source: source)
            unmanaged = Unmanaged.passRetained(context)
            let opened = archive_read_open(reader, unmanaged.toOpaque(), nil, { _, client, buffer in
                guard let client, let buffer else { return -1 }
                return Unmanaged<ReadContext>.fromOpaque(client).takeUnretainedValue().fill(buffer)
            }, nil)
            guard opened == ARCHIVE_OK else { throw failure("cannot open the archive") }
        }

        deinit {
            archive_read_free(reader)
            unmanaged.release()
        }

        /// The next entry (libarchive's pointer and its decoded header), refused by
        /// ``SecureExtractor/check(_:name:)`` when unsafe; nil at the end of the archive.
        func nextEntry() throws -> (pointer: OpaquePointer, header: Entry)? {
            var entry: OpaquePointer?
            let status = archive_read_next_header(reader, &entry)
            if status == ARCHIVE_EOF { return nil }
            guard status == ARCHIVE_OK || status == ARCHIVE_WARN, let entry else {
                throw failure("the archive is corrupt or truncated")
            }
            let header = ArchiveReader.entry(entry)
            try SecureExtractor.check(entry, name: header.path)
            return (entry, header)
        }

        /// Passes the current entry's data blocks (bytes and offset) to `consume`; throws
        /// naming `name` when the archive ends or breaks inside the entry.
        func readData(of name: [UInt8], _ consume: (UnsafeRawBufferPointer, Int64) throws -> Void) throws {
            var buffer: UnsafeRawPointer?
            var size = 0
            var offset: Int64 = 0
            while true {
                let block = archive_read_data_block(reader, &buffer, &size, &offset)
                if block == ARCHIVE_EOF { return }
                guard block == ARCHIVE_OK || block == ARCHIVE_WARN else {
                    throw failure("the archive is corrupt or truncated in \(PathKey.display(name))")
                }
                try consume(UnsafeRawBufferPointer(start: buffer, count: size), offset)
            }
        }

        /// The stream's own error when it has one (e.g. a hash mismatch), else libarchive's.
        func failure(_ what: String) -> any Error {
            if let error = context.error { return error }
            let detail = archive_error_string(reader).map { String(cString: $0) } ?? "unknown error"
            return VolumeArchiveError(.corruptArchive, "\(what): \(detail)")
        }
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
