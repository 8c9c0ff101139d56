#if canImport(Glibc)
import Glibc
#endif
public import Foundation
internal import Crypto

/// A repository in a local folder.
///
/// ```
/// <root>/config                 format version, repository id (JSON)
/// <root>/objects/ab/abcdef…     data objects, named by the SHA-256 of their bytes
/// <root>/snapshots/abcdef…      manifest objects
/// <root>/catalogs/abcdef…       encrypted catalog + config copies (created on first use)
/// <root>/tmp/                   objects being written (same filesystem, so rename is atomic)
/// ```
public struct LocalRepository: ObjectStore {
    /// The repository format this build reads and writes.
    public static let formatVersion = 1

    /// The contents of `<root>/config`.
    public struct Settings: Codable, Sendable {
        public var format: Int
        public var id: String
        public var createdAt: String

        enum CodingKeys: String, CodingKey {
            case format, id
            case createdAt = "created_at"
        }
    }

    public let name: String
    public let root: String
    public let repositoryID: String
    public var location: String { root }
    /// The test-only crash switch (``CrashPoints``); the workspace sets it.
    public var crash: CrashPoints = .disabled

    /// Opens an existing repository, checking its format version.
    public init(name: String, root: String) throws {
        self.name = name
        self.root = root
        let configPath = "\(root)/config"
        guard FileIO.exists(configPath) else {
            throw DRError(
                .notFound, "no drctl repository at \(root) (its config file is missing)",
                hint: "run `drctl init` to create one, or fix `repository:` in drctl.yaml")
        }
        let settings: Settings
        do {
            settings = try JSONDecoder().decode(Settings.self, from: Data(FileIO.read(configPath)))
        } catch {
            throw DRError(.dataCorrupt, "the repository config \(configPath) is unreadable", cause: error)
        }
        guard settings.format == Self.formatVersion else {
            throw DRError(
                .refused, "repository \(root) has format \(settings.format); this drctl reads format \(Self.formatVersion)",
                hint: "use a drctl release that supports that format")
        }
        repositoryID = settings.id
    }

    /// Creates a new, empty repository (the folder may exist but must hold no repository).
    @discardableResult
    public static func create(name: String, root: String, now: Date = Date()) throws -> LocalRepository {
        if FileIO.exists("\(root)/config") {
            return try LocalRepository(name: name, root: root)
        }
        if FileIO.isDirectory(root), !FileIO.list(root).isEmpty {
            throw DRError(.refused, "cannot create a repository in \(root): the folder is not empty")
        }
        for sub in ["", "/objects", "/snapshots", "/tmp"] { try FileIO.createDirectory(root + sub, mode: 0o700) }
        let settings = Settings(format: formatVersion, id: FileIO.randomHex(16), createdAt: ISO8601.format(now))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try FileIO.atomicWrite(Array(try encoder.encode(settings)) + [0x0a], to: "\(root)/config", mode: 0o600)
        return try LocalRepository(name: name, root: root)
    }

    func path(_ type: ObjectType, _ sha: String) -> String {
        switch type {
        case .data: "\(root)/objects/\(sha.prefix(2))/\(sha)"
        case .manifest: "\(root)/snapshots/\(sha)"
        case .catalog: "\(root)/catalogs/\(sha)"
        }
    }

    public func write(
        type: ObjectType, _ produce: (_ emit: (UnsafeRawBufferPointer) throws -> Void) throws -> Void
    ) throws -> StoredObject {
        try FileIO.createDirectory("\(root)/tmp", mode: 0o700)
        let temp = "\(root)/tmp/\(FileIO.randomHex(12)).partial"
        // Direct I/O: an object is not read back soon, so it should not fill the page cache.
        var writer = try HashingFileWriter(path: temp, direct: true)
        do {
            try produce { try writer.write($0) }
            crash.reach(.objectTmpWritten)
            try writer.sync()
            writer.close()
            crash.reach(.objectFsynced)
            let sha = writer.sha256
            let final = path(type, sha)
            let dir = (final as NSString).deletingLastPathComponent
            if !FileIO.isDirectory(dir) {
                try FileIO.createDirectory(dir, mode: 0o700)
                try FileIO.syncDirectory((dir as NSString).deletingLastPathComponent)
            }
            // Renaming over an existing copy is atomic and leaves identical bytes, and it
            // repairs a copy that was damaged in place (same name, bad content).
            try FileIO.rename(temp, to: final)
            crash.reach(.objectRenamed)
            try FileIO.syncDirectory(dir)
            return StoredObject(type: type, sha256: sha, size: writer.size)
        } catch {
            writer.close()
            FileIO.remove(temp)
            throw error
        }
    }

