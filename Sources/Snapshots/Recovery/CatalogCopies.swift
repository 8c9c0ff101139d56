public import DRCore
public import Foundation
internal import Logging

/// Encrypted copies of the catalog and the config in the repository (`catalogs/`), written
/// after every backup run and prune, so that a machine that lost its data folder can get
/// everything back with only the repository and the age identity (`drctl catalog recover`).
///
/// A copy is one object: the line `drctl-catalog-copy 1`, a JSON ``Header`` line, the
/// catalog database (SQLite online backup, taken while readers and writers go on), then the
/// config file's bytes. It is encrypted to the configured recipients like every object.
public enum CatalogCopies {
    /// How many copies prune keeps (the newest, by write time).
    public static let kept = 5
    static let magic = "drctl-catalog-copy 1\n"

    /// What a copy holds.
    public struct Header: Codable, Sendable {
        public var createdAt: String
        public var drctlVersion: String
        public var repositoryID: String
        /// Where the config was when the copy was taken.
        public var configPath: String
        public var catalogBytes: Int64
        public var configBytes: Int64
        public var snapshots: Int
    }

    /// A copy found in the repository.
    public struct Copy: Sendable {
        public var header: Header
        public var object: EncodedObject
        public var createdAt: Date { ISO8601.parse(header.createdAt) ?? .distantPast }
    }

    /// Writes a copy of the workspace's catalog and config into its repository.
    @discardableResult
    public static func save(_ workspace: Workspace) throws -> StoredObject {
        let scratch = try workspace.makeScratchDirectory("catalog-copy")
        defer { FileIO.remove(scratch) }
        let database = "\(scratch)/catalog.db"
        try workspace.catalog.copy(to: database)
        let catalogBytes = FileIO.size(database) ?? 0
        let config = try FileIO.read(workspace.config.file)
        let header = Header(
            createdAt: ISO8601.format(workspace.now()), drctlVersion: DRVersion.current,
            repositoryID: workspace.store.repositoryID, configPath: workspace.config.file, catalogBytes: catalogBytes,
            configBytes: Int64(config.count), snapshots: try workspace.catalog.snapshots().count)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // Streamed into the (encrypting) object writer: no second copy on disk.
        let object = try workspace.codec.write(type: .catalog) { emit in
            try (Array(magic.utf8) + Array(try encoder.encode(header)) + [0x0a]).withUnsafeBytes { try emit($0) }
            var reader = try FileReader(path: database)
            defer { reader.close() }
            while let chunk = try reader.next() { try chunk.withUnsafeBytes { try emit($0) } }
            try config.withUnsafeBytes { try emit($0) }
        }
        for target in workspace.repositories.dropFirst() {
            try Replication.copy(object.stored, to: target, in: workspace)
        }
        workspace.logger.info("catalog copy \(object.stored.sha256.prefix(12)) written to repository \(workspace.store.name) (\(header.snapshots) snapshot(s))")
        return object.stored
    }

    /// Saves a copy unless `catalog_copies: false`; a failure is logged, never thrown (the
    /// backup it follows succeeded).
    public static func saveAfterRun(_ workspace: Workspace) {
        guard workspace.config.catalogCopies else { return }
        do { try save(workspace) } catch {
            workspace.logger.error("could not copy the catalog into the repository: \(DRError.wrap(error).description)")
        }
    }

    /// Every copy in `codec`'s repository whose header decrypts, newest first; the others
    /// are returned as problems (object and reason).
    public static func list(_ codec: ObjectCodec) throws -> (copies: [Copy], problems: [String]) {
        var copies: [Copy] = []
        var problems: [String] = []
        for sha in try codec.store.list(.catalog) {
            guard let size = codec.store.size(of: .catalog, sha256: sha) else { continue }
            let stored = StoredObject(type: .catalog, sha256: sha, size: size)
            do {
                let object = EncodedObject(stored: stored, plainSize: 0, encryption: try encryption(of: stored, in: codec.store))
                copies.append(Copy(header: try readHeader(object, codec: codec).header, object: object))
            } catch {
                problems.append("catalog copy \(sha.prefix(12)): \(DRError.describe(error))")
            }
        }
        return (copies.sorted { $0.createdAt > $1.createdAt }, problems)
    }

    /// Whether a stored object is an age file (by its first bytes).
    static func encryption(of stored: StoredObject, in store: any ObjectStore) throws -> ObjectEncryption {
        let stream = try store.open(stored)
        let prefix = Array("age-encryption.org/v1".utf8)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: prefix.count, alignment: 1)
        defer { buffer.deallocate() }
        var filled = 0
        while filled < prefix.count {
            let n = try stream.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled...]))
            if n == 0 { break }
            filled += n
        }
        return Array(buffer.prefix(filled)) == prefix ? .age : .none
    }

    /// The header of a copy and the stream positioned after it.
    static func readHeader(_ object: EncodedObject, codec: ObjectCodec) throws -> (header: Header, stream: any ObjectInputStream, rest: [UInt8]) {
        let stream = try codec.open(object)
        var buffered: [UInt8] = []
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
        defer { chunk.deallocate() }
        var newlines: [Int] = []
        while newlines.count < 2 {
            let n = try stream.read(into: chunk)
            guard n > 0 else { throw DRError(.dataCorrupt, "not a catalog copy (no header)") }
            let start = buffered.count
            buffered += chunk.prefix(n)
            for index in start..<buffered.count where buffered[index] == 0x0a && newlines.count < 2 { newlines.append(index) }
            guard buffered.count < 1 << 20 || newlines.count == 2 else { throw DRError(.dataCorrupt, "not a catalog copy (header too long)") }
        }
        guard String(decoding: buffered[..<(newlines[0] + 1)], as: UTF8.self) == magic else {
            throw DRError(.dataCorrupt, "not a catalog copy (or a newer format)")
        }
        let header = try JSONDecoder().decode(Header.self, from: Data(buffered[(newlines[0] + 1)..<newlines[1]]))
        return (header, stream, Array(buffered[(newlines[1] + 1)...]))
    }

    /// Writes a copy's catalog to `catalogPath` and returns the config's bytes; reads the
    /// whole object, so its hash and encryption are checked before anything is kept.
    public static func extract(_ copy: Copy, codec: ObjectCodec, catalogPath: String) throws -> [UInt8] {
        let (header, stream, rest) = try readHeader(copy.object, codec: codec)
        let partial = "\(catalogPath).partial-\(FileIO.randomHex(4))"
        var writer = try FileWriter(path: partial, mode: 0o600)
        var remaining = header.catalogBytes
        var config: [UInt8] = []
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { chunk.deallocate() }
        do {
            var pending = rest
            while true {
                let forCatalog = Int(min(Int64(pending.count), remaining))
                if forCatalog > 0 {
                    try writer.write(Array(pending.prefix(forCatalog)))
                    remaining -= Int64(forCatalog)
                }
                config += pending.dropFirst(forCatalog)
                guard Int64(config.count) <= header.configBytes else {
                    throw DRError(.dataCorrupt, "catalog copy \(copy.object.stored.sha256.prefix(12)) holds more bytes than its header says")
                }
                let n = try stream.read(into: chunk)
                if n == 0 { break }
                pending = Array(chunk.prefix(n))
            }
            guard remaining == 0, Int64(config.count) == header.configBytes else {
                throw DRError(.dataCorrupt, "catalog copy \(copy.object.stored.sha256.prefix(12)) is truncated")
            }
            try writer.sync()
            writer.close()
            try FileIO.rename(partial, to: catalogPath)
        } catch {
            writer.close()
            FileIO.remove(partial)
            throw error
        }
        return config
    }
}
