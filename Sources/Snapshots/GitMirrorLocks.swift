#if canImport(Glibc)
import Glibc
#endif
import DRCore
import Foundation

/// Lock files a git process killed mid-update leaves in drctl's private mirror
/// (`refs/heads/main.lock`, `packed-refs.lock`, `shallow.lock` …). git refuses to touch a
/// ref whose lock exists, so one kill would fail every later backup of the source.
///
/// The mirror belongs to drctl alone; a lock is stale when no running process works in
/// the mirror (git runs with the mirror as its working folder), which `/proc` tells.
enum GitMirrorLocks {
    /// Removes the mirror's `*.lock` files when no process works in it; returns their
    /// paths relative to the mirror.
    static func removeStale(in mirror: String) -> [String] {
        let locks = find(in: mirror)
        guard !locks.isEmpty, !inUse(mirror) else { return [] }
        for lock in locks { FileIO.remove("\(mirror)/\(lock)") }
        return locks
    }

    /// `*.lock` files at the top of the mirror and under `refs/`.
    static func find(in mirror: String) -> [String] {
        var found = FileIO.list(mirror).filter { $0.hasSuffix(".lock") }
        var folders = ["refs"]
        while let folder = folders.popLast() {
            for name in FileIO.list("\(mirror)/\(folder)") {
                let relative = "\(folder)/\(name)"
                if name.hasSuffix(".lock") {
                    found.append(relative)
                } else if FileIO.isDirectory("\(mirror)/\(relative)") {
                    folders.append(relative)
                }
            }
        }
        return found.sorted()
    }

    /// True when a process (other than this one) has its working folder in the mirror.
    static func inUse(_ mirror: String) -> Bool {
        guard let real = realpath(mirror, nil) else { return false }
        let root = String(cString: real)
        free(real)
        let me = getpid()
        for entry in FileIO.list("/proc") {
            guard let pid = Int32(entry), pid != me else { continue }
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let count = readlink("/proc/\(entry)/cwd", &buffer, buffer.count - 1)
            guard count > 0 else { continue }
            let cwd = String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if cwd == root || cwd.hasPrefix(root + "/") { return true }
        }
        return false
    }
}
