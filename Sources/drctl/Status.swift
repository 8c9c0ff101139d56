import ArgumentParser
import DRCore
import Foundation
import Scheduler

#if canImport(Glibc)
import Glibc
#endif

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show each source's last runs, RPO against its target, and next run.",
        discussion: "Exits 0 when every rpo_target holds and 1 when any is breached (usable as a monitoring check).")

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Print as JSON.")
    var json = false

    func run() throws {
        let workspace = try global.openWorkspace()
        let statuses = try SourceStatus.compute(workspace, now: workspace.now())
        if json {
            try Terminal.json(statuses)
        } else {
            let colour = isatty(STDOUT_FILENO) != 0 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
            func paint(_ text: String, _ code: String) -> String { colour ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text }
            Terminal.table(
                ["SOURCE", "LAST SUCCESS", "LAST FAILURE", "RPO", "TARGET", "NEXT RUN", "ERROR"],
                statuses.map { s in
                    let rpo = s.rpoSeconds.map { duration($0) } ?? "-"
                    let state = s.rpoTargetSeconds == nil ? rpo : paint(rpo + (s.breached ? " BREACHED" : " ok"), s.breached ? "31" : "32")
                    let skipped = s.lastSkipped.map { " (skipped \(Terminal.time($0.slot)): late)" } ?? ""
                    return [s.source, Terminal.time(s.lastSuccess), Terminal.time(s.lastFailure), state,
                            s.rpoTargetSeconds.map { duration(Double($0)) } ?? "-", Terminal.time(s.nextRun) + skipped,
                            s.lastError ?? "-"]
                })
        }
        if statuses.contains(where: \.breached) { throw ExitCode(1) }
    }

    private func duration(_ seconds: Double) -> String {
        let s = Int(seconds)
        if s >= 86_400 { return "\(s / 86_400)d\((s % 86_400) / 3600)h" }
        if s >= 3600 { return "\(s / 3600)h\((s % 3600) / 60)m" }
        if s >= 60 { return "\(s / 60)m\(s % 60)s" }
        return "\(s)s"
    }
}
