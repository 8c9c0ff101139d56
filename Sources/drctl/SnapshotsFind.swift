import ArgumentParser
import DRCore
import Snapshots

struct SnapshotsFind: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "find",
        abstract: "Find which snapshots of volume sources hold a path.",
        discussion: "PATTERN is a path relative to the volume (a point lookup) or a glob (`*.sql`, `wp-content/uploads/**`).")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "A path or glob, relative to the volume root.")
    var pattern: String

    @Option(help: ArgumentHelp("Only this source.", valueName: "name"))
    var source: String?

    @Option(help: "Stop after this many matching paths.")
    var limit = 1000

    @Flag(help: "Print as JSON.")
    var json = false

    struct Match: Encodable {
        var source: String
        var path: String
        var snapshot: String
        var dataTime: String
        var size: Int64
        /// The content hash, under its algorithm's name (the snapshot's `content_hash`).
        var sha256: String?
        var blake3: String?
    }

    func run() throws {
        let workspace = try global.openWorkspace()
        let catalog = workspace.catalog
        let sources = workspace.config.sources.filter { $0.kind == .pvcArchive && (source == nil || $0.name == source) }
        if let source, sources.isEmpty {
            throw DRError(.notFound, "no pvc-archive source named `\(source)` in \(workspace.config.file)")
        }
        let isGlob = pattern.contains { "*?[".contains($0) }
        let glob = Glob(pattern)
        var matches: [Match] = []
        for source in sources {
            var keys: [[UInt8]] = []
            if isGlob {
                try catalog.forEachPath(source: source.name) { key in
                    if keys.count < limit, glob.matches(PathKey.path(key)) { keys.append(key) }
                }
            } else {
                keys = [PathKey.key(Array(pattern.utf8))]
            }
            for key in keys {
                for (snapshot, record) in try catalog.history(of: key, source: source.name) {
                    guard let record else { continue }
                    let algorithm = try ContentHash(of: snapshot)
                    matches.append(Match(
                        source: source.name, path: PathKey.display(key), snapshot: snapshot.id,
                        dataTime: ISO8601.format(snapshot.dataTime), size: record.size,
                        sha256: algorithm == .sha256 ? record.hash?.hexString : nil,
                        blake3: algorithm == .blake3 ? record.hash?.hexString : nil))
                }
            }
        }
        if json { return try Terminal.json(matches) }
        guard !matches.isEmpty else {
            print("no snapshot holds \(pattern)")
            throw ExitCode(DRError.Code.notFound.exitCode)
        }
        Terminal.table(["SNAPSHOT", "SOURCE", "DATA TIME", "SIZE", "PATH"], matches.map {
            [String($0.snapshot.prefix(8)), $0.source, String($0.dataTime.prefix(19)) + "Z", Terminal.bytes($0.size), $0.path]
        })
    }
}
