import ArgumentParser
import DRCore
import Restore

struct SnapshotsApply: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Restore a secrets or argocd-state export to the configured cluster (server-side apply).",
        discussion: """
            Order: CustomResourceDefinitions (waiting until Established), Namespaces (missing ones are \
            created), Secrets/ConfigMaps/ServiceAccounts, then the rest. Each object is reported as \
            created, configured, unchanged, replaced or failed; any failure exits 1 after the rest was applied.
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Snapshot id or a unique prefix of it.")
    var id: String

    @Option(name: .customLong("namespace"), help: ArgumentHelp("Only objects in this namespace (repeatable).", valueName: "ns"))
    var namespaces: [String] = []

    @Option(name: .customLong("name"), help: ArgumentHelp("Only objects with this name (repeatable).", valueName: "name"))
    var names: [String] = []

    @Option(help: ArgumentHelp("The kubeconfig context to use instead of the configured one.", valueName: "name"))
    var context: String?

    @Flag(help: "Ask the API server what would change (dryRun=All); change nothing.")
    var dryRun = false

    @Flag(help: "Delete and re-create immutable Secrets and ConfigMaps that differ from the export.")
    var replaceImmutable = false

    @Flag(help: "Print the report as JSON.")
    var json = false

    func run() throws {
        let workspace = try global.openWorkspace()
        let client = try workspace.kubeClient(context: context)
        let options = ExportApply.Options(
            namespaces: namespaces, names: names, dryRun: dryRun, replaceImmutable: replaceImmutable)
        let report = try ExportApply.apply(id, options: options, client: client, in: workspace)
        if json {
            try Terminal.json(report)
        } else {
            let suffix = dryRun ? " (server dry run)" : ""
            for result in report.results {
                print("\(result.object) \(result.action)\(suffix)" + (result.error.map { ": \($0)" } ?? ""))
            }
        }
        if report.failures > 0 {
            throw DRError(.failed, "\(report.failures) of \(report.results.count) objects failed to apply")
        }
    }
}
