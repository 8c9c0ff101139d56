#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation
internal import CDRSystem

/// Small, explicit wrappers over POSIX file calls: durable writes and streaming reads.
public enum FileIO {
    /// True when `path` exists (any type, symlinks not followed).
    public static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    /// True when `path` is a directory (following symlinks).
    public static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// The size of a file in bytes, or nil when it does not exist.
    public static func size(_ path: String) -> Int64? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Int64(info.st_size)
    }

    /// Creates a directory and its parents (like `mkdir -p`).
    public static func createDirectory(_ path: String, mode: UInt32 = 0o755) throws {
        do {
            try FileManager.default.createDirectory(
                atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: Int(mode)])
        } catch {
            throw DRError(.io, "cannot create directory \(path)", cause: error)
        }
    }

    /// The names in a directory (no `.`/`..`), sorted; empty when it does not exist.
    public static func list(_ path: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
    }

    /// Removes a file or a whole tree; missing paths are fine.
    public static func remove(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Removes a tree even when it holds folders without write or search permission (a
    /// restored volume's modes); missing paths are fine.
    public static func removeTree(_ path: String) {
        remove(path)
        guard exists(path) else { return }
        var folders = [path]
        while let folder = folders.popLast() {
            _ = chmod(folder, 0o700)
            for name in list(folder) {
                let child = "\(folder)/\(name)"
                var info = stat()
                if lstat(child, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR { folders.append(child) }
            }
        }
        remove(path)
    }

    /// Reads a whole (small) file.
    public static func read(_ path: String) throws -> [UInt8] {
        var reader = try FileReader(path: path)
        defer { reader.close() }
        var result: [UInt8] = []
        while let chunk = try reader.next() { result.append(contentsOf: chunk) }
        return result
    }

    /// `fsync`s a directory so that a rename or create inside it is durable.
    public static func syncDirectory(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw DRError(.io, "cannot open directory \(path)", cause: POSIXError.current) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw DRError(.io, "cannot sync directory \(path)", cause: POSIXError.current) }
    }

    /// Flushes the filesystem holding `path` (`syncfs(2)`): one call makes a whole freshly
    /// written tree durable before it is renamed into place.
    public static func syncFilesystem(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw DRError(.io, "cannot open \(path)", cause: POSIXError.current) }
        defer { close(fd) }
        guard drctl_syncfs(fd) == 0 else { throw DRError(.io, "cannot sync the filesystem of \(path)", cause: POSIXError.current) }
    }

    /// Writes a file atomically and durably: temp file in the same folder, fsync, rename, fsync folder.
    public static func atomicWrite(_ bytes: [UInt8], to path: String, mode: UInt32 = 0o644) throws {
        let dir = (path as NSString).deletingLastPathComponent
        // Named for this process, so a later drctl can remove it if this one is killed.
        let temp = StagingName.sibling(of: path, purpose: "tmp")
        var writer = try FileWriter(path: temp, mode: mode)
        do {
            try writer.write(bytes)
            try writer.sync()
            writer.close()
            try rename(temp, to: path)
            try syncDirectory(dir.isEmpty ? "." : dir)
        } catch {
            writer.close()
            remove(temp)
            throw error
        }
    }

    /// `rename(2)` with a clear error.
    public static func rename(_ from: String, to: String) throws {
        guard Glibc.rename(from, to) == 0 else {
            throw DRError(.io, "cannot rename \(from) to \(to)", cause: POSIXError.current)
        }
    }

    /// `count` random bytes as lowercase hex.
    public static func randomHex(_ count: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }
}

/// Writes a file through a raw descriptor; call ``sync()`` before trusting it.
///
/// With `direct`, data goes to disk with `O_DIRECT` through an aligned buffer instead of
/// through the page cache: a large file written once and not read back soon (a
/// repository object) neither evicts other programs' cached data nor costs the kernel a
/// copy into fresh page-cache memory. Filesystems that refuse `O_DIRECT` (tmpfs) get
/// ordinary writes. The unaligned tail is written normally by ``sync()``.
public struct FileWriter: ~Copyable {
    public let path: String
    private var fd: Int32
    /// Bytes written, and the offset up to which writing to disk was started.
    private var written: Int64 = 0
    private var writebackStarted: Int64 = 0
    /// Writeback is started every this many bytes, so that `sync()` of a large file waits
    /// for the last stretch only, not for all of it.
    public static let writebackInterval: Int64 = 8 << 20
    /// The aligned staging buffer of a direct writer (nil otherwise), and its fill.
    private var buffer: UnsafeMutableRawBufferPointer?
    private var buffered = 0
    /// Direct writes: buffer and file offsets aligned to this, in pieces of `directChunk`.
    static let directAlignment = 4096
    static let directChunk = 1 << 20

