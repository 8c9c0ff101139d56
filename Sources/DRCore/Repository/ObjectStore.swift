public import Foundation

/// What an object holds; decides its place in the repository.
public enum ObjectType: String, Sendable, Codable, CaseIterable {
    /// Snapshot data (bundles, archives, exports): `objects/ab/<sha256>`.
    case data
    /// A snapshot manifest, listable on its own for catalog recovery: `snapshots/<sha256>`.
    case manifest
    /// An encrypted copy of the catalog and the config (`drctl catalog recover`):
    /// `catalogs/<sha256>`. Never recorded in the catalog itself.
    case catalog
}

/// An object as stored: named by the SHA-256 of its stored (possibly encrypted) bytes.
public struct StoredObject: Sendable, Hashable, Codable {
    public var type: ObjectType
    public var sha256: String
    /// Stored size in bytes.
    public var size: Int64

    public init(type: ObjectType, sha256: String, size: Int64) {
        self.type = type
        self.sha256 = sha256
        self.size = size
    }
}

/// A content-addressed, immutable object store: ``LocalRepository`` (a folder) or ``S3Repository`` (a bucket prefix).
///
/// Writers make an object durable before returning it; readers check every byte's
/// hash against the object's name and throw ``DRError/Code/dataCorrupt`` on mismatch.
public protocol ObjectStore: Sendable {
    /// The name of the repository in the config (`default` for the `repository:` shorthand).
    var name: String { get }
    /// The random id written in the repository's `config` object when it was created.
    var repositoryID: String { get }
    /// A human description of where it is (a path or URL).
    var location: String { get }

    /// Stores the bytes `produce` emits and returns the durable object.
    func write(
        type: ObjectType, _ produce: (_ emit: (UnsafeRawBufferPointer) throws -> Void) throws -> Void
    ) throws -> StoredObject

    /// Streams an object's bytes to `consume`, then verifies size and hash. Bytes passed
    /// to `consume` are tentative until this returns without throwing.
    func read(_ object: StoredObject, _ consume: (UnsafeRawBufferPointer) throws -> Void) throws

    /// Opens an object for pull-based reading; the stream verifies size and hash when it
    /// reaches the end and throws ``DRError/Code/dataCorrupt`` there on mismatch.
    func open(_ object: StoredObject) throws -> any ObjectInputStream

    /// The stored size of an object, or nil when it is absent.
    func size(of type: ObjectType, sha256: String) -> Int64?

    /// The names of all objects of a type.
    func list(_ type: ObjectType) throws -> [String]

    /// Deletes an object (used by prune only).
    func delete(_ type: ObjectType, sha256: String) throws

    /// When an object's file was last written, or nil when it is absent or the store cannot tell.
    func modificationDate(of type: ObjectType, sha256: String) -> Date?

    /// Deletes an object unless it was written at or after `cutoff` (a concurrent backup
    /// writing it again); true when it is gone. Prune's garbage collection uses this.
    func delete(_ type: ObjectType, sha256: String, ifWrittenBefore cutoff: Date) throws -> Bool

    /// Writes (or overwrites) the small lock file `locks/<name>` (``RepositoryLock``).
    func writeLock(_ name: String, _ bytes: [UInt8]) throws
    /// Every lock file: its name and content.
    func readLocks() throws -> [(name: String, bytes: [UInt8])]
    /// Deletes a lock file (absent is fine).
    func removeLock(_ name: String) throws

    /// Cleans what killed writers left in the store's staging area (prune only, holding
    /// the data folder's lock): unfinished writes older than `cutoff`, and objects a killed
    /// prune had moved aside (put back when `isReferenced`, else deleted).
    func cleanTemporaryFiles(writtenBefore cutoff: Date, isReferenced: (ObjectType, String) -> Bool) -> TemporaryCleanup
}

extension ObjectStore {
    public func modificationDate(of type: ObjectType, sha256: String) -> Date? { nil }

    /// Stores without a staging area of their own have nothing to clean.
    public func cleanTemporaryFiles(
        writtenBefore cutoff: Date, isReferenced: (ObjectType, String) -> Bool
    ) -> TemporaryCleanup { TemporaryCleanup() }

    public func delete(_ type: ObjectType, sha256: String, ifWrittenBefore cutoff: Date) throws -> Bool {
        if let written = modificationDate(of: type, sha256: sha256), written >= cutoff { return false }
        try delete(type, sha256: sha256)
        return true
    }
}

/// Bytes pulled from an object. `read` returns 0 only at the end, after verification.
public protocol ObjectInputStream: AnyObject {
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}
