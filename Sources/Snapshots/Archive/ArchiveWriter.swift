#if canImport(Glibc)
import Glibc
#endif
internal import CArchive
internal import CZstd
internal import CDRSystem
public import DRCore

/// Writes a pax tar stream with libarchive and compresses it with libzstd using all
/// cores, streaming the compressed bytes to a sink. Nothing is staged on disk.
///
/// Preserves regular files, directories, symlinks, hard links (within the archive),
/// permissions, numeric uid/gid, mtimes in nanoseconds and extended attributes. Names are
/// bytes (`hdrcharset=BINARY`): invalid UTF-8 and newlines survive, and stock
/// `tar --zstd -x` and `bsdtar -x` read the result.
public final class TarZstdWriter {
    private let archive: OpaquePointer
    private let zstd: OpaquePointer
    private let sink: (UnsafeRawBufferPointer) throws -> Void
    private var sinkError: (any Error)?
    private var staging: [UInt8] = []
    private let stagingLimit = 4 << 20
    private let output: UnsafeMutableRawBufferPointer
    private let readBuffer: UnsafeMutableRawBufferPointer
    private var links: [LinkKey: [UInt8]] = [:]
    private var finished = false
    /// Bytes of tar stream produced and compressed bytes emitted.
    public private(set) var tarBytes: Int64 = 0
    public private(set) var compressedBytes: Int64 = 0
    /// The number of zstd worker threads in use (0 = single-threaded).
    public let workers: Int
    /// Test hook: called after the first chunk of each regular file was read.
    var afterFirstChunk: (([UInt8]) -> Void)?

    struct LinkKey: Hashable {
        var device: UInt64
        var inode: UInt64
    }

    public init(level: Int32 = 3, workers: Int? = nil, sink: @escaping (UnsafeRawBufferPointer) throws -> Void) throws {
        guard let zstd = ZSTD_createCCtx() else { throw VolumeArchiveError(.io, "zstd: cannot allocate a compressor") }
        let cores = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        _ = drctl_zstd_set(zstd, ZSTD_c_compressionLevel, level)
        _ = drctl_zstd_set(zstd, ZSTD_c_checksumFlag, 1)
        let wanted = workers ?? (cores > 1 ? cores : 0)
        _ = drctl_zstd_set(zstd, ZSTD_c_nbWorkers, Int32(wanted))
        // 4 MiB jobs keep two workers busy while capping their buffers (peak RSS 157 -> 100 MiB).
        _ = drctl_zstd_set(zstd, ZSTD_c_jobSize, 4 << 20)
        self.workers = Int(max(0, drctl_zstd_get(zstd, ZSTD_c_nbWorkers)))
        guard let archive = archive_write_new() else {
            ZSTD_freeCCtx(zstd)
            throw VolumeArchiveError(.libarchive, "libarchive: cannot allocate a writer")
        }
        self.zstd = zstd
        self.archive = archive
        self.sink = sink
        // Large outputs: one hand-over to the encrypting stage per 512 KiB, not per 128 KiB.
        output = .allocate(byteCount: 512 << 10, alignment: 16)
        readBuffer = .allocate(byteCount: 1 << 20, alignment: 16)
        staging.reserveCapacity(stagingLimit + (1 << 16))
        archive_write_set_format_pax(archive)
        archive_write_set_bytes_per_block(archive, 65536)
        archive_write_set_bytes_in_last_block(archive, 1)
        let opened = archive_write_open(archive, Unmanaged.passUnretained(self).toOpaque(), nil, { _, client, buffer, length in
            guard let client, let buffer else { return -1 }
            let writer = Unmanaged<TarZstdWriter>.fromOpaque(client).takeUnretainedValue()
            return writer.accept(UnsafeRawBufferPointer(start: buffer, count: length)) ? length : -1
        }, nil)
        guard opened == ARCHIVE_OK else { throw failure("cannot start the archive") }
    }

    deinit {
        archive_write_free(archive)
        ZSTD_freeCCtx(zstd)
        output.deallocate()
        readBuffer.deallocate()
    }

    /// Called by libarchive with tar bytes: staged, and compressed in large batches.
    private func accept(_ bytes: UnsafeRawBufferPointer) -> Bool {
        staging.append(contentsOf: bytes)
        tarBytes += Int64(bytes.count)
        if staging.count >= stagingLimit {
            do { try compress(end: false) } catch { sinkError = error; return false }
        }
        return true
    }

