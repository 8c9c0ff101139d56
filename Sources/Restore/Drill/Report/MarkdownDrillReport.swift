import DRCore
import Foundation

extension DrillReportRenderer {
    /// The history as Markdown: a summary table, the findings, then per runbook its trend,
    /// failed checks, problems and not-rehearsed steps. Plain tables, so it reads in a
    /// terminal as well as rendered.
    public static func markdown(_ history: DrillHistory) -> String {
        var out = "# DR drill report\n\n"
        out += "Generated \(ReportText.time(history.generatedAt)) by drctl \(ReportText.cell(history.drctlVersion))"
        out += " · trend: last \(history.last) drill(s) per runbook · \(history.totalDrills) drill(s) stored\n\n"
        if history.runbooks.isEmpty {
            out += "No drill has been run yet, and `drills.runbooks` lists no runbook.\n"
            return out
        }
        if history.totalDrills == 0 {
            out += "**No drill has been run yet.** Configured runbooks are listed as never drilled.\n\n"
        }
        out += "**\(summaryLine(history))**\n\n"
        out += table(
            ["Runbook", "Status", "Last drill", "Result", "RTO (target)", "Worst RPO (target)", "RTO trend", "Drills S/W/F"],
            history.runbooks.map { entry in
                guard let last = entry.lastDrill else {
                    return [entry.runbook, statusText(entry.status), "never drilled", "-",
                            "- (\(target(entry.rtoTargetSeconds)))", "-", "-", "0/0/0"]
                }
                return [entry.runbook, statusText(entry.status), ReportText.time(last.startedAt), last.result.rawValue,
                        rtoText(last), worstRPOText(entry.worstRPO), changeText(entry.rtoChange),
                        "\(entry.counts.success)/\(entry.counts.warnings)/\(entry.counts.failed)"]
            })
        let findings = history.runbooks.flatMap { entry in entry.findings.map { (entry.runbook, $0) } }
        if !findings.isEmpty {
            out += "\n## Findings\n\n"
            for (runbook, finding) in findings.sorted(by: { severityRank($0.1) < severityRank($1.1) }) {
                out += "- **\(ReportText.cell(runbook))** (\(finding.severity.rawValue)): \(ReportText.cell(finding.message))\n"
            }
        }
        for entry in history.runbooks { out += "\n" + section(entry) }
        return out
    }

    static func section(_ entry: RunbookDrillHistory) -> String {
        var out = "## \(ReportText.cell(entry.runbook))\n\n"
        var facts = ["Status: **\(statusText(entry.status))**"]
        if let schedule = entry.schedule {
            facts.append("schedule `\(schedule)` (\(entry.timeZone ?? "UTC"))")
        } else {
            facts.append(entry.configured ? "no schedule" : "not in drills.runbooks")
        }
        if let due = entry.nextDrillDue { facts.append("next due \(ReportText.time(due))\(entry.overdue ? " (OVERDUE)" : "")") }
        facts.append("RTO target \(target(entry.rtoTargetSeconds))")
        out += facts.joined(separator: " · ") + "\n\n"
        guard let last = entry.lastDrill else {
            out += "Never drilled.\n"
            return out
        }
        out += "Last drill: \(ReportText.time(last.startedAt)) · \(last.result.rawValue) · trigger \(ReportText.cell(last.trigger))"
        if let id = last.executionID { out += " · execution `\(ReportText.cell(id))`" }
        out += "\n\n"
        out += "### Trend (oldest first)\n\n"
        out += table(
            ["Started", "Result", "RTO", "RTO target", "Worst RPO", "RPO target", "Trigger"],
            entry.trend.map { point in
                [ReportText.time(point.startedAt), point.result.rawValue,
                 point.rtoSeconds.map(ReportText.duration) ?? "-", verdictTarget(point.rtoTargetSeconds, point.rtoMet),
                 point.rpoSeconds.map(ReportText.duration) ?? "-", verdictTarget(point.rpoTargetSeconds, point.rpoMet),
                 point.trigger]
            })
        if !last.snapshots.isEmpty {
            out += "\n### RPO per source (last drill)\n\n"
            out += table(
                ["Source", "Snapshot", "RPO", "Target"],
                last.snapshots.map { s in
                    [s.source, s.snapshotID, ReportText.duration(s.rpoSeconds), verdictTarget(s.targetSeconds, s.met)]
                })
        }
        if !entry.failedChecks.isEmpty {
            out += "\n### Failed checks (last drill)\n\n"
            out += table(["Check", "Detail"], entry.failedChecks.map { [$0.name, $0.detail] })
        }
        if !entry.problems.isEmpty {
            out += "\n### Problems (last drill)\n\n"
            for problem in entry.problems { out += "- \(ReportText.cell(problem))\n" }
        }
        if !entry.notRehearsed.isEmpty {
            out += "\n### Not rehearsed (last drill)\n\n"
            out += table(["Step", "Title", "Reason"], entry.notRehearsed.map { [$0.id, $0.title, $0.reason ?? "-"] })
        }
        return out
    }

