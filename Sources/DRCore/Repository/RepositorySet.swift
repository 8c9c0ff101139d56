public import Foundation
public import Logging

/// Several repositories (`repositories:`) seen as one store: writes go to the first (the
/// primary; backups then copy each snapshot to the others, `copy_to:`); reads use the first
/// repository that holds the object with its recorded size, so a restore still works when
/// one repository lost objects, and the log says which repository served them.
public struct RepositorySet: ObjectStore {
    /// The repositories in config order; the first is the primary.
    public let stores: [any ObjectStore]
    let logger: Logger

    /// A set of at least one repository.
    public init(_ stores: [any ObjectStore], logger: Logger) {
        precondition(!stores.isEmpty, "a repository set needs a repository")
        self.stores = stores
        self.logger = logger
    }

    public var primary: any ObjectStore { stores[0] }
    public var name: String { primary.name }
    public var repositoryID: String { primary.repositoryID }
    public var location: String { stores.map(\.location).joined(separator: ", ") }

    public func write(
        type: ObjectType, _ produce: (_ emit: (UnsafeRawBufferPointer) throws -> Void) throws -> Void
    ) throws -> StoredObject {
        try primary.write(type: type, produce)
    }

    /// The first repository holding `object` with its recorded size.
    func holder(of object: StoredObject) throws -> any ObjectStore {
        var absent: [String] = []
        for store in stores {
            if store.size(of: object.type, sha256: object.sha256) == object.size {
                if !absent.isEmpty {
                    logger.warning("object \(object.sha256.prefix(12)) read from repository \(store.name) (missing or truncated in \(absent.joined(separator: ", ")))")
                }
                return store
            }
            absent.append(store.name)
        }
        throw DRError(.dataCorrupt, "object \(object.sha256) is missing from every repository (\(absent.joined(separator: ", ")))",
                      hint: "run `drctl verify` to see which snapshots are affected")
    }

    public func read(_ object: StoredObject, _ consume: (UnsafeRawBufferPointer) throws -> Void) throws {
        try holder(of: object).read(object, consume)
    }

    public func open(_ object: StoredObject) throws -> any ObjectInputStream {
        try holder(of: object).open(object)
    }

    public func size(of type: ObjectType, sha256: String) -> Int64? {
        for store in stores {
            if let size = store.size(of: type, sha256: sha256) { return size }
        }
        return nil
    }

    public func list(_ type: ObjectType) throws -> [String] {
        var names = Set<String>()
        for store in stores { names.formUnion(try store.list(type)) }
        return names.sorted()
    }

    public func delete(_ type: ObjectType, sha256: String) throws {
        for store in stores where store.size(of: type, sha256: sha256) != nil { try store.delete(type, sha256: sha256) }
    }

    public func modificationDate(of type: ObjectType, sha256: String) -> Date? {
        stores.compactMap { $0.modificationDate(of: type, sha256: sha256) }.max()
    }

    public func delete(_ type: ObjectType, sha256: String, ifWrittenBefore cutoff: Date) throws -> Bool {
        var gone = true
        for store in stores where store.size(of: type, sha256: sha256) != nil {
            gone = try store.delete(type, sha256: sha256, ifWrittenBefore: cutoff) && gone
        }
        return gone
    }
}

extension RepositorySet {
    public func writeLock(_ name: String, _ bytes: [UInt8]) throws {
        for store in stores { try store.writeLock(name, bytes) }
    }

    public func readLocks() throws -> [(name: String, bytes: [UInt8])] {
        var seen = Set<String>()
        return try stores.flatMap { try $0.readLocks() }.filter { seen.insert($0.name).inserted }
    }

    public func removeLock(_ name: String) throws {
        for store in stores { try store.removeLock(name) }
    }

    public func cleanTemporaryFiles(
        writtenBefore cutoff: Date, isReferenced: (ObjectType, String) -> Bool
    ) -> TemporaryCleanup {
        var total = TemporaryCleanup()
        for store in stores {
            let one = store.cleanTemporaryFiles(writtenBefore: cutoff, isReferenced: isReferenced)
            total.partialRemoved += one.partialRemoved
            total.asideRemoved += one.asideRemoved
            total.restored += one.restored
            total.bytesFreed += one.bytesFreed
        }
        return total
    }
}

extension Workspace {
    /// Every configured repository, primary first.
    public var repositories: [any ObjectStore] {
        (store as? RepositorySet)?.stores ?? [store]
    }
}