    public func read(_ object: StoredObject, _ consume: (UnsafeRawBufferPointer) throws -> Void) throws {
        let file = path(object.type, object.sha256)
        var reader: FileReader
        do {
            reader = try FileReader(path: file)
        } catch let error as DRError where error.code == .notFound {
            throw DRError(.dataCorrupt, "object \(object.sha256) is missing from repository \(name) (\(file))")
        }
        var hasher = SHA256()
        var size: Int64 = 0
        while let chunk = try reader.next() {
            hasher.update(data: chunk)
            size += Int64(chunk.count)
            try chunk.withUnsafeBytes { try consume($0) }
        }
        reader.close()
        let actual = hasher.finalize().hexString
        guard size == object.size, actual == object.sha256 else {
            throw DRError(
                .dataCorrupt,
                "object \(object.sha256) in repository \(name) is corrupt: expected \(object.size) bytes with that SHA-256, read \(size) bytes hashing to \(actual)")
        }
    }

    public func open(_ object: StoredObject) throws -> any ObjectInputStream {
        let file = path(object.type, object.sha256)
        let fd = Glibc.open(file, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw DRError(.dataCorrupt, "object \(object.sha256) is missing from repository \(name) (\(file))")
        }
        return LocalObjectStream(fd: fd, object: object, repository: name)
    }

    public func size(of type: ObjectType, sha256: String) -> Int64? {
        FileIO.size(path(type, sha256))
    }

    public func list(_ type: ObjectType) throws -> [String] {
        switch type {
        case .manifest:
            return FileIO.list("\(root)/snapshots").filter { $0.count == 64 }
        case .data:
            return FileIO.list("\(root)/objects").flatMap { FileIO.list("\(root)/objects/\($0)") }.filter { $0.count == 64 }
        case .catalog:
            return FileIO.list("\(root)/catalogs").filter { $0.count == 64 }
        }
    }

    public func delete(_ type: ObjectType, sha256: String) throws {
        let file = path(type, sha256)
        guard unlink(file) == 0 || errno == ENOENT else {
            throw DRError(.io, "cannot delete \(file)", cause: POSIXError.current)
        }
    }
}

extension LocalRepository {
    public func modificationDate(of type: ObjectType, sha256: String) -> Date? {
        var info = stat()
        guard stat(path(type, sha256), &info) == 0 else { return nil }
        return Date(timeIntervalSince1970: Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9)
    }

    /// Moves the object aside first, then checks its write time: a backup that renames a
    /// fresh copy into place meanwhile either lands after the move (its copy stays) or
    /// before it (the moved copy is young and goes back).
    public func delete(_ type: ObjectType, sha256: String, ifWrittenBefore cutoff: Date) throws -> Bool {
        let file = path(type, sha256)
        try FileIO.createDirectory("\(root)/tmp", mode: 0o700)
        // The name says what it was, so a prune killed right here can be undone.
        let aside = "\(root)/tmp/\(type.rawValue)-\(sha256)-\(FileIO.randomHex(4)).gc"
        guard Glibc.rename(file, aside) == 0 else {
            if errno == ENOENT { return true }
            throw DRError(.io, "cannot move \(file) aside for deletion", cause: POSIXError.current)
        }
        var info = stat()
        let written = stat(aside, &info) == 0
            ? Date(timeIntervalSince1970: Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9) : nil
        if let written, written >= cutoff {
            if FileIO.exists(file) { FileIO.remove(aside) } else { try FileIO.rename(aside, to: file) }
            return false
        }
        guard unlink(aside) == 0 || errno == ENOENT else {
            throw DRError(.io, "cannot delete \(aside)", cause: POSIXError.current)
        }
        return true
    }
}

