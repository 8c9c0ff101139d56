import ArgumentParser
import DRCore

struct SnapshotsList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List snapshots, oldest first.")

    @OptionGroup var global: GlobalOptions

    @Option(help: ArgumentHelp("Only this source.", valueName: "name"))
    var source: String?

    @Flag(help: "Print as JSON.")
    var json = false

    func run() throws {
        let workspace = try global.openWorkspace()
        let snapshots = try workspace.catalog.snapshots(source: source)
        let tests = try workspace.catalog.restoreTests()
        if json { return try Terminal.json(snapshots.map { ListedSnapshot(snapshot: $0, test: tests[$0.id]) }) }
        guard !snapshots.isEmpty else {
            print(source.map { "no snapshots of source \($0)" } ?? "no snapshots yet: run `drctl backup`")
            return
        }
        Terminal.table(
            ["ID", "SOURCE", "KIND", "LEVEL", "PARENT", "DATA TIME", "ADDED", "VERIFIED", "RESTORE-TESTED"],
            snapshots.map { s in
                [s.shortID, s.source, s.kind, s.level.rawValue, s.parentID.map { String($0.prefix(8)) } ?? "-",
                 Terminal.time(s.dataTime), Terminal.bytes(s.bytes), s.verifiedAt == nil ? "no" : "yes",
                 tests[s.id].map { Terminal.time($0.testedAt) } ?? "-"]
            })
    }
}

/// A snapshot as `snapshots list --json` prints it: the catalog record plus when (and by
/// which drill) it was last restore-tested.
struct ListedSnapshot: Encodable {
    let snapshot: SnapshotRecord
    let test: SnapshotTest?

    private enum Keys: String, CodingKey {
        case restoreTestedAt, restoreTestExecution
    }

    func encode(to encoder: any Encoder) throws {
        try snapshot.encode(to: encoder)
        var container = encoder.container(keyedBy: Keys.self)
        try container.encodeIfPresent(test.map { ISO8601.format($0.testedAt) }, forKey: .restoreTestedAt)
        try container.encodeIfPresent(test?.executionID, forKey: .restoreTestExecution)
    }
}
