import ArgumentParser
import DRCore
import Snapshots

struct SnapshotsExtract: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "extract",
        abstract: "Rebuild what a snapshot holds into a new or empty folder.",
        discussion: """
            git-bundle: the repository rebuilt from its full bundle and chain, refs exactly as recorded.
            pvc-archive: the tree exactly as it was (full plus incrementals, deleted files absent), every \
            file's content hash checked against the catalog; mismatches are listed and exit 5.
            secrets, argocd-state: the decrypted YAML List, written to a new file with mode 0600 \
            (it holds Secrets in plain text); `drctl snapshots apply` restores it to a cluster instead.
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Snapshot id or a unique prefix of it.")
    var id: String

    @Option(help: ArgumentHelp("The folder to create (must not exist, or be empty); for secrets and argocd-state exports, the new file.", valueName: "path"))
    var to: String

    @Option(name: .customLong("include"), help: ArgumentHelp("Restore only paths matching this glob, and everything below them (repeatable; volumes only).", valueName: "glob"))
    var includes: [String] = []

    @Flag(help: "Print the report as JSON.")
    var json = false

    func run() throws {
        let workspace = try global.openWorkspace()
        let report = try Extract.snapshot(id, to: to, include: includes.map(Glob.init), in: workspace)
        if json {
            try Terminal.json(report)
        } else {
            var line = "extracted snapshot \(report.snapshot.shortID) of \(report.snapshot.source) to \(report.target)"
            if report.snapshot.kind == SourceKind.pvcArchive.rawValue {
                line += ": \(report.files) files, \(Terminal.bytes(report.bytes))"
            } else if SourceKind(rawValue: report.snapshot.kind)?.holdsKubernetesObjects == true {
                line += ": \(report.files) objects (decrypted: delete the file when done)"
            }
            print(line)
            for path in report.mismatches { print("MISMATCH \(path): content differs from the hash recorded at backup time") }
        }
        if !report.mismatches.isEmpty {
            throw DRError(.dataCorrupt, "\(report.mismatches.count) restored file(s) do not match the catalog; the rest of the tree is in place")
        }
    }
}
