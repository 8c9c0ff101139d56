import ArgumentParser
import DRCore
import Foundation
import Scheduler
import Snapshots

struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Back up sources now: one summary line per source.",
        discussion: "Exits 0 when every source succeeded; otherwise with the code of the failures (docs/CLI.md).")

    @OptionGroup var global: GlobalOptions

    @Option(name: .customLong("source"), help: ArgumentHelp("Back up only this source (repeatable).", valueName: "name"))
    var sources: [String] = []

    @Flag(help: "Hash every file of volume sources instead of trusting unchanged metadata.")
    var rehash = false

    @Flag(help: "Print the outcomes as JSON.")
    var json = false

    func run() throws {
        let workspace = try global.openWorkspace()
        // One run at a time per data folder: wait for a scheduled run, the daemon or a prune.
        let dataDir = workspace.config.dataDir
        var acquisition = try RunLock.acquire(dataDir: dataDir, wait: false)
        if case .busy(let holder) = acquisition {
            Terminal.warning("waiting for another drctl\(holder.map { " (pid \($0))" } ?? "") to release \(RunLock.path(dataDir: dataDir))")
            acquisition = try RunLock.acquire(dataDir: dataDir, wait: true)
        }
        guard case .acquired(let lock) = acquisition else {
            throw DRError(.refused, "could not take the lock \(RunLock.path(dataDir: dataDir))")
        }
        defer { lock.release() }
        let options = BackupOptions(rehash: rehash, progress: json ? nil : ProgressLine.make(), holdsRunLock: true)
        let (_, outcomes) = try Backup.run(workspace, sources: sources, options: options)
        RunReporting.afterRun(workspace, outcomes: outcomes, notifier: Notifier.make(workspace.config, logger: workspace.logger))
        if json {
            try Terminal.json(outcomes)
        } else {
            for outcome in outcomes {
                if let snapshot = outcome.snapshot {
                    print("\(outcome.source): ok snapshot \(snapshot.shortID) \(snapshot.level.rawValue)"
                          + (outcome.note.isEmpty ? ", " : " (\(outcome.note)), ")
                          + "\(Terminal.bytes(outcome.addedBytes)) added in \(String(format: "%.1f", outcome.seconds))s")
                } else {
                    print("\(outcome.source): FAILED \(outcome.error ?? "unknown error")")
                }
            }
        }
        let codes = Set(outcomes.filter { !$0.succeeded }.compactMap { $0.errorCode.flatMap(DRError.Code.init(rawValue:)) })
        if outcomes.contains(where: { !$0.succeeded }) {
            throw ExitCode(codes.count == 1 ? (codes.first?.exitCode ?? 1) : DRError.Code.failed.exitCode)
        }
    }
}
