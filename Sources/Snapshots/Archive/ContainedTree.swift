#if canImport(Glibc)
import Glibc
#endif
// `struct stat` reaches Swift through CArchive's headers in this module (MemberImportVisibility).
internal import CArchive
import DRCore

/// Opens folders below an extraction root one name at a time, never following a symlink.
///
/// Each component is opened relative to its parent's descriptor with `O_NOFOLLOW |
/// O_DIRECTORY`, so a symlink anywhere in a path is found by the kernel, not by comparing
/// strings. The folders of the last path asked for stay open: tar order visits a folder's
/// entries together, so most entries cost no system call at all. This replaces libarchive's
/// `SECURE_SYMLINKS` walk, which opened and checked every component from `/` for every
/// entry (about ten system calls per file).
///
/// Used from one thread at a time.
final class ContainedTree {
    private let root: Int32
    /// The open folders of the last path: `open[i]` is the folder `names[0...i]`.
    private var names: [[UInt8]] = []
    private var open: [Int32] = []

    /// Opens the root folder.
    init(root path: String) throws {
        root = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard root >= 0 else {
            throw VolumeArchiveError(.io, "cannot open the extraction folder \(path): \(String(cString: strerror(errno)))")
        }
    }

    deinit {
        for descriptor in open { Glibc.close(descriptor) }
        Glibc.close(root)
    }

    /// The folder holding `path` (relative, `/`-separated) and the entry's own name, or nil
    /// when one of its folders does not exist yet. Throws when a folder on the way is a
    /// symlink or not a folder: writing there could leave the root.
    func parent(of path: [UInt8]) throws -> (descriptor: Int32, name: [UInt8])? {
        var components = path.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true).map(Array.init)
        guard let name = components.popLast() else { return nil }
        guard let descriptor = try folder(components, for: path) else { return nil }
        return (descriptor, name)
    }

    /// The `st_mode` of `path` as `lstat` sees it, or nil when it (or a folder on the way)
    /// does not exist.
    func mode(of path: [UInt8]) throws -> mode_t? {
        guard let (descriptor, name) = try parent(of: path) else { return nil }
        var info = stat()
        let found = withCPath(name) { fstatat(descriptor, $0, &info, AT_SYMLINK_NOFOLLOW) } == 0
        return found ? info.st_mode : nil
    }

    /// The descriptor of the folder `components` below the root, reusing the open prefix.
    private func folder(_ components: [[UInt8]], for path: [UInt8]) throws -> Int32? {
        var shared = 0
        while shared < components.count, shared < names.count, names[shared] == components[shared] { shared += 1 }
        while open.count > shared {
            Glibc.close(open.removeLast())
            names.removeLast()
        }
        while open.count < components.count {
            let name = components[open.count]
            guard name != [UInt8(ascii: "."), UInt8(ascii: ".")] else {
                throw VolumeArchiveError(.unsafeEntry, "refusing archive entry \(PathKey.display(path)): `..` would leave the target folder")
            }
            let parent = open.last ?? root
            let descriptor = withCPath(name) { Glibc.openat(parent, $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
            if descriptor < 0 {
                let code = errno
                if code == ENOENT { return nil }
                let walked = PathKey.display(Array(components[...open.count].joined(separator: [UInt8(ascii: "/")])))
                let reason = code == ELOOP || code == ENOTDIR
                    ? "`\(walked)` is a symlink or not a folder, and nothing is written through it"
                    : "cannot open `\(walked)`: \(String(cString: strerror(code)))"
                throw VolumeArchiveError(code == ELOOP || code == ENOTDIR ? .unsafeEntry : .io,
                                         "refusing archive entry \(PathKey.display(path)): \(reason)")
            }
            open.append(descriptor)
            names.append(name)
        }
        return open.last ?? root
    }
}
