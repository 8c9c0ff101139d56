public import Foundation
public import Logging
internal import Crypto

/// A repository in an S3 bucket (AWS, MinIO, Ceph RGW …), laid out like ``LocalRepository``:
///
/// ```
/// <prefix>/config                 format version, repository id (JSON)
/// <prefix>/objects/ab/abcdef…     data objects, named by the SHA-256 of their bytes
/// <prefix>/snapshots/abcdef…      manifest objects
/// ```
///
/// A write streams the object into a private temporary file under the workspace's tmp
/// folder while hashing it (its name is known only at the end), then uploads the file
/// with its checksum and removes it. Reads hash every byte and compare with the name.
public struct S3Repository: ObjectStore {
    public let name: String
    public let repositoryID: String
    public let config: S3RepositoryConfig
    public var location: String { config.endpoint.map { "\(config.url) (\($0))" } ?? config.url }
    /// The client, for tools and tests that need plain S3 calls.
    public let client: S3Client
    private let tmpDir: String
    private let keyPrefix: String
    /// Bytes fetched per ranged GET by ``open(_:)``.
    static let streamChunk: Int64 = 8 << 20

    /// Opens an existing repository: reads and checks its `config` object.
    /// - Parameters:
    ///   - environment: the credentials (`AWS_ACCESS_KEY_ID` …), region and proxy variables.
    ///   - tmpDir: where objects being written are staged (the workspace's tmp folder).
    public init(
        name: String, config: S3RepositoryConfig, environment: Environment, tmpDir: String,
        options: S3Client.Options = S3Client.Options(), logger: Logger
    ) throws {
        let client = try Self.makeClient(config: config, environment: environment, options: options, logger: logger)
        let prefix = config.prefix.isEmpty ? "" : config.prefix + "/"
        let bytes: [UInt8]
        do {
            bytes = try client.getBytes(key: prefix + "config")
        } catch let error as DRError where error.code == .notFound && error.s3Error?.code != "NoSuchBucket" {
            throw DRError(
                .notFound, "no drctl repository at \(config.url) (its config object is missing)",
                hint: "run `drctl init` to create one, or fix the repository's `url:` in drctl.yaml")
        }
        let settings: LocalRepository.Settings
        do {
            settings = try JSONDecoder().decode(LocalRepository.Settings.self, from: Data(bytes))
        } catch {
            throw DRError(.dataCorrupt, "the repository config \(config.url)/config is unreadable", cause: error)
        }
        guard settings.format == LocalRepository.formatVersion else {
            throw DRError(
                .refused, "repository \(config.url) has format \(settings.format); this drctl reads format \(LocalRepository.formatVersion)",
                hint: "use a drctl release that supports that format")
        }
        self.init(name: name, id: settings.id, config: config, client: client, tmpDir: tmpDir)
    }

    private init(name: String, id: String, config: S3RepositoryConfig, client: S3Client, tmpDir: String) {
        self.name = name
        repositoryID = id
        self.config = config
        self.client = client
        self.tmpDir = tmpDir
        keyPrefix = config.prefix.isEmpty ? "" : config.prefix + "/"
    }

    static func makeClient(
        config: S3RepositoryConfig, environment: Environment, options: S3Client.Options, logger: Logger
    ) throws -> S3Client {
        let credentials = try S3Credentials.resolve(
            file: config.credentialsFile, profile: config.profile, environment: environment.variables)
        return try S3Client(config: config, credentials: credentials, environment: environment.variables,
                            options: options, logger: logger)
    }

