public import Logging

extension RepositoryConfig {
    /// Opens the repository this entry describes (local folder or S3 prefix).
    /// - Parameters:
    ///   - tmpDir: where S3 writes stage objects (the workspace's tmp folder).
    ///   - environment: S3 credentials, region and proxy variables.
    ///   - crash: the test-only crash switch a local repository's writes report to.
    public func open(
        tmpDir: String, environment: Environment, logger: Logger, crash: CrashPoints = .disabled
    ) throws -> any ObjectStore {
        switch location {
        case .local(let path):
            var local = try LocalRepository(name: name, root: path)
            local.crash = crash
            return local
        case .s3(let s3):
            return try S3Repository(name: name, config: s3, environment: environment, tmpDir: tmpDir, logger: logger)
        }
    }

    /// Creates the repository (or opens the one already there); `drctl init` uses it.
    @discardableResult
    public func create(
        tmpDir: String, environment: Environment, logger: Logger, crash: CrashPoints = .disabled
    ) throws -> any ObjectStore {
        switch location {
        case .local(let path):
            var local = try LocalRepository.create(name: name, root: path)
            local.crash = crash
            return local
        case .s3(let s3):
            return try S3Repository.create(name: name, config: s3, environment: environment, tmpDir: tmpDir, logger: logger)
        }
    }

    /// Where it is, for messages: a path, or `s3://bucket/prefix`.
    public var locationDescription: String {
        switch location {
        case .local(let path): path
        case .s3(let s3): s3.url
        }
    }
}
