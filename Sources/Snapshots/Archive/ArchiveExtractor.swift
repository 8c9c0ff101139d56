#if canImport(Glibc)
import Glibc
#endif
internal import CArchive
public import DRCore

/// Extracts a (zstd-compressed) tar stream into a folder without ever writing outside it.
///
/// Every entry is checked before anything is written: absolute names, `..` components,
/// device nodes, FIFOs, sockets and absurd sizes are refused. Before libarchive writes an
/// entry, its folders (and a hard link's target folders) are opened from the extraction
/// root one name at a time without following symlinks (``ContainedTree``), so nothing is
/// written through a symlink, including one the same archive created, and an entry whose
/// name already exists is refused. libarchive writes below the folder's real
/// (symlink-free) path with `SECURE_NODOTDOT` and `NO_OVERWRITE`.
public enum SecureExtractor {
    /// The largest entry accepted (1 TiB).
    public static let maximumEntrySize: Int64 = 1 << 40

    /// What an extraction wrote.
    public struct Result: Sendable {
        public var entries = 0
        public var bytes: Int64 = 0
        /// The content hash of each regular file as written, by relative path.
        public var hashes: [[UInt8]: [UInt8]] = [:]
    }

    /// Extracts the entries whose relative path passes `include` into `directory`, hashing
    /// regular files with `contentHash`; `afterEntry` is called once each extracted entry has
    /// been queued for the disk writer.
    public static func extract(
        _ source: any ObjectInputStream, into directory: String, include: ([UInt8]) -> Bool = { _ in true },
        contentHash: ContentHash = .blake3, afterEntry: () -> Void = {}
    ) throws -> Result {
        guard let real = realpath(directory, nil) else {
            throw VolumeArchiveError(.io, "cannot resolve the extraction folder \(directory)")
        }
        let base = Array(String(cString: real).utf8)
        free(real)
        let session = try ArchiveReader.Session(source)
        let reader = session.reader
        guard let disk = archive_write_disk_new() else { throw VolumeArchiveError(.libarchive, "libarchive: out of memory") }
        defer { archive_write_free(disk) }
        // Not `SECURE_SYMLINKS`: its check opens and inspects every component of the path
        // from `/` for every entry, a third of a restore's system time. ContainedTree does the
        // same check from the root with the folders kept open (docs/PERFORMANCE.md).
        var flags = ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_PERM
            | ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_NO_OVERWRITE
        if geteuid() == 0 { flags |= ARCHIVE_EXTRACT_OWNER }
        archive_write_disk_set_options(disk, flags)


        // Two stages: this thread parses the tar stream, checks entries and hashes content;
        // `writer` makes the folders, files and links, in archive order, with libarchive's
        // secure disk writer. File writes (kernel time) overlap with decoding and hashing.
        // Operations travel in batches of about a megabyte: one hand-over per batch, not
        // three per file, keeps both threads busy instead of waking each other.
        let handle = UncheckedBox(disk)
        let flush = BackgroundFlush(path: directory)
        defer { flush?.stop() }
        let writer = BackgroundSink<[DiskOperation], Void>(capacity: 4) { next in
            try DiskOperation.perform(next, on: handle.value, below: ContainedTree(root: String(decoding: base, as: UTF8.self)), flush: flush)
        }
        var batch = DiskOperation.Batch(writer)
        var result = Result()
        do {
            while let (entry, header) = try session.nextEntry() {
                let name = header.path
                guard include(name) else {
                    archive_read_data_skip(reader)
                    continue
                }
                let target = base + [UInt8(ascii: "/")] + name
                withCPath(target) { archive_entry_copy_pathname(entry, $0) }
                let hardlink = header.type == .hardlink ? header.linkTarget : nil
                if let link = hardlink {
                    withCPath(base + [UInt8(ascii: "/")] + link) { archive_entry_copy_hardlink(entry, $0) }
                }
                guard let clone = archive_entry_clone(entry) else {
                    throw VolumeArchiveError(.libarchive, "libarchive: out of memory")
                }
                try batch.add(.header(ClonedEntry(clone), name: name, isDirectory: header.type == .directory, hardlink: hardlink))
                if header.type == .regular {
                    var hasher = contentHash.hasher()
                    try session.readData(of: name) { bytes, offset in
                        hasher.update(bufferPointer: bytes)
                        try batch.add(.data(Array(bytes), offset: offset), bytes: bytes.count)
                        result.bytes += Int64(bytes.count)
                    }
                    result.hashes[name] = hasher.finalize()
                }
                try batch.add(.finish(name: name))
                result.entries += 1
                afterEntry()
            }
            if let error = session.context.error { throw error }
            try batch.flush()
            try writer.finish()
        } catch {
            writer.abandon()
            throw error
        }
        return result
    }

