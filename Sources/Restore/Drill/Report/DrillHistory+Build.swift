public import DRCore
public import Foundation

extension DrillHistory {
    /// How late a scheduled drill may start before it counts as overdue: one hour, or the
    /// runbook's RTO target when that is longer (a drill in progress is not overdue).
    public static let overdueGrace: TimeInterval = 3600

    /// The history of `workspace`'s catalog: every stored drill report, the configured
    /// `drills.runbooks`, only `runbooks` when given (empty means all). `nextSlot` gives a
    /// runbook's next scheduled drill after a time (nil: no schedule); without it, nothing
    /// is overdue.
    public static func load(
        _ workspace: Workspace, runbooks: [String] = [], last: Int = 10, now: Date,
        nextSlot: ((DrillRunbookConfig, Date) -> Date?)? = nil
    ) throws -> DrillHistory {
        build(reports: try workspace.catalog.drillReports(), configured: workspace.config.drillSettings.runbooks,
              runbooks: runbooks, last: last, now: now, nextSlot: nextSlot)
    }

    /// The history of `reports` (any order) and `configured` runbooks at `now`; see ``load``.
    public static func build(
        reports: [DrillReport], configured: [DrillRunbookConfig], runbooks filter: [String] = [], last: Int = 10,
        now: Date, nextSlot: ((DrillRunbookConfig, Date) -> Date?)? = nil
    ) -> DrillHistory {
        let sorted = reports.sorted { ($0.startedAt, $0.executionID ?? "") < ($1.startedAt, $1.executionID ?? "") }
        var names = configured.map(\.runbook)
        for name in Set(sorted.map(\.runbook)).sorted() where !names.contains(name) { names.append(name) }
        var seen = Set<String>()
        names = names.filter { seen.insert($0).inserted }
        if !filter.isEmpty {
            names = names.filter(filter.contains) + filter.filter { !names.contains($0) }
        }
        let keep = max(1, last)
        let entries = names.map { name in
            RunbookDrillHistory.build(
                name: name, reports: sorted.filter { $0.runbook == name },
                config: configured.first { $0.runbook == name }, last: keep, now: now, nextSlot: nextSlot)
        }
        return DrillHistory(
            schemaVersion: currentSchemaVersion, generatedAt: now, drctlVersion: DRVersion.current, last: keep,
            runbooks: entries, totalDrills: entries.reduce(0) { $0 + $1.counts.total })
    }
}

extension RunbookDrillHistory {
    static func build(
        name: String, reports: [DrillReport], config: DrillRunbookConfig?, last: Int, now: Date,
        nextSlot: ((DrillRunbookConfig, Date) -> Date?)?
    ) -> RunbookDrillHistory {
        var counts = DrillCounts()
        for report in reports {
            switch report.result {
            case .success: counts.success += 1
            case .warnings: counts.warnings += 1
            case .failed: counts.failed += 1
            }
        }
        let trend = reports.suffix(last).map(DrillPoint.init(report:))
        let lastReport = reports.last
        let lastPoint = trend.last
        let rtoTarget = config?.rtoTargetSeconds ?? lastReport?.rtoTargetSeconds

        var nextDue: Date?
        var overdue = false
        if let config, config.schedule != nil, let nextSlot {
            nextDue = nextSlot(config, lastReport?.startedAt ?? now)
            if let due = nextDue, lastReport != nil {
                let grace = max(DrillHistory.overdueGrace, Double(rtoTarget ?? 0))
                overdue = now.timeIntervalSince(due) > grace
            }
        }

        var entry = RunbookDrillHistory(
            runbook: name, status: .ok, configured: config != nil, schedule: config?.schedule,
            timeZone: config?.schedule == nil ? nil : config?.timeZone, rtoTargetSeconds: rtoTarget,
            nextDrillDue: nextDue, overdue: overdue, counts: counts, lastDrill: lastPoint,
            worstRPO: lastPoint.flatMap(Self.worst), rtoChange: Self.change(trend: reports.map(DrillPoint.init(report:))),
            trend: trend, failedChecks: lastReport?.failedChecks ?? [], problems: lastReport?.problems ?? [],
            notRehearsed: (lastReport?.notRehearsed ?? []).map { NotRehearsedStep(id: $0.id, title: $0.title, reason: $0.reason) },
            findings: [])
        entry.findings = entry.computeFindings()
        entry.status = entry.findings.contains { $0.severity == .failing }
            ? .failing : (entry.findings.isEmpty ? .ok : .warning)
        return entry
    }