    /// Creates a repository under the prefix (or opens the one there). A prefix that holds
    /// other objects but no config is refused.
    @discardableResult
    public static func create(
        name: String, config: S3RepositoryConfig, environment: Environment, tmpDir: String,
        options: S3Client.Options = S3Client.Options(), logger: Logger, now: Date = Date()
    ) throws -> S3Repository {
        let client = try makeClient(config: config, environment: environment, options: options, logger: logger)
        let prefix = config.prefix.isEmpty ? "" : config.prefix + "/"
        // A GET, not a HEAD: a refusal then carries S3's error code (SignatureDoesNotMatch …).
        do {
            _ = try client.getBytes(key: prefix + "config")
            return try S3Repository(name: name, config: config, environment: environment, tmpDir: tmpDir,
                                    options: options, logger: logger)
        } catch let error as DRError where error.code == .notFound && error.s3Error?.code != "NoSuchBucket" {
            // no repository yet
        }
        var existing: [String] = []
        do {
            try client.list(prefix: prefix, maxKeys: 1) { info in
                if existing.isEmpty { existing.append(info.key) }
            }
        } catch let error as DRError where error.s3Error?.code == "NoSuchBucket" {
            throw DRError(.notFound, "cannot create a repository at \(config.url): the bucket \(config.bucket) does not exist",
                          hint: "create the bucket first (drctl never creates buckets)", cause: error.cause)
        }
        if let first = existing.first {
            throw DRError(.refused, "cannot create a repository at \(config.url): the prefix is not empty (it holds \(first))",
                          hint: "choose an empty prefix, e.g. s3://\(config.bucket)/drctl")
        }
        let settings = LocalRepository.Settings(format: LocalRepository.formatVersion, id: FileIO.randomHex(16), createdAt: ISO8601.format(now))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try client.put(key: prefix + "config", bytes: Array(try encoder.encode(settings)) + [0x0a])
        return S3Repository(name: name, id: settings.id, config: config, client: client, tmpDir: tmpDir)
    }

    func key(_ type: ObjectType, _ sha: String) -> String {
        switch type {
        case .data: "\(keyPrefix)objects/\(sha.prefix(2))/\(sha)"
        case .manifest: "\(keyPrefix)snapshots/\(sha)"
        case .catalog: "\(keyPrefix)catalogs/\(sha)"
        }
    }

    public func write(
        type: ObjectType, _ produce: (_ emit: (UnsafeRawBufferPointer) throws -> Void) throws -> Void
    ) throws -> StoredObject {
        try FileIO.createDirectory(tmpDir, mode: 0o700)
        let temp = "\(tmpDir)/s3-\(FileIO.randomHex(12)).partial"
        defer { FileIO.remove(temp) }
        var writer = try HashingFileWriter(path: temp, direct: false)
        do {
            try produce { try writer.write($0) }
            writer.close()
        } catch {
            writer.close()
            throw error
        }
        let sha = writer.sha256
        try client.putFile(key: key(type, sha), path: temp, sha256: sha, headers: retentionHeaders())
        return StoredObject(type: type, sha256: sha, size: writer.size)
    }

    public func read(_ object: StoredObject, _ consume: (UnsafeRawBufferPointer) throws -> Void) throws {
        var hasher = SHA256()
        var size: Int64 = 0
        do {
            try client.get(key: key(object.type, object.sha256)) { bytes in
                hasher.update(bufferPointer: bytes)
                size += Int64(bytes.count)
                try consume(bytes)
            }
        } catch let error as DRError where error.code == .notFound {
            throw missing(object)
        }
        try verify(object, size: size, sha: Data(hasher.finalize()).hexString)
    }

    func missing(_ object: StoredObject) -> DRError {
        DRError(.dataCorrupt, "object \(object.sha256) is missing from repository \(name) (\(config.url)/\(key(object.type, object.sha256).dropFirst(keyPrefix.count)))")
    }

    func verify(_ object: StoredObject, size: Int64, sha: String) throws {
        guard size == object.size, sha == object.sha256 else {
            throw DRError(
                .dataCorrupt,
                "object \(object.sha256) in repository \(name) is corrupt: expected \(object.size) bytes with that SHA-256, read \(size) bytes hashing to \(sha)")
        }
    }

    public func open(_ object: StoredObject) throws -> any ObjectInputStream {
        S3ObjectStream(repository: self, object: object, key: key(object.type, object.sha256))
    }

    public func size(of type: ObjectType, sha256: String) -> Int64? {
        do {
            return try client.head(key: key(type, sha256))?.size
        } catch {
            client.logger.warning("cannot check an object in S3", metadata: ["error": "\(DRError.describe(error))"])
            return nil
        }
    }

