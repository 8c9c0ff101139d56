#if canImport(Glibc)
import Glibc
#endif
public import Foundation
public import Logging

/// Coordinates hosts that share a repository, as restic does: a backup holds a shared
/// lock, a prune an exclusive one, each a small file `locks/<kind>-<host>-<pid>-<random>`
/// in the repository (every repository of a set). After writing its own lock, a prune
/// refuses when any other live lock exists, and a backup refuses when a prune holds one;
/// when both start at once, both see each other and back off, which is safe.
///
/// A lock is ignored when it is marked released (a backup allowed to put but not delete,
/// as the recommended S3 policy is, overwrites its lock instead of deleting it), when it
/// is older than ``staleAfter``, or when it belongs to a process on this host that is gone.
/// The data folder's `flock` (`RunLock`) still orders runs on one host.
public final class RepositoryLock: @unchecked Sendable {
    /// What a lock is for.
    public enum Kind: String, Codable, Sendable {
        /// Adds objects: any number may run together.
        case backup
        /// Deletes objects: runs alone.
        case prune
    }

    /// The content of a lock file.
    public struct Info: Codable, Sendable {
        public var kind: Kind
        public var host: String
        public var pid: Int32
        public var createdAt: String
        public var released: Bool
    }

    /// Locks older than this are stale (a crashed host never removes its lock).
    public static let staleAfter: TimeInterval = 6 * 3600

    let store: any ObjectStore
    let name: String
    let info: Info
    let logger: Logger
    private var held = true

    init(store: any ObjectStore, name: String, info: Info, logger: Logger) {
        self.store = store
        self.name = name
        self.info = info
        self.logger = logger
    }

    deinit { release() }

    /// This machine's host name.
    public static var hostName: String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "unknown" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Takes a lock of `kind` on `store`, or throws ``DRError/Code/refused`` naming the
    /// conflicting lock (after removing its own).
    public static func acquire(_ kind: Kind, on store: any ObjectStore, logger: Logger, now: Date = Date()) throws -> RepositoryLock {
        let host = hostName
        let info = Info(kind: kind, host: host, pid: getpid(), createdAt: ISO8601.format(now), released: false)
        let safeHost = String(host.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." ? $0 : "_" })
        let name = "\(kind.rawValue)-\(safeHost)-\(getpid())-\(FileIO.randomHex(4))"
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try store.writeLock(name, Array(try encoder.encode(info)))
        let lock = RepositoryLock(store: store, name: name, info: info, logger: logger)
        let conflicts: [Info]
        do {
            conflicts = try live(in: store, except: name, now: now).filter { kind == .prune || $0.kind == .prune }
        } catch {
            lock.release()
            throw error
        }
        if let first = conflicts.first {
            lock.release()
            throw DRError(.refused, "repository \(store.location) is locked by a \(first.kind.rawValue) on \(first.host) (pid \(first.pid)) since \(first.createdAt)",
                          hint: kind == .prune ? "prune runs alone: try again when the other run has finished; a lock older than 6 h, or of a process on this host that is gone, is ignored"
                                               : "a prune is deleting objects: try again when it has finished")
        }
        return lock
    }

    /// The live locks in `store` other than `name`.
    static func live(in store: any ObjectStore, except name: String, now: Date) throws -> [Info] {
        let host = hostName
        return try store.readLocks().compactMap { entry -> Info? in
            guard entry.name != name, let info = try? JSONDecoder().decode(Info.self, from: Data(entry.bytes)) else { return nil }
            if info.released { return nil }
            if let created = ISO8601.parse(info.createdAt), now.timeIntervalSince(created) > staleAfter { return nil }
            if info.host == host, kill(info.pid, 0) != 0, errno == ESRCH { return nil }
            return info
        }
    }

    /// Removes the lock (or, without the right to delete, marks it released). Idempotent.
    public func release() {
        guard held else { return }
        held = false
        do {
            try store.removeLock(name)
        } catch {
            var released = info
            released.released = true
            do {
                try store.writeLock(name, Array(try JSONEncoder().encode(released)))
            } catch {
                logger.warning("could not remove or release the repository lock \(name): \(DRError.describe(error))")
            }
        }
    }

    /// Deletes lock files that are released or stale (prune does this; it has delete rights).
    public static func removeDead(in store: any ObjectStore, now: Date = Date()) throws -> Int {
        let host = hostName
        var removed = 0
        for entry in try store.readLocks() {
            guard let info = try? JSONDecoder().decode(Info.self, from: Data(entry.bytes)) else { continue }
            let stale = ISO8601.parse(info.createdAt).map { now.timeIntervalSince($0) > staleAfter } ?? false
            let gone = info.host == host && kill(info.pid, 0) != 0 && errno == ESRCH
            if info.released || stale || gone {
                try store.removeLock(entry.name)
                removed += 1
            }
        }
        return removed
    }
}