    /// The snapshot with the highest RPO relative to its target (or the highest RPO when
    /// no snapshot has a target).
    static func worst(_ point: DrillPoint) -> SnapshotRPO? {
        let targeted = point.snapshots.filter { $0.targetSeconds != nil }
        if let worst = targeted.max(by: { ratio($0) < ratio($1) }) { return worst }
        return point.snapshots.max { $0.rpoSeconds < $1.rpoSeconds }
    }

    private static func ratio(_ snapshot: SnapshotRPO) -> Double {
        guard let target = snapshot.targetSeconds, target > 0 else { return .infinity }
        return snapshot.rpoSeconds / Double(target)
    }

    /// The last RTO against the previous drill's RTO; nil unless the last drill and an
    /// earlier one both have an RTO.
    static func change(trend: [DrillPoint]) -> RTOChange? {
        guard let last = trend.last?.rtoSeconds,
              let previous = trend.dropLast().last(where: { $0.rtoSeconds != nil })?.rtoSeconds
        else { return nil }
        let delta = last - previous
        let direction: RTOChange.Direction =
            abs(delta) <= max(1, previous * 0.05) ? .same : (delta < 0 ? .better : .worse)
        return RTOChange(direction: direction, previousSeconds: previous, deltaSeconds: delta)
    }

    func computeFindings() -> [Finding] {
        var findings: [Finding] = []
        guard let last = lastDrill else {
            var message = "never drilled"
            if let schedule {
                message += "; scheduled `\(schedule)`"
                if let due = nextDrillDue { message += ", next due \(ReportText.time(due))" }
            } else {
                message += " and no schedule in drills.runbooks"
            }
            return [Finding(severity: .warning, kind: "never-drilled", message: message)]
        }
        if last.result == .failed {
            let why = problems.prefix(3).joined(separator: "; ")
            let more = problems.count > 3 ? " (+\(problems.count - 3) more)" : ""
            findings.append(Finding(
                severity: .failing, kind: "failed",
                message: "last drill FAILED on \(ReportText.time(last.startedAt))" + (why.isEmpty ? "" : ": \(why)\(more)")))
        }
        if last.rtoMet == false, let rto = last.rtoSeconds, let target = last.rtoTargetSeconds {
            findings.append(Finding(
                severity: .failing, kind: "rto-missed",
                message: "RTO \(ReportText.duration(rto)) missed the \(ReportText.duration(Double(target))) target"))
        }
        for snapshot in last.snapshots where snapshot.met == false {
            let target = snapshot.targetSeconds.map { ReportText.duration(Double($0)) } ?? "-"
            findings.append(Finding(
                severity: .failing, kind: "rpo-missed",
                message: "RPO of \(snapshot.source) \(ReportText.duration(snapshot.rpoSeconds)) missed its \(target) target"))
        }
        if overdue, let due = nextDrillDue {
            findings.append(Finding(
                severity: .failing, kind: "overdue",
                message: "scheduled drill overdue: due \(ReportText.time(due)) (`\(schedule ?? "")`), last drill \(ReportText.time(last.startedAt))"))
        }
        if !notRehearsed.isEmpty {
            findings.append(Finding(
                severity: .warning, kind: "not-rehearsed",
                message: "\(notRehearsed.count) step(s) not rehearsed in the last drill: \(notRehearsed.map(\.id).joined(separator: ", "))"))
        }
        return findings
    }
}

extension DrillPoint {
    init(report: DrillReport) {
        self.init(
            executionID: report.executionID, startedAt: report.startedAt, at: report.at, result: report.result,
            trigger: report.trigger, rtoSeconds: report.rtoSeconds, rtoTargetSeconds: report.rtoTargetSeconds,
            rtoMet: report.rtoMet, rpoSeconds: report.rpoSeconds, rpoTargetSeconds: report.rpoTargetSeconds,
            rpoMet: report.rpoMet,
            snapshots: report.snapshots.map {
                SnapshotRPO(source: $0.source, snapshotID: $0.id, rpoSeconds: $0.rpoSeconds,
                            targetSeconds: $0.rpoTargetSeconds, met: $0.rpoMet)
            })
    }
}
