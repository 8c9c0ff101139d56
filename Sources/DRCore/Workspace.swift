public import Foundation
public import Logging

/// Everything a command works with, opened from one config: catalog, repository,
/// object codec, data folder, tools' environment, logger and clock.
public struct Workspace: Sendable {
    public let config: DRConfig
    public let catalog: Catalog
    public let codec: ObjectCodec
    public let environment: Environment
    public let logger: Logger
    /// The clock; tests inject their own.
    public let now: @Sendable () -> Date
    /// The test-only crash switch, read from ``environment`` (`DRCTL_CRASH_AT`); disabled
    /// unless a crash test sets it.
    public let crash: CrashPoints

    public var store: any ObjectStore { codec.store }
    /// Scratch space on the data folder's filesystem.
    public var tmpDir: String { "\(config.dataDir)/tmp" }

    /// Opens the catalog and repository a config names. Warns (once per open) when
    /// nothing will be encrypted. `store` replaces the config's first repository (catalog
    /// recovery reads from the repository it recovers from); `createCatalog` creates a
    /// missing catalog; `insecurePermissions` lets the codec use an identity file others can
    /// read or change (`--insecure-permissions`).
    public static func open(
        config: DRConfig, environment: Environment, logger: Logger,
        now: @escaping @Sendable () -> Date = { Date() }, store: (any ObjectStore)? = nil, createCatalog: Bool = false,
        insecurePermissions: Bool = false
    ) throws -> Workspace {
        guard !config.repositories.isEmpty else {
            throw DRError(.config, "\(config.file): no repository is configured")
        }
        let crash = try CrashPoints.from(environment)
        let store = try store ?? {
            let tmpDir = "\(config.dataDir)/tmp"
            let opened = try config.repositories.enumerated().map { index, repository in
                do {
                    return try repository.open(tmpDir: tmpDir, environment: environment, logger: logger, crash: crash)
                } catch let error as DRError where error.code == .notFound && index > 0 {
                    // A further repository added to `repositories:` is created on first use
                    // (creation refuses a folder or prefix that holds anything else).
                    let created = try repository.create(tmpDir: tmpDir, environment: environment, logger: logger, crash: crash)
                    logger.notice("created repository \(repository.name) at \(repository.locationDescription)")
                    return created
                }
            }
            return opened.count == 1 ? opened[0] : RepositorySet(opened, logger: logger)
        }()
        let catalog = try Catalog.open(path: config.catalog, create: createCatalog, logger: logger)
        let recipients = try (config.encryption?.recipients ?? []).map { text in
            do { return try AgeRecipient(parsing: text) } catch {
                throw DRError(.config, "\(config.file): encryption.recipients: `\(text)` is not an age recipient (age1…)")
            }
        }
        if recipients.isEmpty {
            logger.warning("no encryption recipients configured in \(config.file): snapshots are stored unencrypted")
        }
        let codec = ObjectCodec(store: store, recipients: recipients, identityFile: config.encryption?.identity,
                                allowInsecureIdentity: insecurePermissions)
        try FileIO.createDirectory(config.dataDir, mode: 0o700)
        try FileIO.createDirectory("\(config.dataDir)/tmp", mode: 0o700)
        return Workspace(
            config: config, catalog: catalog, codec: codec, environment: environment, logger: logger, now: now, crash: crash)
    }

    /// A fresh private scratch folder under ``tmpDir``; the caller removes it. Its name
    /// carries this process's id, so ``removeStaleScratch()`` can tell a killed process's
    /// leftovers from a running one's.
    public func makeScratchDirectory(_ purpose: String) throws -> String {
        let path = StagingName.make(in: tmpDir, base: purpose)
        try FileIO.createDirectory(path, mode: 0o700)
        return path
    }

    /// Removes scratch folders under ``tmpDir`` left by drctl processes that are gone
    /// (killed, or crashed) and returns their names. Folders of live processes, and
    /// anything not named by ``makeScratchDirectory(_:)``, are left alone.
    @discardableResult
    public func removeStaleScratch() -> [String] {
        var removed: [String] = []
        for name in FileIO.list(tmpDir) where StagingName.isStale(name) {
            FileIO.removeTree("\(tmpDir)/\(name)")
            removed.append(name)
        }
        if !removed.isEmpty { logger.info("removed \(removed.count) scratch folder(s) of ended drctl processes from \(tmpDir)") }
        return removed
    }
}
