import DRCore
import Foundation

/// Plans and recaps as lines for people (the CLI prints them; the executor sends them to
/// its output callback).
public enum PlanFormatter {
    /// The plan: runbook, binding time, snapshots with their age (RPO), then every step.
    public static func lines(_ plan: Plan) -> [String] {
        var lines = ["Runbook \(plan.runbook.name): \(plan.runbook.title)",
                     "  from \(plan.runbook.origin) (sha256 \(plan.runbook.contentHash.prefix(12)))",
                     "  snapshots bound at or before \(ISO8601.format(plan.at))"]
        if plan.snapshots.isEmpty {
            lines.append("  no snapshots bound")
        } else {
            for snapshot in plan.snapshots {
                var text = "  snapshot \(snapshot.id.prefix(8))"
                if let source = snapshot.source { text += " of \(source)" }
                if let kind = snapshot.kind { text += " (\(kind))" }
                if let dataTime = snapshot.dataTime { text += ", data time \(ISO8601.format(dataTime))" }
                if let age = snapshot.ageSeconds { text += ", age \(duration(age))" }
                if snapshot.source == nil { text += " (not in the catalog)" }
                lines.append(text)
            }
            if let rpo = plan.rpoSeconds { lines.append("  RPO of this restore: \(duration(rpo))") }
        }
        for (index, step) in plan.steps.enumerated() {
            var flags: [String] = ["timeout \(duration(step.timeout.seconds))"]
            if step.step.retries > 0 { flags.append("retries \(step.step.retries), delay \(duration(step.step.delay.seconds))") }
            if step.needsConfirmation { flags.append("asks for confirmation") }
            if step.step.onFailure == .continue { flags.append("on failure: continue") }
            lines.append("")
            lines.append("[\(index + 1)/\(plan.steps.count)] \(step.step.id): \(step.step.title)")
            lines.append("    \(step.kind) (line \(step.step.line); \(flags.joined(separator: "; ")))")
            if let check = step.check { lines.append("    skipped when already done: $ \(check)") }
            lines.append(contentsOf: step.plan.map { "    \($0)" })
            for id in step.snapshots {
                let bound = plan.snapshots.first { $0.id == id }
                let age = bound?.ageSeconds.map { ", age \(duration($0))" } ?? ""
                lines.append("    restores snapshot \(id.prefix(8))\(age)")
            }
        }
        return lines
    }

    /// The recap: one line per step with its final status, then the execution status and RTO.
    public static func recap(_ result: ExecutionResult) -> [String] {
        var lines = ["", "Recap of execution \(result.executionID) (\(result.runbook)):"]
        let width = result.steps.map(\.id.count).max() ?? 0
        for step in result.steps {
            let status = step.status?.rawValue ?? "not run"
            let attempts = step.attempts > 1 ? " (\(step.attempts) attempts)" : ""
            let id = attempts.isEmpty ? step.id : step.id.padding(toLength: width, withPad: " ", startingAt: 0)
            lines.append("  \(status.padding(toLength: 8, withPad: " ", startingAt: 0)) \(id)\(attempts)")
        }
        let counts = StepStatus.allCases.map { status in "\(result.steps.filter { $0.status == status }.count) \(status.rawValue)" }
        lines.append("  \(counts.joined(separator: ", "))")
        var end = "Execution \(result.status.rawValue)"
        let passedOver = result.steps.filter { $0.status == .failed }.count
        if result.status == .succeeded && passedOver > 0 { end += " (\(passedOver) failed step(s) passed over: on_failure: continue)" }
        if let rto = result.rtoSeconds { end += "; measured RTO \(duration(rto))" }
        lines.append(end)
        return lines
    }

    /// `1h 2m 3s`, `4m 5s`, `6.2s`.
    public static func duration(_ seconds: Double) -> String {
        if seconds < 60 { return String(format: "%.1fs", max(0, seconds)) }
        let total = Int(seconds.rounded())
        let (h, m, s) = (total / 3600, total % 3600 / 60, total % 60)
        if h >= 48 { return "\(h / 24)d \(h % 24)h" }
        return h > 0 ? "\(h)h \(m)m \(s)s" : "\(m)m \(s)s"
    }
}
