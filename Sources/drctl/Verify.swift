import ArgumentParser
import DRCore
import Foundation
import Snapshots

/// `drctl verify`: thin over ``Verify``.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify", abstract: "Check that stored snapshots are complete and, with --read-data, intact.",
        discussion: """
            Without --read-data: every object of each snapshot (and of the snapshots it depends on) \
            exists with its recorded size, and each manifest agrees with the catalog. --read-data \
            re-reads, decrypts and decodes everything; --read-data-subset N% re-reads the next N% \
            of the objects, continuing where the last subset run stopped. Each snapshot's result is \
            recorded: restores and drills bind only snapshots whose last verification passed. \
            Exit 0 when every snapshot passed, 5 when any failed.
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("Snapshot ids or unique prefixes (default: every snapshot).", valueName: "id"))
    var ids: [String] = []

    @Flag(name: .customLong("read-data"), help: "Re-read, decrypt and decode every object.")
    var readData = false

    @Option(name: .customLong("read-data-subset"), help: ArgumentHelp("Re-read this share of the objects, e.g. 10%.", valueName: "n%"))
    var subset: String?

    @Option(help: ArgumentHelp("Check only this repository (its name under `repositories:`); results are reported, not recorded.", valueName: "name"))
    var repository: String?

    @Flag(help: "Print the report as JSON.")
    var json = false

    func validate() throws {
        if let subset, Self.percent(subset) == nil {
            throw ValidationError("--read-data-subset \(subset): expected a percentage between 0 and 100, such as 10%")
        }
        if subset != nil && readData { throw ValidationError("give --read-data or --read-data-subset, not both") }
    }

    static func percent(_ text: String) -> Double? {
        let number = text.hasSuffix("%") ? String(text.dropLast()) : text
        guard let value = Double(number), value > 0, value <= 100 else { return nil }
        return value
    }

    func run() throws {
        var workspace = try global.openWorkspace()
        if let repository {
            guard let store = workspace.repositories.first(where: { $0.name == repository }) else {
                throw DRError(.notFound, "no repository named `\(repository)` in \(workspace.config.file)",
                              hint: "configured: \(workspace.repositories.map(\.name).joined(separator: ", "))")
            }
            workspace = try Workspace.open(config: workspace.config, environment: .current, logger: global.makeLogger(), store: store,
                                           insecurePermissions: global.insecurePermissions)
        }
        let report = try Verify.run(
            workspace, options: VerifyOptions(snapshotIDs: ids, readData: readData, subsetPercent: subset.flatMap(Self.percent),
                                              record: repository == nil))
        if json {
            try Terminal.json(report)
        } else {
            for verdict in report.snapshots {
                let status = verdict.passed ? "ok    " : "FAILED"
                print("\(status) \(verdict.id.prefix(8)) \(verdict.source) (\(verdict.kind), \(verdict.depth))")
                for problem in verdict.problems { print("         \(problem)") }
                for note in verdict.notes { print("         note: \(note)") }
            }
            for id in report.vanished { print("gone   \(id.prefix(8)) (forgotten by a concurrent prune while verifying)") }
            print("\(report.snapshots.count) snapshot(s) checked (\(report.mode)), \(report.objectsChecked) object(s) present-checked, "
                  + "\(report.objectsRead) read (\(Terminal.bytes(report.bytesRead))) in \(String(format: "%.1f", report.seconds))s: "
                  + (report.passed ? "all passed" : "\(report.failed.count) FAILED"))
        }
        if !report.passed {
            throw DRError(.dataCorrupt, "\(report.failed.count) snapshot(s) failed verification: \(report.failed.map { String($0.id.prefix(8)) }.joined(separator: ", "))",
                          hint: "restores and drills skip them now; restore the objects from another repository, or forget the snapshots with `drctl prune`")
        }
    }
}
