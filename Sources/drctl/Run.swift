import ArgumentParser
import DRCore
import Foundation
import Scheduler
import Snapshots

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Back up every scheduled source, then run every scheduled drill, that is due (for system cron or a Kubernetes CronJob).",
        discussion: """
            A source is due when its schedule fired since its last successful backup (or it never \
            succeeded); missed slots run once. Runs later than `starting_deadline` are skipped and \
            recorded. A lock on the data folder keeps overlapping invocations apart (`on_locked`). \
            Exits 0 when everything due succeeded (or nothing was due, or another run holds the lock \
            with `on_locked: skip`). Drills listed under `drills.runbooks` with a `schedule` run after \
            the backups; a FAILED drill exits 1 and sends the `drill-failure` notification.
            """)

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Run the sources that are due (required).")
    var due = false

    @Flag(help: "List what is due without running anything.")
    var dryRun = false

    @Flag(help: "Print the report as JSON.")
    var json = false

    func validate() throws {
        guard due else { throw ValidationError("`drctl run` needs --due (`drctl backup` backs up sources regardless of schedules)") }
    }

    func run() throws {
        let workspace = try global.openWorkspace()
        let report = try DueRuns.run(
            workspace, dryRun: dryRun, notifier: Notifier.make(workspace.config, logger: workspace.logger))
        if json {
            try Terminal.json(report)
        } else if report.skippedLocked {
            print("another drctl run (pid \(report.lockedBy.map { "\($0)" } ?? "unknown")) holds the lock; nothing to do")
        } else {
            for decision in report.decisions {
                switch decision.action {
                case .run where dryRun:
                    print("\(decision.source): due (slot \(Terminal.time(decision.slot)))")
                case .run:
                    break
                case .skipLate:
                    print("\(decision.source): skipped, \(Int(decision.lateSeconds ?? 0))s late (past starting_deadline)")
                case .notDue:
                    print("\(decision.source): not due, next \(Terminal.time(decision.next))")
                }
            }
            for outcome in report.outcomes {
                if let snapshot = outcome.snapshot {
                    print("\(outcome.source): ok snapshot \(snapshot.shortID) \(snapshot.level.rawValue), "
                          + "\(Terminal.bytes(outcome.addedBytes)) added in \(String(format: "%.1f", outcome.seconds))s")
                } else {
                    print("\(outcome.source): FAILED \(outcome.error ?? "unknown error")")
                }
            }
            for decision in report.drillDecisions {
                switch decision.action {
                case .run where dryRun:
                    print("drill \(decision.runbook): due (slot \(Terminal.time(decision.slot)))")
                case .run, .skipLate:
                    break
                case .notDue:
                    print("drill \(decision.runbook): not due, next \(Terminal.time(decision.next))")
                }
            }
            if let decision = report.verifyDecision {
                if decision.action == .run && dryRun {
                    print("verify: due (slot \(Terminal.time(decision.slot)))")
                } else if decision.action == .notDue {
                    print("verify: not due, next \(Terminal.time(decision.next))")
                }
            }
            if let verify = report.verify {
                if let result = verify.report {
                    print("verify (\(result.mode)): \(result.snapshots.count) snapshot(s), "
                          + (result.passed ? "all passed" : "FAILED: \(verify.error ?? "")"))
                } else {
                    print("verify: FAILED to run: \(verify.error ?? "unknown error")")
                }
            }
            for drill in report.drills {
                if let result = drill.report {
                    let rto = result.rtoSeconds.map { String(format: ", RTO %.1fs", $0) } ?? ""
                    print("drill \(drill.runbook): \(result.result.rawValue)\(rto)\(drill.error.map { ": \($0)" } ?? "")")
                } else {
                    print("drill \(drill.runbook): FAILED to start: \(drill.error ?? "unknown error")")
                }
            }
        }
        let failures = report.outcomes.filter { !$0.succeeded }
        if !failures.isEmpty {
            let codes = Set(failures.compactMap { $0.errorCode.flatMap(DRError.Code.init(rawValue:)) })
            throw ExitCode(codes.count == 1 ? (codes.first?.exitCode ?? 1) : DRError.Code.failed.exitCode)
        }
        if report.verify?.failed == true { throw ExitCode(DRError.Code.dataCorrupt.exitCode) }
        if report.drills.contains(where: \.failed) { throw ExitCode(DRError.Code.failed.exitCode) }
    }
}