    /// Refuses entries that could escape the target or are not plain files, folders or links.
    static func check(_ entry: OpaquePointer, name: [UInt8]) throws {
        let display = PathKey.display(name)
        guard !name.isEmpty else { throw VolumeArchiveError(.unsafeEntry, "refusing an archive entry with an empty name") }
        guard name.first != UInt8(ascii: "/") else {
            throw VolumeArchiveError(.unsafeEntry, "refusing archive entry \(display): absolute paths are not allowed")
        }
        let components = name.split(separator: UInt8(ascii: "/"))
        guard !components.contains(where: { $0.elementsEqual("..".utf8) }) else {
            throw VolumeArchiveError(.unsafeEntry, "refusing archive entry \(display): `..` would leave the target folder")
        }
        let format = archive_entry_filetype(entry)
        let hardlink = ArchiveReader.bytes(archive_entry_hardlink_utf8(entry) ?? archive_entry_hardlink(entry))
        guard hardlink != nil || format == UInt32(Glibc.S_IFREG) || format == UInt32(Glibc.S_IFDIR) || format == UInt32(Glibc.S_IFLNK) else {
            throw VolumeArchiveError(.unsafeEntry, "refusing archive entry \(display): devices, FIFOs and sockets are not restored")
        }
        if let target = hardlink {
            guard target.first != UInt8(ascii: "/"),
                  !target.split(separator: UInt8(ascii: "/")).contains(where: { $0.elementsEqual("..".utf8) }) else {
                throw VolumeArchiveError(.unsafeEntry, "refusing archive entry \(display): its hard link leaves the target folder")
            }
        }
        guard archive_entry_size(entry) <= maximumEntrySize else {
            throw VolumeArchiveError(.unsafeEntry, "refusing archive entry \(display): its size \(archive_entry_size(entry)) is absurd")
        }
    }

    /// Refuses a hard link whose target lies behind a symlink, or one that carries data into
    /// anything but a regular file (a hard link to a symlink is itself a symlink).
    static func checkHardLink(_ entry: OpaquePointer, name: [UInt8], target: [UInt8], below tree: ContainedTree) throws {
        if archive_entry_size(entry) > 0, let mode = try tree.mode(of: target), mode & S_IFMT != S_IFREG {
            throw VolumeArchiveError(.unsafeEntry, "refusing archive entry \(PathKey.display(name)): it writes data through a hard link to \(PathKey.display(target)), which is not a regular file")
        }
    }

    /// Owns a cloned libarchive entry until the writer is done with it.
    final class ClonedEntry {
        let pointer: OpaquePointer
        init(_ pointer: OpaquePointer) { self.pointer = pointer }
        deinit { archive_entry_free(pointer) }
    }

    /// One step for the disk-writer stage.
    enum DiskOperation {
        /// Start the entry `name` (relative). Folders may already exist as parents made
        /// earlier; their metadata is applied by the caller. `hardlink` is a hard link's
        /// relative target.
        case header(ClonedEntry, name: [UInt8], isDirectory: Bool, hardlink: [UInt8]?)
        case data([UInt8], offset: Int64)
        case finish(name: [UInt8])

        /// Collects operations for the writer and hands them over about a megabyte at a time.
        struct Batch {
            let writer: BackgroundSink<[DiskOperation], Void>
            var operations: [DiskOperation] = []
            var bytes = 0

            init(_ writer: BackgroundSink<[DiskOperation], Void>) { self.writer = writer }

            mutating func add(_ operation: DiskOperation, bytes count: Int = 0) throws {
                operations.append(operation)
                bytes += count
                if bytes >= 1 << 20 || operations.count >= 512 { try flush() }
            }

            mutating func flush() throws {
                guard !operations.isEmpty else { return }
                try writer.put(operations)
                operations = []
                bytes = 0
            }
        }

        /// Runs operations until the end of the stream, then completes the extraction.
        static func perform(
            _ next: () throws -> [DiskOperation]?, on disk: OpaquePointer, below tree: ContainedTree, flush: BackgroundFlush?
        ) throws {
            var skipping = false
            var current: [UInt8] = []
            while let operations = try next() {
                for operation in operations {
                    switch operation {
                    case .header(let entry, let name, let isDirectory, let hardlink):
                        current = name
                        skipping = false
                        if let hardlink { try checkHardLink(entry.pointer, name: name, target: hardlink, below: tree) }
                        // `mode` refuses a symlink on the way to the entry.
                        if let mode = try tree.mode(of: name) {
                            // An existing folder is a parent made earlier. Anything else there
                            // came from an earlier entry of the same name: nothing is made over
                            // it or written through it.
                            guard isDirectory, mode & S_IFMT == S_IFDIR else {
                                let what = mode & S_IFMT == S_IFLNK ? "a symlink" : mode & S_IFMT == S_IFDIR ? "a folder" : "a file"
                                throw VolumeArchiveError(.unsafeEntry, "refusing archive entry \(PathKey.display(name)): \(what) of that name exists, and nothing is written over or through it")
                            }
                            skipping = true
                            continue
                        }
                        guard archive_write_header(disk, entry.pointer) == ARCHIVE_OK else {
                            let detail = archive_error_string(disk).map { String(cString: $0) } ?? "refused"
                            throw VolumeArchiveError(.unsafeEntry, "refusing archive entry \(PathKey.display(name)): \(detail)")
                        }
                    case .data(let bytes, let offset):
                        if skipping { continue }
                        let written = bytes.withUnsafeBytes { archive_write_data_block(disk, $0.baseAddress, $0.count, offset) }
                        guard written >= 0 else {
                            let detail = archive_error_string(disk).map { String(cString: $0) } ?? "write failed"
                            throw VolumeArchiveError(.io, "cannot write \(PathKey.display(current)): \(detail)")
                        }
                        flush?.wrote(bytes.count)
                    case .finish(let name):
                        if skipping {
                            skipping = false
                            continue
                        }
                        guard archive_write_finish_entry(disk) >= ARCHIVE_WARN else {
                            let detail = archive_error_string(disk).map { String(cString: $0) } ?? "failed"
                            throw VolumeArchiveError(.io, "cannot finish \(PathKey.display(name)): \(detail)")
                        }
                    }
                }
            }
            guard archive_write_close(disk) == ARCHIVE_OK else {
                let detail = archive_error_string(disk).map { String(cString: $0) } ?? "failed"
                throw VolumeArchiveError(.io, "cannot complete the extraction: \(detail)")
            }
        }
    }
}
