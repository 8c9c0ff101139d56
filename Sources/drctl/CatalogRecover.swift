import ArgumentParser
import DRCore
import Foundation
import Snapshots

/// `drctl catalog recover`: thin over ``CatalogRecovery``.
struct CatalogRecoverCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recover",
        abstract: "Rebuild a lost catalog (and config) from a repository and the age identity.",
        discussion: """
            Restores the newest readable catalog copy in the repository, writes its config (to \
            --config, default the path it had; with no readable copy, --config must name an \
            existing config for this repository) and catalog, then replays every snapshot manifest \
            the copy does not know, so snapshots taken after the last copy are kept. Never \
            overwrites an existing config or catalog. Then run `drctl verify --read-data`.
            """)

    @OptionGroup var global: GlobalOptions

    @Option(help: ArgumentHelp("The repository: a local folder or s3://bucket/prefix.", valueName: "repo"))
    var from: String

    @Option(help: ArgumentHelp("The age identity file that decrypts the repository.", valueName: "file"))
    var identity: String

    @OptionGroup var s3: S3Options

    @Flag(help: "Print the report as JSON.")
    var json = false

    func run() throws {
        let absolute = { (path: String) in URL(fileURLWithPath: path).standardizedFileURL.path }
        let location: RepositoryConfig.Location
        if from.hasPrefix("s3://") {
            location = .s3(try s3.repository(from, option: "--from"))
        } else {
            guard !s3.isSet else { throw ValidationError("--endpoint, --region, --credentials-file and --profile need --from s3://bucket/prefix") }
            location = .local(path: absolute(from))
        }
        let report = try CatalogRecovery.recover(
            from: RepositoryConfig(name: "default", location: location), identity: absolute(identity),
            configPath: global.config.map(absolute), environment: .current, logger: global.makeLogger())
        if json { return try Terminal.json(report) }
        if let copy = report.copy {
            print("restored catalog copy \(copy.prefix(12)) of \(report.copyCreatedAt ?? "?") (\(report.snapshotsInCopy) snapshots)")
        } else {
            print("no readable catalog copy: catalog rebuilt from the snapshot manifests")
        }
        print("replayed \(report.replayed.count) snapshot(s) newer than the copy from their manifests")
        print("config:  \(report.config)")
        print("catalog: \(report.catalog)")
        for problem in report.problems { Terminal.warning(problem) }
        if let missing = report.identityMissing {
            Terminal.warning("the config names the identity \(missing), which is not there: put the identity file there (mode 0600) or edit `encryption.identity`")
        }
        print("next: `drctl verify --read-data --config \(report.config)`")
    }
}