    /// Creates (exclusively) a new file.
    public init(path: String, mode: UInt32 = 0o644, exclusive: Bool = true, direct: Bool = false) throws {
        self.path = path
        let flags = O_WRONLY | O_CREAT | O_CLOEXEC | (exclusive ? O_EXCL : O_TRUNC)
        fd = direct ? open(path, flags | drctl_o_direct(), mode_t(mode)) : -1
        if fd >= 0 {
            buffer = .allocate(byteCount: Self.directChunk, alignment: Self.directAlignment)
        } else {
            if direct && errno == EEXIST { throw DRError(.io, "cannot create \(path)", cause: POSIXError.current) }
            // Not direct, or the filesystem refuses O_DIRECT (EINVAL): ordinary writes.
            fd = open(path, flags, mode_t(mode))
        }
        guard fd >= 0 else { throw DRError(.io, "cannot create \(path)", cause: POSIXError.current) }
    }

    public mutating func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    public mutating func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard let base = bytes.baseAddress else { return }
        if let buffer, let start = buffer.baseAddress {
            var offset = 0
            while offset < bytes.count {
                let count = min(bytes.count - offset, buffer.count - buffered)
                (start + buffered).copyMemory(from: base + offset, byteCount: count)
                buffered += count
                offset += count
                if buffered == buffer.count { try writeBuffer() }
            }
            return
        }
        try writeAll(UnsafeRawBufferPointer(start: base, count: bytes.count))
        written += Int64(bytes.count)
        if written - writebackStarted >= Self.writebackInterval {
            // Advisory: a filesystem without it still syncs everything in `sync()`.
            _ = drctl_start_writeback(fd, off_t(writebackStarted), off_t(written - writebackStarted))
            writebackStarted = written
        }
    }

    /// Writes the whole staging buffer (aligned length at an aligned offset).
    private mutating func writeBuffer() throws {
        guard let buffer, buffered > 0 else { return }
        try writeAll(UnsafeRawBufferPointer(start: buffer.baseAddress, count: buffered))
        written += Int64(buffered)
        buffered = 0
    }

    private func writeAll(_ bytes: UnsafeRawBufferPointer) throws {
        guard let base = bytes.baseAddress else { return }
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(fd, base + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw DRError(.io, "cannot write \(path)", cause: POSIXError.current)
            }
            offset += n
        }
    }

    /// Writes what is still buffered and makes the file durable (`fsync`).
    public mutating func sync() throws {
        if buffer != nil, buffered > 0 {
            // The tail is not a whole number of blocks: write it without O_DIRECT.
            let flags = fcntl(fd, F_GETFL)
            guard flags >= 0, fcntl(fd, F_SETFL, flags & ~drctl_o_direct()) == 0 else {
                throw DRError(.io, "cannot write \(path)", cause: POSIXError.current)
            }
            try writeBuffer()
        }
        guard fsync(fd) == 0 else { throw DRError(.io, "cannot sync \(path)", cause: POSIXError.current) }
    }

    public mutating func close() {
        if fd >= 0 { Glibc.close(fd); fd = -1 }
        buffer?.deallocate()
        buffer = nil
    }

    deinit {
        if fd >= 0 { Glibc.close(fd) }
        buffer?.deallocate()
    }
}

/// Reads a file in chunks.
public struct FileReader: ~Copyable {
    public let path: String
    private var fd: Int32
    private let chunkSize: Int

    public init(path: String, chunkSize: Int = 1 << 20) throws {
        try self.init(pathBytes: Array(path.utf8), chunkSize: chunkSize)
    }

    /// Opens a path given as raw bytes (file names need not be UTF-8).
    public init(pathBytes: [UInt8], chunkSize: Int = 1 << 20) throws {
        path = PathKey.display(pathBytes)
        self.chunkSize = chunkSize
        fd = withCPath(pathBytes) { open($0, O_RDONLY | O_CLOEXEC) }
        guard fd >= 0 else {
            throw DRError(errno == ENOENT ? .notFound : .io, "cannot open \(path)", cause: POSIXError.current)
        }
    }

    /// The next chunk, or nil at end of file.
    public mutating func next() throws -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: chunkSize)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw DRError(.io, "cannot read \(path)", cause: POSIXError.current)
            }
            if n == 0 { return nil }
            buffer.removeLast(chunkSize - n)
            return buffer
        }
    }

    public mutating func close() {
        if fd >= 0 { Glibc.close(fd); fd = -1 }
    }

    deinit { if fd >= 0 { Glibc.close(fd) } }
}

/// Calls `body` with `bytes` as a NUL-terminated C string (paths are bytes, not UTF-8).
public func withCPath<T>(_ bytes: [UInt8], _ body: (UnsafePointer<CChar>) throws -> T) rethrows -> T {
    let storage = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count + 1)
    defer { storage.deallocate() }
    bytes.withUnsafeBytes { source in
        if let base = source.baseAddress { UnsafeMutableRawPointer(storage).copyMemory(from: base, byteCount: bytes.count) }
    }
    storage[bytes.count] = 0
    return try body(storage)
}
