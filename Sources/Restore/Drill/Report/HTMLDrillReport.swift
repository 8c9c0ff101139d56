import DRCore
import Foundation

extension DrillReportRenderer {
    /// The history as one self-contained HTML file: inline CSS, inline SVG charts, no scripts
    /// and no remote or linked assets. Written as polyglot markup (every element closed, no
    /// `<` or `&` in the style sheet), so an XML parser reads it too. Every string from the
    /// catalog or the config is escaped.
    public static func html(_ history: DrillHistory) -> String {
        var out = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8"/>
            <meta name="viewport" content="width=device-width, initial-scale=1"/>
            <title>DR drill report · \(ReportText.html(ReportText.time(history.generatedAt)))</title>
            <style>\(styleSheet)</style>
            </head>
            <body>
            <main>
            <header>
            <h1>DR drill report</h1>
            <p class="meta">Generated \(ReportText.html(ReportText.time(history.generatedAt))) by drctl \
            \(ReportText.html(history.drctlVersion)) · trend: last \(history.last) drill(s) per runbook · \
            \(history.totalDrills) drill(s) stored</p>
            </header>

            """
        if history.runbooks.isEmpty {
            out += "<section class=\"card empty\"><p><strong>No drill has been run yet</strong>, and "
            out += "<code>drills.runbooks</code> lists no runbook.</p></section>\n"
        } else {
            if history.totalDrills == 0 {
                out += "<section class=\"card empty\"><p><strong>No drill has been run yet.</strong> "
                out += "Configured runbooks are listed as never drilled.</p></section>\n"
            }
            out += overview(history)
            for entry in history.runbooks { out += runbookSection(entry) }
        }
        out += "<footer>One self-contained file: no scripts, no remote assets. Times are UTC. "
        out += "RTO: drill start to the last verification passing; RPO: the drill's point in time minus the restored "
        out += "snapshot's data time (the worst source is charted).</footer>\n"
        out += "</main>\n</body>\n</html>\n"
        return out
    }

    static func overview(_ history: DrillHistory) -> String {
        var out = "<section class=\"card\">\n<h2>Summary</h2>\n"
        out += "<p class=\"lead\">\(ReportText.html(summaryLine(history)))</p>\n"
        out += "<table class=\"summary\">\n<thead><tr><th>Runbook</th><th>Status</th><th>Last drill</th><th>Result</th>"
        out += "<th>RTO (target)</th><th>Worst RPO (target)</th><th>RTO trend</th><th>Drills S/W/F</th></tr></thead>\n<tbody>\n"
        for entry in history.runbooks {
            out += "<tr><td><a class=\"plain\" href=\"#\(anchor(entry.runbook))\">\(ReportText.html(entry.runbook))</a></td>"
            out += "<td>\(statusBadge(entry.status))</td>"
            if let last = entry.lastDrill {
                out += "<td class=\"num\">\(ReportText.html(ReportText.time(last.startedAt)))</td>"
                out += "<td>\(resultBadge(last.result))</td>"
                out += "<td class=\"num\">\(verdictCell(last.rtoSeconds, last.rtoTargetSeconds, last.rtoMet))</td>"
                out += "<td class=\"num\">\(worstRPOCell(entry.worstRPO))</td>"
                out += "<td>\(changeCell(entry.rtoChange))</td>"
            } else {
                out += "<td class=\"muted\">never drilled</td><td class=\"muted\">-</td>"
                out += "<td class=\"num muted\">- (\(ReportText.html(target(entry.rtoTargetSeconds))))</td>"
                out += "<td class=\"muted\">-</td><td class=\"muted\">-</td>"
            }
            out += "<td class=\"num\">\(entry.counts.success)/\(entry.counts.warnings)/\(entry.counts.failed)</td></tr>\n"
        }
        out += "</tbody>\n</table>\n"
        let findings = history.runbooks.flatMap { entry in entry.findings.map { (entry.runbook, $0) } }
            .sorted { severityRank($0.1) < severityRank($1.1) }
        if !findings.isEmpty {
            out += "<h3>Findings</h3>\n<ul class=\"findings\">\n"
            for (runbook, finding) in findings {
                out += "<li class=\"\(finding.severity.rawValue)\"><span class=\"sev\">\(finding.severity.rawValue)</span> "
                out += "<strong>\(ReportText.html(runbook))</strong>: \(ReportText.html(finding.message))</li>\n"
            }
            out += "</ul>\n"
        }
        return out + "</section>\n"
    }

    static func runbookSection(_ entry: RunbookDrillHistory) -> String {
        var out = "<section class=\"card runbook\" id=\"\(anchor(entry.runbook))\">\n"
        out += "<h2>\(ReportText.html(entry.runbook)) \(statusBadge(entry.status))</h2>\n"
        var facts: [String] = []
        if let schedule = entry.schedule {
            facts.append("schedule <code>\(ReportText.html(schedule))</code> (\(ReportText.html(entry.timeZone ?? "UTC")))")
        } else {
            facts.append(entry.configured ? "no schedule" : "not in <code>drills.runbooks</code>")
        }
        if let due = entry.nextDrillDue {
            facts.append("next due \(ReportText.html(ReportText.time(due)))" + (entry.overdue ? " <strong class=\"miss\">OVERDUE</strong>" : ""))
        }
        facts.append("RTO target \(ReportText.html(target(entry.rtoTargetSeconds)))")
        facts.append("\(entry.counts.total) drill(s): \(entry.counts.success) SUCCESS, \(entry.counts.warnings) WARNINGS, \(entry.counts.failed) FAILED")
        out += "<p class=\"facts\">\(facts.joined(separator: " · "))</p>\n"
        guard let last = entry.lastDrill else {
            out += "<p class=\"never\">Never drilled. Run <code>drctl drill \(ReportText.html(entry.runbook))</code>.</p>\n"
            return out + "</section>\n"
        }
        out += "<table class=\"kv\">\n"
        out += kv("Last drill", ReportText.html(ReportText.time(last.startedAt)) + " · " + resultBadge(last.result)
                  + " · " + ReportText.html(last.trigger)
                  + (last.executionID.map { " · execution <code>\(ReportText.html($0))</code>" } ?? ""))
        out += kv("RTO", verdictCell(last.rtoSeconds, last.rtoTargetSeconds, last.rtoMet) + " · trend " + changeCell(entry.rtoChange))
        out += kv("Worst RPO", worstRPOCell(entry.worstRPO))
        out += "</table>\n"
        let chart = DrillChart(points: entry.trend, rtoTarget: entry.rtoTargetSeconds,
                               title: "RTO and worst RPO per drill of \(entry.runbook)")
        out += "<figure>\n\(chart.svg())</figure>\n"
        out += "<h3>Trend (oldest first)</h3>\n<table>\n<thead><tr><th>Started</th><th>Result</th><th>RTO</th><th>RTO target</th>"
        out += "<th>Worst RPO</th><th>RPO target</th><th>Trigger</th></tr></thead>\n<tbody>\n"
        for point in entry.trend {
            out += "<tr><td class=\"num\">\(ReportText.html(ReportText.time(point.startedAt)))</td><td>\(resultBadge(point.result))</td>"
            out += "<td class=\"num\">\(point.rtoSeconds.map { ReportText.html(ReportText.duration($0)) } ?? "-")</td>"
            out += "<td class=\"num\">\(targetCell(point.rtoTargetSeconds, point.rtoMet))</td>"
            out += "<td class=\"num\">\(point.rpoSeconds.map { ReportText.html(ReportText.duration($0)) } ?? "-")</td>"
            out += "<td class=\"num\">\(targetCell(point.rpoTargetSeconds, point.rpoMet))</td>"
            out += "<td>\(ReportText.html(point.trigger))</td></tr>\n"
        }
        out += "</tbody>\n</table>\n"
        if !last.snapshots.isEmpty {
            out += "<h3>RPO per source (last drill)</h3>\n<table>\n<thead><tr><th>Source</th><th>Snapshot</th><th>RPO</th>"
            out += "<th>Target</th></tr></thead>\n<tbody>\n"
            for s in last.snapshots {
                out += "<tr><td>\(ReportText.html(s.source))</td><td><code>\(ReportText.html(s.snapshotID))</code></td>"
                out += "<td class=\"num\">\(ReportText.html(ReportText.duration(s.rpoSeconds)))</td>"
                out += "<td class=\"num\">\(targetCell(s.targetSeconds, s.met))</td></tr>\n"
            }
            out += "</tbody>\n</table>\n"
        }
        if !entry.failedChecks.isEmpty {
            out += "<h3>Failed checks (last drill)</h3>\n<table>\n<thead><tr><th>Check</th><th>Detail</th></tr></thead>\n<tbody>\n"
            for check in entry.failedChecks {
                out += "<tr><td>\(ReportText.html(check.name))</td><td class=\"detail\">\(ReportText.html(check.detail))</td></tr>\n"
            }
            out += "</tbody>\n</table>\n"
        }
        if !entry.problems.isEmpty {
            out += "<h3>Problems (last drill)</h3>\n<ul class=\"problems\">\n"
            for problem in entry.problems { out += "<li>\(ReportText.html(problem))</li>\n" }
            out += "</ul>\n"
        }
        if !entry.notRehearsed.isEmpty {
            out += "<h3>Not rehearsed (last drill)</h3>\n<table>\n<thead><tr><th>Step</th><th>Title</th><th>Reason</th></tr></thead>\n<tbody>\n"
            for step in entry.notRehearsed {
                out += "<tr><td><code>\(ReportText.html(step.id))</code></td><td>\(ReportText.html(step.title))</td>"
                out += "<td>\(ReportText.html(step.reason ?? "-"))</td></tr>\n"
            }
            out += "</tbody>\n</table>\n"
        }
        return out + "</section>\n"
    }

    /// A fragment id from a runbook name: letters, digits, `-` and `_` kept, others hex-coded.
    static func anchor(_ name: String) -> String {
        var out = "runbook-"
        for scalar in name.unicodeScalars {
            if scalar.isASCII, CharacterSet.alphanumerics.contains(scalar) || scalar == "-" || scalar == "_" {
                out.unicodeScalars.append(scalar)
            } else {
                out += String(format: ".%X", scalar.value)
            }
        }
        return out
    }

    static func kv(_ key: String, _ valueHTML: String) -> String {
        "<tr><th scope=\"row\">\(ReportText.html(key))</th><td>\(valueHTML)</td></tr>\n"
    }

    static func statusBadge(_ status: RunbookDrillHistory.Status) -> String {
        "<span class=\"badge b-\(status.rawValue)\">\(statusText(status))</span>"
    }

    static func resultBadge(_ result: DrillResultKind) -> String {
        "<span class=\"badge r-\(result.rawValue.lowercased())\">\(result.rawValue)</span>"
    }

    static func verdictCell(_ seconds: Double?, _ target: Int?, _ met: Bool?) -> String {
        let value = seconds.map { ReportText.html(ReportText.duration($0)) } ?? "-"
        guard target != nil else { return value }
        return "\(value) <span class=\"of\">(\(targetCell(target, met)))</span>"
    }

    static func targetCell(_ seconds: Int?, _ met: Bool?) -> String {
        guard let seconds else { return "-" }
        let text = ReportText.html(ReportText.duration(Double(seconds)))
        switch met {
        case .some(true): return "\(text) <span class=\"met\">met</span>"
        case .some(false): return "\(text) <span class=\"miss\">MISSED</span>"
        case .none: return text
        }
    }

    static func worstRPOCell(_ worst: SnapshotRPO?) -> String {
        guard let worst else { return "-" }
        return verdictCell(worst.rpoSeconds, worst.targetSeconds, worst.met) + " <span class=\"muted\">\(ReportText.html(worst.source))</span>"
    }

    static func changeCell(_ change: RTOChange?) -> String {
        guard let change else { return "<span class=\"muted\">-</span>" }
        let css = change.direction == .better ? "met" : (change.direction == .worse ? "miss" : "muted")
        return "<span class=\"\(css)\">\(ReportText.html(changeText(change)))</span>"
    }

    /// The report's style sheet: no `<`, `&` or remote references, so the file stays
    /// self-contained and well-formed XML.
    static let styleSheet = """

        :root { color-scheme: light; }
        * { box-sizing: border-box; }
        body { margin: 0; background: #eef2f6; color: #0f172a;
          font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Liberation Sans", sans-serif; }
        main { max-width: 1040px; margin: 0 auto; padding: 28px 24px 40px; }
        header h1 { font-size: 24px; margin: 0 0 2px; letter-spacing: -0.01em; }
        .meta, .muted, footer { color: #64748b; }
        footer { font-size: 12px; margin-top: 20px; }
        .card { background: #ffffff; border: 1px solid #dde3ea; border-radius: 10px; padding: 18px 22px 20px; margin: 18px 0;
          box-shadow: 0 1px 2px rgba(15, 23, 42, 0.05); }
        .card.empty { border-color: #f5d08a; background: #fffbeb; }
        h2 { font-size: 18px; margin: 0 0 8px; display: flex; align-items: center; gap: 10px; }
        h3 { font-size: 13px; margin: 18px 0 6px; color: #334155; text-transform: uppercase; letter-spacing: 0.05em; }
        .lead { margin: 0 0 10px; font-weight: 600; }
        .facts { margin: 0 0 10px; color: #475569; }
        table { border-collapse: collapse; width: 100%; }
        th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid #e8edf2; vertical-align: top; }
        thead th { font-size: 11px; text-transform: uppercase; letter-spacing: 0.05em; color: #64748b; font-weight: 600;
          border-bottom: 1px solid #cbd5e1; }
        table.kv { width: auto; margin-bottom: 6px; }
        table.kv th { color: #64748b; font-weight: 600; padding-left: 0; width: 9em; }
        .num { font-variant-numeric: tabular-nums; white-space: nowrap; }
        table.summary td.num { white-space: normal; }
        table.summary td:first-child { min-width: 9em; overflow-wrap: anywhere; }
        td.detail { font-family: ui-monospace, "SFMono-Regular", "DejaVu Sans Mono", Menlo, monospace; font-size: 12px;
          white-space: pre-wrap; word-break: break-word; }
        code { font-family: ui-monospace, "SFMono-Regular", "DejaVu Sans Mono", Menlo, monospace; font-size: 12px;
          background: #f1f5f9; padding: 1px 5px; border-radius: 4px; }
        a.plain { color: inherit; text-decoration: none; border-bottom: 1px dotted #94a3b8; }
        .badge { display: inline-block; padding: 1px 9px; border-radius: 999px; font-size: 11px; font-weight: 700;
          letter-spacing: 0.03em; line-height: 18px; }
        .b-ok, .r-success { background: #dcfce7; color: #166534; }
        .b-warning, .r-warnings { background: #fef3c7; color: #92400e; }
        .b-failing, .r-failed { background: #fee2e2; color: #991b1b; }
        .met { color: #15803d; font-weight: 600; }
        .miss { color: #b91c1c; font-weight: 700; }
        .of { color: #475569; }
        ul.findings { list-style: none; padding: 0; margin: 0; }
        ul.findings li { padding: 6px 10px; border-left: 4px solid #f59e0b; background: #fffbeb; margin: 4px 0; border-radius: 0 6px 6px 0; }
        ul.findings li.failing { border-left-color: #dc2626; background: #fef2f2; }
        .sev { font-size: 11px; font-weight: 700; text-transform: uppercase; color: #92400e; margin-right: 4px; }
        li.failing .sev { color: #991b1b; }
        ul.problems { margin: 0; padding-left: 20px; }
        .never { color: #92400e; }
        figure { margin: 12px 0 4px; overflow-x: auto; }
        svg.chart { display: block; max-width: none; font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, "Liberation Sans", sans-serif; }
        @media print { body { background: #ffffff; } .card { box-shadow: none; break-inside: avoid; } }

        """
}
