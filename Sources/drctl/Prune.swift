import ArgumentParser
import DRCore
import Foundation
import Scheduler

struct PruneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Forget snapshots outside each source's retention, then delete unreferenced objects.",
        discussion: "Never forgets a source's newest verified snapshot, a parent of a kept snapshot, or a snapshot bound by a running or resumable restore (docs/SCHEDULING.md).")

    @OptionGroup var global: GlobalOptions

    @Option(name: .customLong("source"), help: ArgumentHelp("Prune only this source (repeatable).", valueName: "name"))
    var sources: [String] = []

    @Flag(help: "Decide and report; change nothing.")
    var dryRun = false

    @Flag(help: "Wait for another drctl holding the data folder's lock instead of exiting 8.")
    var wait = false

    @Option(help: ArgumentHelp(
        "Delete repository files the catalog does not know (left by a killed backup or prune) only once older than this (90, 30s, 10m, 2h, 1d).",
        valueName: "duration"))
    var orphanGrace = "1d"

    @Flag(help: "Print the report as JSON.")
    var json = false

    func validate() throws {
        guard let seconds = parseDuration(orphanGrace), seconds >= 0 else {
            throw ValidationError("--orphan-grace `\(orphanGrace)` is not a duration (e.g. 90, 30s, 10m, 2h, 1d)")
        }
    }

    func run() throws {
        let workspace = try global.openWorkspace()
        let grace = Double(parseDuration(orphanGrace) ?? 86_400)
        let report = try Prune.run(
            workspace, options: PruneOptions(sources: sources, dryRun: dryRun, waitForLock: wait, orphanGraceSeconds: grace))
        if json { return try Terminal.json(report) }
        let verb = dryRun ? "would forget" : "forgot"
        for source in report.sources {
            let forgotten = source.forgotten
            let policy = source.hasPolicy ? "retention in \(source.timeZone)" : "no retention: keeps everything"
            print("\(source.source): \(policy); keeps \(source.kept.count), \(verb) \(forgotten.count)")
            for verdict in source.snapshots where !verdict.keep {
                print("  \(dryRun ? "would forget" : "forgot") \(verdict.id.prefix(8))  \(verdict.level.rawValue)  \(Terminal.time(verdict.dataTime))")
            }
            if global.verbose > 0 {
                for verdict in source.snapshots where verdict.keep {
                    print("  keep \(verdict.id.prefix(8))  \(Terminal.time(verdict.dataTime))  \(verdict.reasons.joined(separator: ", "))")
                }
            }
        }
        let orphans = report.removedObjects.filter { $0.why == "orphan" }.count
        print("\(dryRun ? "would delete" : "deleted") \(report.removedObjects.count) objects"
              + (orphans > 0 ? " (\(orphans) orphaned)" : "")
              + ", \(Terminal.bytes(report.bytesFreed)) \(dryRun ? "would be " : "")freed")
        let leftovers = report.temporaryFiles
        if leftovers.partialRemoved + leftovers.asideRemoved + leftovers.restored.count > 0 {
            print("cleaned tmp/: \(leftovers.partialRemoved) unfinished write(s) and \(leftovers.asideRemoved) moved-aside object(s) of killed processes deleted"
                  + (leftovers.restored.isEmpty ? "" : ", \(leftovers.restored.count) still-referenced object(s) put back")
                  + ", \(Terminal.bytes(leftovers.bytesFreed)) freed")
        }
        if !report.rewrittenDuringPrune.isEmpty {
            print("kept \(report.rewrittenDuringPrune.count) unreferenced objects a backup wrote during the prune")
        }
    }
}
