#if canImport(Glibc)
import Glibc
#endif
import DRCore
import Foundation

/// The exclusive lock on a data folder: `flock(LOCK_EX)` on `<data_dir>/drctl.lock`.
///
/// `drctl prune` holds it for its whole run, and so does `drctl run --due` (the same file
/// and the same `flock`, so the two exclude each other). The kernel drops a `flock` when
/// its holder exits or dies, so a crashed holder never leaves a stale lock. Manual
/// `drctl backup` does not take it: prune's garbage collection is safe against such a
/// backup by its write-time rule instead (docs/SCHEDULING.md, "Retention and prune").
public final class DataLock {
    /// The lock file.
    public let path: String
    private var fd: Int32

    private init(path: String, fd: Int32) {
        self.path = path
        self.fd = fd
    }

    /// The lock file of a data folder.
    public static func path(dataDir: String) -> String { "\(dataDir)/drctl.lock" }

    /// Takes the lock. With `wait` false, returns nil at once when another process holds
    /// it; with `wait` true, blocks until it is free.
    public static func acquire(dataDir: String, wait: Bool) throws -> DataLock? {
        if !FileIO.isDirectory(dataDir) { try FileIO.createDirectory(dataDir, mode: 0o700) }
        let path = path(dataDir: dataDir)
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw DRError(.io, "cannot open the lock file \(path)", cause: POSIXError.current) }
        while flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) != 0 {
            let code = errno
            if code == EINTR { continue }
            close(fd)
            if code == EWOULDBLOCK { return nil }
            throw DRError(.io, "cannot lock \(path)", cause: POSIXError(POSIXErrorCode(rawValue: code) ?? .EIO))
        }
        let pid = Array("\(getpid())\n".utf8)
        if ftruncate(fd, 0) == 0 { _ = pid.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } }
        return DataLock(path: path, fd: fd)
    }

    /// Releases the lock (also done when the object goes away).
    public func release() {
        guard fd >= 0 else { return }
        flock(fd, LOCK_UN)
        close(fd)
        fd = -1
    }

    deinit { release() }
}
