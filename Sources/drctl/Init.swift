import ArgumentParser
import DRCore
import Foundation

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a config, an empty catalog and repository, and an encryption key.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The folder to set up (default: the current folder).")
    var directory: String = "."

    @Flag(help: "Do not generate a key; snapshots will be stored unencrypted.")
    var noEncryption = false

    @Flag(help: "Print the result as JSON.")
    var json = false

    @Flag(name: .customLong("kit-with-identity"), help: "Put the age identity into recovery-kit.txt too (the kit is then secret, mode 0600).")
    var kitWithIdentity = false

    @Option(help: "Create the repository in S3 instead of a local folder: s3://bucket/prefix (credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, or --credentials-file).")
    var repository: String?

    @Option(help: "An S3-compatible endpoint (MinIO, Ceph RGW): http(s)://host:port; path-style addressing.")
    var endpoint: String?

    @Option(help: "The S3 region (default: AWS_REGION, AWS_DEFAULT_REGION, else us-east-1).")
    var region: String?

    @Option(help: "A ~/.aws/credentials-style file for the S3 repository.")
    var credentialsFile: String?

    @Option(help: "The profile in the credentials file (default: AWS_PROFILE, else `default`).")
    var profile: String?

    func run() throws {
        let result = try Setup.initialize(
            directory: directory, encrypt: !noEncryption, s3: try s3Repository(), environment: .current,
            includeIdentityInKit: kitWithIdentity, logger: global.makeLogger())
        if json { return try Terminal.json(result) }
        print("created \(result.config)")
        print("created catalog \(result.catalog)")
        print("created repository \(result.repository)")
        if let identity = result.identity, let recipient = result.recipient {
            print("created age identity \(identity) (recipient \(recipient))")
            print("keep a copy of \(identity) offline: without it these backups cannot be decrypted")
        } else {
            Terminal.warning("no encryption: snapshots will be stored in plaintext")
        }
        if let kit = result.recoveryKit {
            print("wrote the recovery kit \(kit): print it or store it offline, away from this machine")
        }
        print("next: add a source under `sources:` in \(result.config), then run `drctl backup`")
    }

    /// The S3 repository the options describe, or nil for a local one.
    private func s3Repository() throws -> S3RepositoryConfig? {
        guard let repository else {
            if endpoint != nil || region != nil || credentialsFile != nil || profile != nil {
                throw ValidationError("--endpoint, --region, --credentials-file and --profile need --repository s3://bucket/prefix")
            }
            return nil
        }
        guard let (bucket, prefix) = S3RepositoryConfig.parse(url: repository) else {
            throw ValidationError("--repository: expected s3://bucket/prefix, found `\(repository)`")
        }
        if let endpoint, !(endpoint.hasPrefix("http://") || endpoint.hasPrefix("https://")) {
            throw ValidationError("--endpoint: expected an http:// or https:// URL, found `\(endpoint)`")
        }
        let file = credentialsFile.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
        return S3RepositoryConfig(bucket: bucket, prefix: prefix, endpoint: endpoint, region: region,
                                  credentialsFile: file, profile: profile)
    }
}
