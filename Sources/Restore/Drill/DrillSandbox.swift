import DRCore
public import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A fresh folder that one drill restores into: repositories under `git/`, volumes under
/// `volumes/`, decrypted exports under `exports/`. Nothing outside it is written.
public struct DrillSandbox: Sendable, Hashable {
    /// The sandbox folder (absolute, standardized).
    public let root: String

    /// A sandbox at `root` (not created).
    public init(root: String) {
        self.root = URL(fileURLWithPath: root).standardizedFileURL.path
    }

    /// Creates a new, empty sandbox (mode 0700) under `parent`.
    public static func create(in parent: String, now: Date) throws -> DrillSandbox {
        try FileIO.createDirectory(parent, mode: 0o700)
        let stamp = ActionFormat.fileStamp(now)
        let sandbox = DrillSandbox(root: "\(parent)/drill-\(stamp)-\(FileIO.randomHex(4))")
        guard !FileIO.exists(sandbox.root) else {
            throw DRError(.io, "drill sandbox \(sandbox.root) already exists")
        }
        try FileIO.createDirectory(sandbox.root, mode: 0o700)
        return sandbox
    }

    /// Where a git-bundle source is restored in the drill.
    public func git(_ source: String) -> String { "\(root)/git/\(source)" }

    /// Where a pvc-archive source is restored in the drill.
    public func volume(_ source: String) -> String { "\(root)/volumes/\(source)" }

    /// Where an export snapshot of a source is decrypted for verification.
    public func export(_ source: String) -> String { "\(root)/exports/\(source).yaml" }

    /// True when `path` is inside the sandbox (after `..` and `.` are resolved).
    public func contains(_ path: String) -> Bool {
        let standardized = URL(fileURLWithPath: path).standardizedFileURL.path
        return standardized.hasPrefix(root + "/")
    }

    /// Deletes the sandbox and everything in it.
    public func remove() {
        FileIO.remove(root)
    }

    /// The file a running drill holds a `flock` on.
    var lockPath: String { "\(root)/.drill.lock" }
    /// Marks a sandbox kept on purpose (`--keep-sandbox`): never swept.
    var keepPath: String { "\(root)/.keep" }

    /// Takes the sandbox's lock for as long as the returned hold lives: a later drill sweeps
    /// only sandboxes whose lock is free (their drill was killed).
    func hold() throws -> SandboxHold {
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw DRError(.io, "cannot create \(lockPath)", cause: POSIXError.current) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw DRError(.io, "cannot lock \(lockPath)", cause: POSIXError.current)
        }
        return SandboxHold(fd: fd)
    }

    /// Marks the sandbox kept, so that ``sweep(parent:except:)`` leaves it.
    func markKept() {
        try? FileIO.atomicWrite(Array("kept by --keep-sandbox; delete this folder when done\n".utf8), to: keepPath, mode: 0o600)
    }

    /// Removes the sandboxes under `parent` left behind by drills that were killed (their
    /// lock is free, or they have none and are older than ten minutes, and they are not
    /// marked kept); returns their paths.
    static func sweep(parent: String, except current: DrillSandbox) -> [String] {
        var removed: [String] = []
        for name in FileIO.list(parent) where name.hasPrefix("drill-") {
            let sandbox = DrillSandbox(root: "\(parent)/\(name)")
            guard sandbox != current, FileIO.isDirectory(sandbox.root), !FileIO.exists(sandbox.keepPath) else { continue }
            let fd = open(sandbox.lockPath, O_RDWR | O_CLOEXEC)
            if fd >= 0 {
                defer { close(fd) }
                guard flock(fd, LOCK_EX | LOCK_NB) == 0 else { continue }
            } else {
                // No lock file: a drill that was killed before taking it, or one that is
                // starting right now; only the first kind is old.
                guard errno == ENOENT,
                      let created = (try? FileManager.default.attributesOfItem(atPath: sandbox.root))?[.modificationDate] as? Date,
                      Date().timeIntervalSince(created) > 600 else { continue }
            }
            sandbox.remove()
            removed.append(sandbox.root)
        }
        return removed
    }
}

/// A running drill's lock on its sandbox; released when this is deallocated.
final class SandboxHold {
    private let fd: Int32

    init(fd: Int32) { self.fd = fd }

    deinit {
        // As `RunLock.release`: a forked child may share the descriptor until it execs.
        _ = flock(fd, LOCK_UN)
        close(fd)
    }
}
