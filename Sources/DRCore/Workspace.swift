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
        guard let repository = config.repositories.first else {
            throw DRError(.config, "\(config.file): no repository is configured")
        }
        let store = try store ?? repository.open(tmpDir: "\(config.dataDir)/tmp", environment: environment, logger: logger)
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
        return Workspace(config: config, catalog: catalog, codec: codec, environment: environment, logger: logger, now: now)
    }

    /// A fresh private scratch folder under ``tmpDir``; the caller removes it.
    public func makeScratchDirectory(_ purpose: String) throws -> String {
        let path = "\(tmpDir)/\(purpose)-\(FileIO.randomHex(6))"
        try FileIO.createDirectory(path, mode: 0o700)
        return path
    }
}
