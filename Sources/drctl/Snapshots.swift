import ArgumentParser
import DRCore

struct SnapshotsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshots",
        abstract: "List, show, extract and apply snapshots.",
        subcommands: [SnapshotsList.self, SnapshotsShow.self, SnapshotsExtract.self, SnapshotsApply.self, SnapshotsFind.self],
        defaultSubcommand: SnapshotsList.self)
}
