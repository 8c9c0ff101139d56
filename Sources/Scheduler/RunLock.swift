internal import DRCore
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The single-instance lock of a data folder: `flock(2)` on `<data_dir>/drctl.lock`.
///
/// The holder writes its pid into the file so a waiting or skipping run can name it.
/// Stale locks cannot happen: the kernel releases a `flock` when its holder's file
/// descriptor closes, including when the process dies, so a leftover file with a dead
/// pid in it is simply free. The descriptor is `O_CLOEXEC`, so hook commands and other
/// children never inherit (and keep) the lock.
public final class RunLock {
    /// Path of the lock file.
    public let path: String
    private var fd: Int32

    private init(path: String, fd: Int32) {
        self.path = path
        self.fd = fd
    }

    deinit { release() }

    /// The lock file of a data folder.
    public static func path(dataDir: String) -> String { "\(dataDir)/drctl.lock" }

    /// The outcome of ``acquire(dataDir:wait:)``.
    public enum Acquisition {
        /// The lock is ours until ``RunLock/release()`` (or deinit).
        case acquired(RunLock)
        /// Another process holds it (its pid, when it wrote one).
        case busy(holder: Int32?)
    }

    /// Takes the lock. When it is held elsewhere: returns `.busy` at once, or with `wait`
    /// blocks until the holder lets go.
    public static func acquire(dataDir: String, wait: Bool) throws -> Acquisition {
        let path = path(dataDir: dataDir)
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw DRError(.io, "cannot open the lock file \(path)", cause: POSIXError.current) }
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            if code == EINTR { continue }
            guard code == EWOULDBLOCK else {
                close(fd)
                throw DRError(.io, "cannot lock \(path)", cause: POSIXError(POSIXErrorCode(rawValue: code) ?? .EIO))
            }
            let holder = readPID(fd)
            guard wait else {
                close(fd)
                return .busy(holder: holder)
            }
            while flock(fd, LOCK_EX) != 0 {
                guard errno == EINTR else {
                    let error = POSIXError.current
                    close(fd)
                    throw DRError(.io, "cannot lock \(path)", cause: error)
                }
            }
            break
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        return .acquired(RunLock(path: path, fd: fd))
    }

    /// The pid written in the lock file, if any (the holder's, while it is held).
    public static func holder(dataDir: String) -> Int32? {
        let fd = open(path(dataDir: dataDir), O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        return readPID(fd)
    }

    private static func readPID(_ fd: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return nil }
        return Int32(String(decoding: buffer.prefix(count), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Lets go of the lock (idempotent). The pid stays in the file; it means nothing once
    /// the lock is free.
    public func release() {
        guard fd >= 0 else { return }
        _ = ftruncate(fd, 0)
        // Unlock explicitly: a child forked by another thread shares this open file
        // description until it execs, and closing our descriptor alone would leave the
        // lock held through the child's copy.
        _ = flock(fd, LOCK_UN)
        close(fd)
        fd = -1
    }
}
