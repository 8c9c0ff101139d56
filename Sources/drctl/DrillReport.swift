import ArgumentParser
import DRCore
import Foundation
import Restore
import Scheduler

#if canImport(Glibc)
import Glibc
#endif

/// `drctl drill report`: thin over ``DrillHistory`` and ``DrillReportRenderer``.
struct DrillReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report", abstract: "Report past DR drills: results, RTO/RPO against targets, trend, findings.",
        discussion: """
            Formats: md (default), html (one self-contained file with charts), json (docs/DRILL-REPORTS.md). \
            Exit 0, or 1 when a listed runbook's last drill FAILED, missed its RTO or RPO target, or a scheduled \
            drill is overdue (the report is still printed or written first).
            """)

    @OptionGroup var global: GlobalOptions

    @Option(help: ArgumentHelp("md, html or json (default: from the --out extension, else md).", valueName: "format"))
    var format: String?

    @Option(help: ArgumentHelp("Write the report to this file (atomically, mode 0644) and print its path.", valueName: "file"))
    var out: String?

    @Option(name: .customLong("runbook"), help: ArgumentHelp("Only this runbook (repeatable).", valueName: "name"))
    var runbooks: [String] = []

    @Option(help: ArgumentHelp("Drills per runbook in the trend and chart.", valueName: "n"))
    var last = 10

    func validate() throws {
        if let format, DrillReportRenderer.Format(rawValue: format) == nil {
            throw ValidationError("--format \(format) is not one of md, html, json")
        }
        guard (1...1000).contains(last) else { throw ValidationError("--last must be between 1 and 1000") }
    }

    /// The format asked for, else the one `--out`'s extension names, else Markdown.
    var resolvedFormat: DrillReportRenderer.Format {
        if let format, let chosen = DrillReportRenderer.Format(rawValue: format) { return chosen }
        switch out.map({ ($0 as NSString).pathExtension.lowercased() }) {
        case "html", "htm": return .html
        case "json": return .json
        default: return .md
        }
    }

    func run() throws {
        let workspace = try global.openWorkspace()
        let known = Set(workspace.config.drillSettings.runbooks.map(\.runbook))
        let drilled = Set(try workspace.catalog.drillReports().map(\.runbook))
        for name in runbooks where !known.contains(name) && !drilled.contains(name) {
            _ = try RunbookLoader.load(name: name, config: workspace.config)
        }
        let history = try DrillHistory.load(
            workspace, runbooks: runbooks, last: last, now: workspace.now(), nextSlot: Self.nextSlot)
        let bytes = try DrillReportRenderer.render(history, as: resolvedFormat)
        if let out {
            let given = (out as NSString).standardizingPath
            let path = given.hasPrefix("/") ? given : FileManager.default.currentDirectoryPath + "/" + given
            if FileIO.isDirectory(path) {
                throw DRError(.refused, "--out \(out) is a directory", hint: "name a file, e.g. \(out)/drill-report.html")
            }
            let parent = (path as NSString).deletingLastPathComponent
            if !parent.isEmpty, !FileIO.isDirectory(parent) {
                throw DRError(.notFound, "--out \(out): folder \(parent) does not exist")
            }
            try FileIO.atomicWrite(bytes, to: path, mode: 0o644)
            _ = chmod(path, 0o644)  // the umask may have narrowed it
            print(path)
        } else {
            FileHandle.standardOutput.write(Data(bytes))
        }
        if history.totalDrills == 0 {
            Terminal.warning("no drill has been run yet" + (history.runbooks.isEmpty
                ? " and drills.runbooks lists no runbook" : "; configured runbooks are listed as never drilled"))
        }
        let failing = history.runbooks.filter { $0.status == .failing }
        if !failing.isEmpty {
            Terminal.warning("failing: " + failing.map { entry in
                "\(entry.runbook) (\(entry.findings.filter { $0.severity == .failing }.map(\.kind).joined(separator: ", ")))"
            }.joined(separator: "; "))
            throw ExitCode(1)
        }
    }

    /// The runbook's next scheduled drill after `date`, from its `schedule` and `timezone`.
    static func nextSlot(_ runbook: DrillRunbookConfig, _ date: Date) -> Date? {
        guard let expression = runbook.schedule, let zone = TimeZone(identifier: runbook.timeZone),
              let schedule = try? CronSchedule(parsing: expression, timeZone: zone)
        else { return nil }
        return schedule.next(after: date)
    }
}
