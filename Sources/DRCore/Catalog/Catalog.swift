import Foundation
internal import GRDB
public import Logging

/// The SQLite catalog: runs, source attempts, snapshots, objects and git refs.
///
/// WAL mode (readers never block the writer), foreign keys on, versioned migrations.
/// A snapshot row and everything it references are written in one transaction, after
/// its objects are durable in the repository.
public final class Catalog: Sendable {
    public let path: String
    let pool: DatabasePool
    let logger: Logger

    init(path: String, pool: DatabasePool, logger: Logger) {
        self.path = path
        self.pool = pool
        self.logger = logger
    }

    /// Opens the catalog at `path`, creating it when `create` is true, and migrates it.
    public static func open(path: String, create: Bool = false, logger: Logger) throws -> Catalog {
        if !create && !FileIO.exists(path) {
            throw DRError(
                .notFound, "no catalog at \(path)",
                hint: "run `drctl init` to create one, or fix `catalog:` in drctl.yaml")
        }
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty && !FileIO.isDirectory(dir) { try FileIO.createDirectory(dir, mode: 0o700) }
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(30)
        configuration.label = "drctl.catalog"
        let pool: DatabasePool
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
        } catch {
            throw DRError(.io, "cannot open the catalog \(path)", cause: error)
        }
        let migrator = Catalog.migrator
        do {
            if try pool.read({ try migrator.hasBeenSuperseded($0) }) {
                throw DRError(
                    .refused, "the catalog \(path) was written by a newer drctl",
                    hint: "upgrade drctl; this version will not modify a newer catalog")
            }
            try migrator.migrate(pool)
        } catch let error as DRError {
            throw error
        } catch {
            throw DRError(.dataCorrupt, "cannot read the catalog \(path)", cause: error)
        }
        return Catalog(path: path, pool: pool, logger: logger)
    }

    /// Runs a read in a consistent snapshot of the database, mapping errors.
    func read<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try pool.read(body) } catch let error as DRError { throw error } catch {
            throw DRError(.io, "catalog read failed (\(path))", cause: error)
        }
    }

    /// Runs a write transaction, mapping errors.
    func write<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try pool.write(body) } catch let error as DRError { throw error } catch {
            throw DRError(.io, "catalog write failed (\(path))", cause: error)
        }
    }

    /// Writes a consistent copy of the catalog to a new database at `path` with SQLite's
    /// online backup API; readers and writers go on meanwhile.
    public func copy(to path: String) throws {
        do {
            // A scratch file: durability comes from the repository object it becomes.
            var configuration = Configuration()
            configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = OFF") }
            let target = try DatabaseQueue(path: path, configuration: configuration)
            try pool.backup(to: target)
            try target.close()
        } catch {
            throw DRError(.io, "cannot copy the catalog \(self.path) to \(path)", cause: error)
        }
    }

    /// `PRAGMA integrity_check`; returns the problems found (empty when healthy).
    public func integrityProblems() throws -> [String] {
        try read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }.filter { $0 != "ok" }
    }
}
