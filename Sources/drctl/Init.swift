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

    func run() throws {
        let result = try Setup.initialize(directory: directory, encrypt: !noEncryption, logger: global.makeLogger())
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
        print("next: add a source under `sources:` in \(result.config), then run `drctl backup`")
    }
}