    /// A pipe table; every cell is escaped and padded so columns line up in a terminal.
    static func table(_ header: [String], _ rows: [[String]]) -> String {
        let all = ([header] + rows).map { $0.map(ReportText.cell) }
        let widths = header.indices.map { column in max(3, all.map { $0[column].count }.max() ?? 0) }
        func line(_ cells: [String]) -> String {
            "| " + cells.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }
                .joined(separator: " | ") + " |\n"
        }
        var out = line(all[0])
        out += "|" + widths.map { String(repeating: "-", count: $0 + 2) }.joined(separator: "|") + "|\n"
        for row in all.dropFirst() { out += line(row) }
        return out
    }

    static func summaryLine(_ history: DrillHistory) -> String {
        let count = { (status: RunbookDrillHistory.Status) in history.runbooks.filter { $0.status == status }.count }
        return "\(count(.failing)) runbook(s) failing, \(count(.warning)) with warnings, \(count(.ok)) ok."
    }

    static func statusText(_ status: RunbookDrillHistory.Status) -> String {
        switch status {
        case .ok: "ok"
        case .warning: "WARNING"
        case .failing: "FAILING"
        }
    }

    static func severityRank(_ finding: Finding) -> Int { finding.severity == .failing ? 0 : 1 }

    static func target(_ seconds: Int?) -> String { seconds.map { ReportText.duration(Double($0)) } ?? "none" }

    /// `30m met`, `30m MISSED`, or `-`.
    static func verdictTarget(_ seconds: Int?, _ met: Bool?) -> String {
        guard let seconds else { return "-" }
        return "\(ReportText.duration(Double(seconds))) \(met == false ? "MISSED" : (met == true ? "met" : ""))"
            .trimmingCharacters(in: .whitespaces)
    }

    static func rtoText(_ point: DrillPoint) -> String {
        let rto = point.rtoSeconds.map(ReportText.duration) ?? "-"
        guard let target = point.rtoTargetSeconds else { return rto }
        return "\(rto) (\(verdictTarget(target, point.rtoMet)))"
    }

    static func worstRPOText(_ worst: SnapshotRPO?) -> String {
        guard let worst else { return "-" }
        let rpo = "\(ReportText.duration(worst.rpoSeconds)) \(worst.source)"
        guard let target = worst.targetSeconds else { return rpo }
        return "\(rpo) (\(verdictTarget(target, worst.met)))"
    }

    static func changeText(_ change: RTOChange?) -> String {
        guard let change else { return "-" }
        if change.direction == .same, abs(change.deltaSeconds) < 0.95 { return "same" }
        let sign = change.deltaSeconds < 0 ? "-" : "+"
        let delta = "\(sign)\(ReportText.duration(abs(change.deltaSeconds)))"
        switch change.direction {
        case .better: return "better (\(delta))"
        case .worse: return "worse (\(delta))"
        case .same: return "same (\(delta))"
        }
    }
}