    private func compress(end: Bool) throws {
        try staging.withUnsafeBytes { raw in
            var input = ZSTD_inBuffer(src: raw.baseAddress, size: raw.count, pos: 0)
            while true {
                var out = ZSTD_outBuffer(dst: output.baseAddress, size: output.count, pos: 0)
                let remaining = ZSTD_compressStream2(zstd, &out, &input, end ? ZSTD_e_end : ZSTD_e_continue)
                if ZSTD_isError(remaining) != 0 {
                    throw VolumeArchiveError(.io, "zstd: \(String(cString: ZSTD_getErrorName(remaining)))")
                }
                if out.pos > 0 {
                    compressedBytes += Int64(out.pos)
                    try sink(UnsafeRawBufferPointer(rebasing: output[0..<out.pos]))
                }
                if end ? remaining == 0 : input.pos == input.size { break }
            }
        }
        staging.removeAll(keepingCapacity: true)
    }

    /// Archives one path (`source`: absolute path bytes) under `name` (relative path bytes)
    /// and returns its index record as archived (from `lstat` at that moment; the caller
    /// adds the content hash, object and entry number). `observe` sees a regular file's
    /// content as it is archived (for hashing).
    @discardableResult
    public func addEntry(
        from source: [UInt8], as name: [UInt8], observe: ((UnsafeRawBufferPointer) -> Void)? = nil
    ) throws -> FileRecord {
        guard !finished else { throw VolumeArchiveError(.io, "the archive is already finished") }
        var info = stat()
        let statResult = withCPath(source) { lstat($0, &info) }
        if statResult != 0 {
            if errno == ENOENT { throw VolumeArchiveError(.vanished, "\(PathKey.display(name)) disappeared") }
            throw VolumeArchiveError(.io, "cannot stat \(PathKey.display(name)): \(String(cString: strerror(errno)))")
        }
        let format = info.st_mode & S_IFMT
        // libarchive converts names through the thread's locale: UTF-8 for this call only.
        let previousLocale = Self.utf8Locale.map { uselocale($0) }
        defer { if let previousLocale { uselocale(previousLocale) } }
        guard let entry = archive_entry_new() else { throw VolumeArchiveError(.libarchive, "libarchive: out of memory") }
        defer { archive_entry_free(entry) }
        var result = Self.record(info, key: PathKey.key(name))
        let archiveName = format == S_IFDIR ? name + [UInt8(ascii: "/")] : name
        Self.setName(archiveName, entry, utf8: archive_entry_update_pathname_utf8, raw: archive_entry_copy_pathname)
        archive_entry_set_mode(entry, info.st_mode)
        archive_entry_set_uid(entry, Int64(info.st_uid))
        archive_entry_set_gid(entry, Int64(info.st_gid))
        archive_entry_set_mtime(entry, info.st_mtim.tv_sec, info.st_mtim.tv_nsec)
        archive_entry_set_size(entry, 0)
        copyXattrs(source, entry)

        switch format {
        case S_IFDIR:
            try writeHeader(entry, name)
        case S_IFLNK:
            var target = [CChar](repeating: 0, count: 4096)
            let length = withCPath(source) { readlink($0, &target, target.count) }
            guard length >= 0 else { throw VolumeArchiveError(.vanished, "\(PathKey.display(name)) disappeared") }
            let targetBytes = target.prefix(length).map { UInt8(bitPattern: $0) }
            result.linkTarget = targetBytes
            Self.setName(targetBytes, entry, utf8: archive_entry_update_symlink_utf8, raw: archive_entry_copy_symlink)
            try writeHeader(entry, name)
        case S_IFREG:
            let key = LinkKey(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
            if info.st_nlink > 1, let first = links[key] {
                Self.setName(first, entry, utf8: archive_entry_update_hardlink_utf8, raw: archive_entry_copy_hardlink)
                result.type = .hardlink  // size stays the inode's, as the walk sees it
                result.linkTarget = PathKey.key(first)
                try writeHeader(entry, name)
                return result
            }
            if info.st_nlink > 1 { links[key] = name }
            try writeFile(source, entry, name, info, observe)
        default:
            throw VolumeArchiveError(.unsafeEntry, "\(PathKey.display(name)) is a socket, FIFO or device; drctl does not archive those")
        }
        return result
    }

    private func writeFile(
        _ source: [UInt8], _ entry: OpaquePointer, _ name: [UInt8], _ before: stat,
        _ observe: ((UnsafeRawBufferPointer) -> Void)?
    ) throws {
        let fd = withCPath(source) { open($0, O_RDONLY | O_CLOEXEC | O_NOFOLLOW) }
        guard fd >= 0 else {
            if errno == ENOENT { throw VolumeArchiveError(.vanished, "\(PathKey.display(name)) disappeared") }
            throw VolumeArchiveError(.io, "cannot open \(PathKey.display(name)): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var opened = stat()
        fstat(fd, &opened)
        guard opened.st_ino == before.st_ino, opened.st_dev == before.st_dev else {
            throw VolumeArchiveError(.fileChangedDuringRead, "\(PathKey.display(name)) was replaced while being archived")
        }
        let size = Int64(before.st_size)
        archive_entry_set_size(entry, size)
        try writeHeader(entry, name)
        var written: Int64 = 0
        var first = true
        while written < size {
            let want = Int(min(Int64(readBuffer.count), size - written))
            let n = read(fd, readBuffer.baseAddress, want)
            if n < 0 {
                if errno == EINTR { continue }
                throw VolumeArchiveError(.io, "cannot read \(PathKey.display(name)): \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            let chunk = UnsafeRawBufferPointer(rebasing: readBuffer[0..<n])
            observe?(chunk)
            guard archive_write_data(archive, chunk.baseAddress, n) == n else { throw failure("cannot write \(PathKey.display(name))") }
            written += Int64(n)
            if first, let hook = afterFirstChunk { first = false; hook(source) }
        }
        var after = stat()
        fstat(fd, &after)
        if written != size || after.st_size != before.st_size || after.st_mtim.tv_sec != before.st_mtim.tv_sec
            || after.st_mtim.tv_nsec != before.st_mtim.tv_nsec || after.st_ctim.tv_sec != before.st_ctim.tv_sec
            || after.st_ctim.tv_nsec != before.st_ctim.tv_nsec {
            archive_write_finish_entry(archive)
            throw VolumeArchiveError(.fileChangedDuringRead, "\(PathKey.display(name)) changed while being archived")
        }
        guard archive_write_finish_entry(archive) == ARCHIVE_OK else { throw failure("cannot finish \(PathKey.display(name))") }
    }

    private func writeHeader(_ entry: OpaquePointer, _ name: [UInt8]) throws {
        let status = archive_write_header(archive, entry)
        guard status == ARCHIVE_OK || status == ARCHIVE_WARN else { throw failure("cannot write the header of \(PathKey.display(name))") }
    }

    private func copyXattrs(_ source: [UInt8], _ entry: OpaquePointer) {
        var names = [CChar](repeating: 0, count: 4096)
        let length = withCPath(source) { llistxattr($0, &names, names.count) }
        guard length > 0 else { return }
        var start = 0
        var value = [UInt8](repeating: 0, count: 65536)
        for index in 0..<length where names[index] == 0 {
            let name = Array(names[start...index])
            start = index + 1
            let size = withCPath(source) { lgetxattr($0, name, &value, value.count) }
            guard size >= 0 else { continue }
            archive_entry_xattr_add_entry(entry, name, value, size)
        }
    }

    /// Ends the tar stream and flushes the compressor.
    public func finish() throws {
        guard !finished else { return }
        finished = true
        guard archive_write_close(archive) == ARCHIVE_OK else { throw failure("cannot finish the archive") }
        try compress(end: true)
    }

    private func failure(_ what: String) -> any Error {
        if let sinkError { return sinkError }
        let detail = archive_error_string(archive).map { String(cString: $0) } ?? "unknown error"
        return VolumeArchiveError(.libarchive, "\(what): \(detail)")
    }

    /// A `C.UTF-8` locale object, so names convert without touching the process locale.
    nonisolated(unsafe) static let utf8Locale: locale_t? = newlocale(LC_CTYPE_MASK, "C.UTF-8", nil)

    /// Names that are valid UTF-8 are stored as UTF-8 (plain pax, no warnings in GNU tar);
    /// others as raw bytes, which libarchive marks `hdrcharset=BINARY`.
    static func setName(
        _ bytes: [UInt8], _ entry: OpaquePointer,
        utf8: (OpaquePointer?, UnsafePointer<CChar>?) -> Int32, raw: (OpaquePointer?, UnsafePointer<CChar>?) -> Void
    ) {
        withCPath(bytes) { name in
            if String(validating: bytes, as: UTF8.self) == nil || utf8(entry, name) == 0 { raw(entry, name) }
        }
    }

    static func record(_ info: stat, key: [UInt8]) -> FileRecord {
        let format = info.st_mode & S_IFMT
        return FileRecord(
            key: key, type: format == S_IFDIR ? .directory : format == S_IFLNK ? .symlink : .regular,
            size: format == S_IFREG ? Int64(info.st_size) : 0,
            mtimeNs: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec),
            ctimeNs: Int64(info.st_ctim.tv_sec) * 1_000_000_000 + Int64(info.st_ctim.tv_nsec),
            mode: UInt32(info.st_mode & 0o7777), uid: info.st_uid, gid: info.st_gid)
    }
}
