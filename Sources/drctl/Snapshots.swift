import ArgumentParser
import DRCore

struct SnapshotsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshots",
        abstract: "List, show and extract snapshots.",
        subcommands: [SnapshotsList.self, SnapshotsShow.self, SnapshotsExtract.self, SnapshotsFind.self],
        defaultSubcommand: SnapshotsList.self)
}
