public import DRCore
public import Foundation

/// The Prometheus textfile (`metrics_file:`) for node_exporter's textfile collector: backups
/// per source and the newest drill per runbook.
public enum Metrics {
    /// The exposition text for `histories` at `now`, sources in name order. A series is left
    /// out for a source that has no value for it yet (e.g. no verified snapshot).
    public static func render(_ histories: [SourceHistory], now: Date) -> String {
        let sorted = histories.sorted { $0.source < $1.source }
        var text = ""
        func family(_ name: String, _ type: String, _ help: String, _ value: (SourceHistory) -> Double?) {
            text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for history in sorted {
                guard let value = value(history) else { continue }
                text += "\(name){source=\"\(escape(history.source))\"} \(number(value))\n"
            }
        }
        family("drctl_backup_last_success_timestamp_seconds", "gauge",
               "Unix time the newest successful backup attempt of the source started.") {
            $0.lastSuccess?.timeIntervalSince1970
        }
        family("drctl_backup_duration_seconds", "gauge", "Wall-clock seconds of the newest successful backup attempt.") {
            $0.lastDurationSeconds
        }
        family("drctl_backup_bytes", "gauge", "Stored bytes the newest snapshot of the source added to the repository.") {
            $0.lastBytes.map(Double.init)
        }
        family("drctl_backup_failures_total", "counter", "Failed backup attempts of the source recorded in the catalog.") {
            Double($0.failures)
        }
        family("drctl_snapshot_verified_timestamp_seconds", "gauge", "Unix time the newest verified snapshot of the source was verified.") {
            $0.verifiedAt?.timeIntervalSince1970
        }
        family("drctl_rpo_seconds", "gauge", "Age in seconds of the data in the newest verified snapshot (the current recovery point).") {
            $0.rpoSeconds(at: now)
        }
        return text
    }

    /// The exposition text for the newest drill of each runbook in `reports`, runbooks in
    /// name order; empty when no drill ran.
    public static func renderDrills(_ reports: [DrillReport]) -> String {
        var latest: [String: DrillReport] = [:]
        for report in reports where (latest[report.runbook]?.startedAt ?? .distantPast) <= report.startedAt {
            latest[report.runbook] = report
        }
        let sorted = latest.values.sorted { $0.runbook < $1.runbook }
        guard !sorted.isEmpty else { return "" }
        var text = ""
        func family(_ name: String, _ help: String, _ value: (DrillReport) -> Double?) {
            text += "# HELP \(name) \(help)\n# TYPE \(name) gauge\n"
            for report in sorted {
                guard let value = value(report) else { continue }
                text += "\(name){runbook=\"\(escape(report.runbook))\"} \(number(value))\n"
            }
        }
        family("drctl_drill_last_timestamp_seconds", "Unix time the newest drill of the runbook started.") {
            $0.startedAt.timeIntervalSince1970
        }
        family("drctl_drill_success", "1 when the newest drill of the runbook passed (SUCCESS or WARNINGS), 0 when it FAILED.") {
            $0.result == .failed ? 0 : 1
        }
        family("drctl_drill_rto_seconds", "Measured RTO of the newest drill of the runbook.") { $0.rtoSeconds }
        family("drctl_drill_rpo_seconds", "Worst RPO of the newest drill of the runbook.") { $0.rpoSeconds }
        return text
    }

    /// Per configured source, how many of its snapshots failed their last verification.
    public static func renderVerification(_ snapshots: [SnapshotRecord], sources: [String]) -> String {
        var text = "# HELP drctl_snapshots_failing_verification Snapshots of the source whose last verification failed (restores skip them).\n"
        text += "# TYPE drctl_snapshots_failing_verification gauge\n"
        for source in sources.sorted() {
            let failing = snapshots.filter { $0.source == source && ($0.verifyResult ?? "").hasPrefix("FAILED") }.count
            text += "drctl_snapshots_failing_verification{source=\"\(escape(source))\"} \(failing)\n"
        }
        return text
    }

    /// Writes the textfile for every configured source atomically (temporary file, fsync,
    /// rename), so the collector never reads half a file. Does nothing without `metrics_file:`.
    public static func write(_ workspace: Workspace) throws {
        guard let path = workspace.config.metricsFile else { return }
        let histories = try SourceHistory.load(workspace, sources: workspace.config.sources.map(\.name))
        let text = render(Array(histories.values), now: workspace.now())
            + renderVerification(try workspace.catalog.snapshots(), sources: workspace.config.sources.map(\.name))
            + renderDrills(try workspace.catalog.drillReports(limit: 1))
        try FileIO.atomicWrite(Array(text.utf8), to: path, mode: 0o644)
    }

    private static func escape(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }

    private static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(format: "%.3f", value)
    }
}
