import DRCore
import Foundation
import Restore
import Testing
import TestSupport

/// `drctl drill report` end to end: the real binary over a catalog holding the fixture's drills.
@Suite("drctl drill report")
struct DrillReportCLITests {
    typealias F = DrillHistoryFixture

    @Test("formats, --out, --runbook and exit codes: 1 while a runbook is failing, 0 for never drilled")
    func command() throws {
        try withTemporaryDirectory { dir in
            let workspace = try makeWorkspace(in: "\(dir)/drctl", sourcesYAML: "  []\n", topLevelYAML: F.drillsYAML)
            try F.record(in: workspace)
            let config = workspace.config.file

            let md = try runDrctl(["drill", "report", "--config", config])
            #expect(md.status == 1, "\(md.stderr)")
            #expect(md.stdoutText.contains("# DR drill report") && md.stdoutText.contains("| corrupted-repo"))
            #expect(md.stderr.contains("failing: corrupted-repo (rto-missed"), "\(md.stderr)")

            let json = try runDrctl(["drill", "report", "--format", "json", "--last", "2", "--config", config])
            let history = try DrillReportRenderer.decoder().decode(DrillHistory.self, from: Data(json.stdout))
            #expect(history.schemaVersion == 1 && history.last == 2)
            #expect(history.runbooks.map(\.runbook) == ["corrupted-repo", "cluster-loss", F.hostile])
            #expect(history.runbooks[0].trend.count == 2 && history.runbooks[0].counts.total == 4)

            let out = "\(dir)/reports/drills.html"
            try FileManager.default.createDirectory(atPath: "\(dir)/reports", withIntermediateDirectories: true)
            let html = try runDrctl(["drill", "report", "--out", out, "--config", config])
            #expect(html.status == 1)
            #expect(html.stdoutText == out + "\n")
            let written = String(decoding: try FileIO.read(out), as: UTF8.self)
            #expect(written.hasPrefix("<!DOCTYPE html>") && written.contains("<svg"))
            let mode = try FileManager.default.attributesOfItem(atPath: out)[.posixPermissions] as? Int
            #expect(mode == 0o644)
            #expect(FileIO.list("\(dir)/reports") == ["drills.html"])  // no temporary file left

            let directory = try runDrctl(["drill", "report", "--out", "\(dir)/reports", "--config", config])
            #expect(directory.status == DRError.Code.refused.exitCode)
            #expect(directory.stderr.contains("is a directory"))

            let never = try runDrctl(["drill", "report", "--runbook", "cluster-loss", "--config", config])
            #expect(never.status == 0, "\(never.stderr)")
            #expect(never.stdoutText.contains("never drilled") && !never.stdoutText.contains("corrupted-repo"))

            let unknown = try runDrctl(["drill", "report", "--runbook", "no-such-runbook", "--config", config])
            #expect(unknown.status == DRError.Code.notFound.exitCode)
            let badFormat = try runDrctl(["drill", "report", "--format", "pdf", "--config", config])
            #expect(badFormat.status == 64)
        }
    }

    @Test("with no drill ever run the report says so and exits 0")
    func noDrills() throws {
        try withTemporaryDirectory { dir in
            let workspace = try makeWorkspace(in: "\(dir)/drctl", sourcesYAML: "  []\n", topLevelYAML: F.drillsYAML)
            let result = try runDrctl(["drill", "report", "--config", workspace.config.file])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdoutText.contains("No drill has been run yet"))
            #expect(result.stdoutText.contains("| cluster-loss") && result.stdoutText.contains("never drilled"))
            #expect(result.stderr.contains("no drill has been run yet"))
        }
    }
}
