import DRCore
import Foundation
import Restore
import TestSupport

/// A drill history of two drilled runbooks and one never drilled:
///
/// - `corrupted-repo` (configured, `rto_target` 30m, weekly): SUCCESS 6m, SUCCESS 12m, FAILED
///   (a verification named the corrupt object), then WARNINGS at 47m with two steps not
///   rehearsed: over its RTO target, so the runbook is failing.
/// - a hostile name with markup and quotes (not configured): SUCCESS 2m, then FAILED with a
///   failed check whose name and detail carry markup.
/// - `cluster-loss` (configured, scheduled): never drilled.
enum DrillHistoryFixture {
    static let start = Date(timeIntervalSince1970: 1_772_334_000)  // 2026-03-01T03:00:00Z
    static let day = 86_400.0
    static let now = start.addingTimeInterval(22 * day)
    static let hostile = "evil<script>alert(\"x\")</script>&co 'q'"
    static let hostileCheck = "<img src=x onerror=alert(1)> refs"
    static let corruptObject = "3b18e512dbe2f3ea6fd1c0c7a2f6e0fd94c1c4d4f2e8a9b1c2d3e4f5a6b7c8d9"

    static let configured = [
        DrillRunbookConfig(runbook: "corrupted-repo", schedule: "@weekly", rtoTargetSeconds: 1800),
        DrillRunbookConfig(runbook: "cluster-loss", schedule: "0 4 1 */6 *", rtoTargetSeconds: 4 * 3600),
    ]

    /// Next slot: a week after `date` for `corrupted-repo`, 180 days for the others.
    static func nextSlot(_ runbook: DrillRunbookConfig, _ date: Date) -> Date? {
        date.addingTimeInterval(runbook.runbook == "corrupted-repo" ? 7 * day : 180 * day)
    }

    static func snapshot(_ source: String, rpo: Double, target: Int?, at: Date) -> DrillSnapshot {
        DrillSnapshot(id: String(source.utf8.map { String(format: "%02x", $0) }.joined().prefix(16)), source: source,
                      kind: "git-bundle", dataTime: at.addingTimeInterval(-rpo), rpoSeconds: rpo, rpoTargetSeconds: target,
                      verified: true)
    }

    static func report(
        _ runbook: String, _ index: Int, daysAfterStart: Double, result: DrillResultKind, rto: Double?, rtoTarget: Int?,
        rpo: Double, steps: [DrillStep] = [], checks: [DrillCheck] = [], problems: [String] = [], rpoTarget: Int? = 86_400
    ) -> DrillReport {
        let started = start.addingTimeInterval(daysAfterStart * day)
        let id = (runbook == "corrupted-repo" ? "c0ffee000000000" : "badbad000000000") + String(index)
        let snapshots = [snapshot("gitops", rpo: rpo, target: rpoTarget, at: started)]
        return DrillReport(
            executionID: id, runbook: runbook, result: result, trigger: index % 2 == 0 ? "schedule" : "manual", at: started,
            startedAt: started, finishedAt: started.addingTimeInterval(rto ?? 60), rtoSeconds: rto, rtoTargetSeconds: rtoTarget,
            rpoSeconds: rpo, steps: steps, snapshots: snapshots,
            checks: checks.isEmpty ? [DrillCheck(name: "git gitops: refs", passed: true, detail: "3 refs equal the catalog's")] : checks,
            problems: problems, sandbox: "/tmp/sandbox-\(index)", sandboxKept: false)
    }

    static let notRehearsedSteps = [
        DrillStep(id: "restore", title: "Restore the repository", status: "changed", seconds: 20),
        DrillStep(id: "pause-autosync", title: "Pause ArgoCD auto-sync", status: DrillStep.notRehearsed,
                  reason: "no drills.cluster configured"),
        DrillStep(id: "resume-autosync", title: "Resume ArgoCD auto-sync", status: DrillStep.notRehearsed,
                  reason: "no drills.cluster configured"),
    ]

    static var reports: [DrillReport] {
        [
            report("corrupted-repo", 1, daysAfterStart: 0, result: .success, rto: 360, rtoTarget: 1800, rpo: 3 * 3600),
            report(hostile, 1, daysAfterStart: 1, result: .success, rto: 120, rtoTarget: nil, rpo: 1800, rpoTarget: nil),
            report("corrupted-repo", 2, daysAfterStart: 7, result: .success, rto: 720, rtoTarget: 1800, rpo: 2 * 3600),
            report("corrupted-repo", 3, daysAfterStart: 14, result: .failed, rto: nil, rtoTarget: 1800, rpo: 26 * 3600,
                   checks: [DrillCheck(name: "git gitops: fsck", passed: false, detail: "object \(corruptObject) is corrupt")],
                   problems: ["git gitops: fsck: object \(corruptObject) is corrupt"]),
            report(hostile, 2, daysAfterStart: 15, result: .failed, rto: nil, rtoTarget: nil, rpo: 3600,
                   checks: [DrillCheck(name: hostileCheck, passed: false, detail: "expected \"a&b\" <got> 'c'")],
                   problems: ["\(hostileCheck): expected \"a&b\" <got> 'c'"], rpoTarget: nil),
            report("corrupted-repo", 4, daysAfterStart: 21, result: .warnings, rto: 47 * 60, rtoTarget: 1800, rpo: 5 * 3600,
                   steps: notRehearsedSteps),
        ]
    }

    static func history(last: Int = 10, runbooks: [String] = []) -> DrillHistory {
        DrillHistory.build(reports: reports.shuffled(), configured: configured, runbooks: runbooks, last: last, now: now,
                           nextSlot: nextSlot)
    }

    /// The `drills:` section that configures ``configured``.
    static let drillsYAML = """
        drills:
          runbooks:
            - runbook: corrupted-repo
              schedule: "@weekly"
              rto_target: 30m
            - runbook: cluster-loss
              schedule: "0 4 1 */6 *"
              rto_target: 4h

        """

    /// Stores ``reports`` in `workspace`'s catalog, each with its drill execution row.
    static func record(in workspace: Workspace) throws {
        for report in reports {
            guard let id = report.executionID else { continue }
            try workspace.catalog.beginExecution(
                ExecutionRecord(id: id, runbook: report.runbook, origin: "builtin", contentHash: "0", mode: .drill,
                                at: report.at, startedAt: report.startedAt, finishedAt: report.finishedAt,
                                status: report.result == .failed ? .failed : .succeeded, plan: "{}",
                                rtoSeconds: report.rtoSeconds),
                redactor: Redactor())
            try workspace.catalog.finishDrill(id, result: report.result, rtoSeconds: report.rtoSeconds, error: nil)
            try workspace.catalog.recordDrillReport(report)
        }
    }
}
