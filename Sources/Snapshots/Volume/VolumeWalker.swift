#if canImport(Glibc)
import Glibc
#endif
// `struct stat` reaches Swift through CArchive's headers in this module (MemberImportVisibility).
internal import CArchive
public import DRCore
import Foundation

/// One entry found by a walk.
public struct WalkEntry: Sendable {
    /// The index record (key, type, size, times, mode, owner, symlink target); no hash yet.
    public var record: FileRecord
    /// The relative path (`/`-separated bytes), as the archive names it.
    public var path: [UInt8]
    /// Link count and inode identity, for hard links.
    public var links: UInt64
    public var device: UInt64
    public var inode: UInt64
}

/// Walks a volume depth-first, siblings sorted by name bytes, so entries come out in
/// ``PathKey`` order. Never follows symlinks; every directory is read every time.
/// Sockets, FIFOs and device nodes are skipped and reported.
public struct VolumeWalker {
    public let root: String
    public let exclude: [Glob]
    /// Paths (display form) skipped because they are sockets, FIFOs or devices.
    public private(set) var skipped: [String] = []

    public init(root: String, exclude: [Glob]) {
        self.root = root
        self.exclude = exclude
    }

    /// Calls `visit` for the root (empty key) and every entry below it, in key order.
    public mutating func walk(_ visit: (WalkEntry) throws -> Void) throws {
        let fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else {
            throw DRError(errno == ENOENT ? .notFound : .io, "cannot open the volume \(root)", cause: POSIXError.current)
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            close(fd)
            throw DRError(.io, "cannot stat the volume \(root)", cause: POSIXError.current)
        }
        try visit(Self.entry(info, key: [], path: [], linkTarget: nil))
        try walkDirectory(fd, key: [], path: [], visit)  // closes fd
    }

    private mutating func walkDirectory(
        _ fd: Int32, key: [UInt8], path: [UInt8], _ visit: (WalkEntry) throws -> Void
    ) throws {
        guard let dir = fdopendir(fd) else {
            close(fd)
            throw DRError(.io, "cannot read directory \(display(path))", cause: POSIXError.current)
        }
        defer { closedir(dir) }
        var names: [[UInt8]] = []
        while true {
            errno = 0
            guard let entry = readdir(dir) else {
                if errno != 0 { throw DRError(.io, "cannot read directory \(display(path))", cause: POSIXError.current) }
                break
            }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                Array(raw.prefix { $0 != 0 })
            }
            if name == [UInt8(ascii: ".")] || name == [UInt8(ascii: "."), UInt8(ascii: ".")] { continue }
            names.append(name)
        }
        names.sort { $0.lexicographicallyPrecedes($1) }
        let dirFD = dirfd(dir)
        for name in names {
            let childPath = path.isEmpty ? name : path + [UInt8(ascii: "/")] + name
            if exclude.contains(where: { $0.matches(childPath) }) { continue }
            let childKey = key.isEmpty ? name : key + [0] + name
            var info = stat()
            let statResult = withCPath(name) { fstatat(dirFD, $0, &info, AT_SYMLINK_NOFOLLOW) }
            if statResult != 0 {
                if errno == ENOENT { continue }  // vanished since readdir: not part of this snapshot
                throw DRError(.io, "cannot stat \(display(childPath))", cause: POSIXError.current)
            }
            switch info.st_mode & S_IFMT {
            case S_IFREG, S_IFDIR:
                let entry = Self.entry(info, key: childKey, path: childPath, linkTarget: nil)
                try visit(entry)
                if entry.record.type == .directory {
                    let childFD = withCPath(name) { openat(dirFD, $0, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW) }
                    guard childFD >= 0 else {
                        if errno == ENOENT { continue }
                        throw DRError(.io, "cannot open directory \(display(childPath))", cause: POSIXError.current)
                    }
                    try walkDirectory(childFD, key: childKey, path: childPath, visit)
                }
            case S_IFLNK:
                var target = [CChar](repeating: 0, count: 4096)
                let length = withCPath(name) { readlinkat(dirFD, $0, &target, target.count) }
                if length < 0 {
                    if errno == ENOENT { continue }
                    throw DRError(.io, "cannot read symlink \(display(childPath))", cause: POSIXError.current)
                }
                try visit(Self.entry(info, key: childKey, path: childPath, linkTarget: target.prefix(length).map { UInt8(bitPattern: $0) }))
            default:
                skipped.append(display(childPath))
            }
        }
    }

    static func entry(_ info: stat, key: [UInt8], path: [UInt8], linkTarget: [UInt8]?) -> WalkEntry {
        let format = info.st_mode & S_IFMT
        let type: FileType = format == S_IFDIR ? .directory : format == S_IFLNK ? .symlink : .regular
        let record = FileRecord(
            key: key, type: type, size: type == .regular ? Int64(info.st_size) : 0,
            mtimeNs: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec),
            ctimeNs: Int64(info.st_ctim.tv_sec) * 1_000_000_000 + Int64(info.st_ctim.tv_nsec),
            mode: UInt32(info.st_mode & 0o7777), uid: info.st_uid, gid: info.st_gid, linkTarget: linkTarget)
        return WalkEntry(record: record, path: path, links: UInt64(info.st_nlink), device: UInt64(info.st_dev),
                         inode: UInt64(info.st_ino))
    }

    func display(_ path: [UInt8]) -> String { PathKey.display(path) }
}