extension LocalRepository {
    /// Cleans `tmp/` after processes that were killed or crashed: `.partial` files (objects
    /// being written) last changed before `cutoff` are deleted; `.gc` files (objects a prune
    /// moved aside before deleting) go back to their place when `isReferenced` says the
    /// catalog still names them and no copy is there, else are deleted. Temporary lock
    /// files of ended processes in `locks/` are deleted too. Only prune calls it,
    /// holding the data folder's lock, so no backup is writing meanwhile.
    public func cleanTemporaryFiles(
        writtenBefore cutoff: Date, isReferenced: (ObjectType, String) -> Bool
    ) -> TemporaryCleanup {
        var cleanup = TemporaryCleanup()
        let tmp = "\(root)/tmp"
        for name in FileIO.list(tmp) {
            let file = "\(tmp)/\(name)"
            var info = stat()
            guard lstat(file, &info) == 0 else { continue }
            let written = Date(timeIntervalSince1970: Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9)
            if name.hasSuffix(".partial") {
                guard written < cutoff else { continue }
                FileIO.remove(file)
                cleanup.partialRemoved += 1
                cleanup.bytesFreed += Int64(info.st_size)
            } else if name.hasSuffix(".gc") {
                let parts = name.dropLast(3).split(separator: "-")
                if parts.count == 3, let type = ObjectType(rawValue: String(parts[0])), parts[1].count == 64,
                   isReferenced(type, String(parts[1])), !FileIO.exists(path(type, String(parts[1]))) {
                    if (try? FileIO.rename(file, to: path(type, String(parts[1])))) != nil {
                        cleanup.restored.append(String(parts[1]))
                        continue
                    }
                }
                FileIO.remove(file)
                cleanup.asideRemoved += 1
                cleanup.bytesFreed += Int64(info.st_size)
            }
        }
        // A lock file is written atomically: a process killed meanwhile leaves its
        // temporary file (named for its pid) in locks/.
        for name in FileIO.list("\(root)/locks") where name.hasPrefix(".") && StagingName.isStale(name) {
            FileIO.remove("\(root)/locks/\(name)")
            cleanup.partialRemoved += 1
        }
        return cleanup
    }
}

/// What ``LocalRepository/cleanTemporaryFiles(writtenBefore:isReferenced:)`` did.
public struct TemporaryCleanup: Sendable, Codable, Hashable {
    /// Unfinished object writes deleted.
    public var partialRemoved = 0
    /// Objects a killed prune had moved aside, deleted.
    public var asideRemoved = 0
    /// Objects a killed prune had moved aside that the catalog still names, put back.
    public var restored: [String] = []
    public var bytesFreed: Int64 = 0

    public init() {}
}

/// Reads an object file, hashing as it goes; verifies at end of file.
final class LocalObjectStream: ObjectInputStream {
    private var fd: Int32
    private let object: StoredObject
    private let repository: String
    private var hasher = SHA256()
    private var size: Int64 = 0

    init(fd: Int32, object: StoredObject, repository: String) {
        self.fd = fd
        self.object = object
        self.repository = repository
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard fd >= 0 else { return 0 }
        while true {
            let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if n < 0 {
                if errno == EINTR { continue }
                throw DRError(.io, "cannot read object \(object.sha256)", cause: POSIXError.current)
            }
            if n > 0 {
                hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
                size += Int64(n)
                return n
            }
            Glibc.close(fd)
            fd = -1
            let actual = hasher.finalize().hexString
            guard size == object.size, actual == object.sha256 else {
                throw DRError(
                    .dataCorrupt,
                    "object \(object.sha256) in repository \(repository) is corrupt: expected \(object.size) bytes with that SHA-256, read \(size) bytes hashing to \(actual)")
            }
            return 0
        }
    }

    deinit { if fd >= 0 { Glibc.close(fd) } }
}

extension Sequence where Element == UInt8 {
    /// Lowercase hexadecimal.
    public var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// ISO 8601 timestamps in UTC with milliseconds, the format drctl writes everywhere.
public enum ISO8601 {
    public static func format(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }

    /// Parses `2026-11-22T10:00:00Z`, with or without fractional seconds or an offset.
    public static func parse(_ text: String) -> Date? {
        if let date = try? Date(text, strategy: .iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted)) { return date }
        if let date = try? Date(text, strategy: .iso8601) { return date }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }
}

extension LocalRepository {
    public func writeLock(_ name: String, _ bytes: [UInt8]) throws {
        try FileIO.createDirectory("\(root)/locks", mode: 0o700)
        try FileIO.atomicWrite(bytes, to: "\(root)/locks/\(name)", mode: 0o600)
    }

    public func readLocks() throws -> [(name: String, bytes: [UInt8])] {
        FileIO.list("\(root)/locks").filter { !$0.hasPrefix(".") }.compactMap { name in
            (try? FileIO.read("\(root)/locks/\(name)")).map { (name, $0) }
        }
    }

    public func removeLock(_ name: String) throws {
        FileIO.remove("\(root)/locks/\(name)")
    }
}
