import ArgumentParser
import DRCore
import Snapshots

struct SnapshotsExtract: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "extract",
        abstract: "Rebuild what a snapshot holds into a new or empty folder.",
        discussion: "For a git-bundle snapshot: the repository rebuilt from its full bundle and chain, refs exactly as recorded.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Snapshot id or a unique prefix of it.")
    var id: String

    @Option(help: ArgumentHelp("The folder to create (must not exist, or be empty).", valueName: "dir"))
    var to: String

    func run() throws {
        let workspace = try global.openWorkspace()
        let snapshot = try Extract.snapshot(id, to: to, in: workspace)
        print("extracted snapshot \(snapshot.shortID) of \(snapshot.source) to \(to)")
    }
}
