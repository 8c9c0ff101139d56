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

    @OptionGroup var s3: S3Options

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
            if s3.isSet { throw ValidationError("--endpoint, --region, --credentials-file and --profile need --repository s3://bucket/prefix") }
            return nil
        }
        return try s3.repository(repository, option: "--repository")
    }
}