    public func modificationDate(of type: ObjectType, sha256: String) -> Date? {
        (try? client.head(key: key(type, sha256)))?.flatMap(\.lastModified)
    }

    public func list(_ type: ObjectType) throws -> [String] {
        let folder = switch type {
        case .data: "objects/"
        case .manifest: "snapshots/"
        case .catalog: "catalogs/"
        }
        var names: [String] = []
        try client.list(prefix: keyPrefix + folder) { info in
            let name = info.key.split(separator: "/").last.map(String.init) ?? ""
            if name.count == 64 { names.append(name) }
        }
        return names
    }

    public func delete(_ type: ObjectType, sha256: String) throws {
        try client.delete(key: key(type, sha256))
    }
}

/// Pulls an object in ranged GETs of ``S3Repository/streamChunk`` bytes (memory stays
/// bounded, a broken transfer costs one chunk); verifies the total size S3 reports, then
/// the hash at the end.
final class S3ObjectStream: ObjectInputStream {
    private let repository: S3Repository
    private let object: StoredObject
    private let key: String
    private var hasher = SHA256()
    private var position: Int64 = 0
    private var buffer: [UInt8] = []
    private var bufferOffset = 0
    private var finished = false

    init(repository: S3Repository, object: StoredObject, key: String) {
        self.repository = repository
        self.object = object
        self.key = key
    }

    func read(into target: UnsafeMutableRawBufferPointer) throws -> Int {
        guard !finished, target.count > 0 else { return 0 }
        if bufferOffset == buffer.count {
            if position >= object.size {
                try finish()
                return 0
            }
            try fetch()
        }
        let n = min(target.count, buffer.count - bufferOffset)
        buffer.withUnsafeBytes { raw in
            target.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[bufferOffset..<bufferOffset + n]))
        }
        hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(target)[0..<n]))
        bufferOffset += n
        return n
    }

    private func fetch() throws {
        let end = min(position + S3Repository.streamChunk, object.size) - 1
        var chunk: [UInt8] = []
        chunk.reserveCapacity(Int(end - position + 1))
        do {
            try repository.client.get(key: key, range: position...end) { chunk.append(contentsOf: $0) }
        } catch let error as DRError where error.code == .notFound {
            throw repository.missing(object)
        } catch let error as DRError where error.s3Error?.status == 416 {
            try repository.verify(object, size: position, sha: "(the object ends before byte \(position))")
            throw error
        }
        guard !chunk.isEmpty else {
            try repository.verify(object, size: position, sha: "(object shorter than recorded)")
            return
        }
        position += Int64(chunk.count)
        buffer = chunk
        bufferOffset = 0
    }

    /// The whole object was read: its stored size must be the recorded one, and the hash the name.
    private func finish() throws {
        finished = true
        guard let info = try repository.client.head(key: key) else { throw repository.missing(object) }
        let sha = Data(hasher.finalize()).hexString
        try repository.verify(object, size: info.size, sha: sha)
    }
}

extension S3Repository {
    public func writeLock(_ name: String, _ bytes: [UInt8]) throws {
        try client.put(key: "\(keyPrefix)locks/\(name)", bytes: bytes)
    }

    public func readLocks() throws -> [(name: String, bytes: [UInt8])] {
        try client.list(prefix: "\(keyPrefix)locks/").compactMap { info in
            guard let name = info.key.split(separator: "/").last.map(String.init), !name.isEmpty else { return nil }
            return (name, try client.getBytes(key: info.key))
        }
    }

    public func removeLock(_ name: String) throws {
        try client.delete(key: "\(keyPrefix)locks/\(name)")
    }
}

extension S3Repository {
    /// Object Lock retention for a new object (`object_lock_days:`), else none. Lock files
    /// and the repository config are not retained: they are rewritten and deleted.
    func retentionHeaders(now: Date = Date()) -> [(String, String)] {
        guard let days = config.objectLockDays else { return [] }
        let until = now.addingTimeInterval(Double(days) * 86_400)
        return [("x-amz-object-lock-mode", config.objectLockMode),
                ("x-amz-object-lock-retain-until-date", until.formatted(.iso8601))]
    }
}
