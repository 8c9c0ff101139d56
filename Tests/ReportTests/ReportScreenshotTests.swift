import DRCore
import Foundation
import Restore
import Testing
import TestSupport

/// Renders the HTML report in headless Chromium (Debian `chromium`, installed by
/// scripts/test) and checks the picture itself.
@Suite("Drill report screenshot")
struct ReportScreenshotTests {
    static let chromium = "/usr/bin/chromium"

    /// One runbook with a 30m RTO target: 6m and 12m (met), then 47m (missed); RPOs have no
    /// target, so the only green and red markers in the chart are the RTO points.
    static func history() -> DrillHistory {
        let F = DrillHistoryFixture.self
        let drills: [(Double, Double)] = [(360, 3 * 3600), (720, 2 * 3600), (47 * 60, 4 * 3600)]
        let reports = drills.enumerated().map { index, drill in
            F.report("corrupted-repo", index + 1, daysAfterStart: Double(index) * 7, result: .success, rto: drill.0,
                     rtoTarget: 1800, rpo: drill.1, rpoTarget: nil)
        }
        return DrillHistory.build(reports: reports, configured: [F.configured[0]], last: 10,
                                  now: F.start.addingTimeInterval(15 * F.day), nextSlot: F.nextSlot)
    }

    /// Renders `html` with Chromium into a 1200x1600 PNG in `dir` and decodes it.
    static func screenshot(_ html: String, in dir: String) throws -> PNGImage {
        let page = "\(dir)/report.html"
        let png = "\(dir)/report.png"
        try FileIO.atomicWrite(Array(html.utf8), to: page)
        var environment = Environment.current
        environment["HOME"] = dir
        environment["XDG_CONFIG_HOME"] = "\(dir)/.config"
        environment["XDG_CACHE_HOME"] = "\(dir)/.cache"
        var command = Command(chromium, [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
            "--force-device-scale-factor=1", "--no-first-run", "--user-data-dir=\(dir)/profile",
            "--screenshot=\(png)", "--window-size=1200,1600", "file://\(page)",
        ], environment: environment)
        command.timeout = .seconds(120)
        let result = try command.run()
        guard result.succeeded, FileIO.exists(png) else {
            throw DRError(.failed, "chromium failed (status \(result.status), timed out: \(result.timedOut)): \(result.stderr)")
        }
        return try PNGImage(contentsOf: png)
    }

    @Test("the HTML report renders in headless Chromium: chart drawn, target line, a slower drill drawn higher",
          .enabled(if: FileManager.default.isExecutableFile(atPath: chromium), "needs Debian chromium (scripts/test installs it)"))
    func screenshot() throws {
        let html = DrillReportRenderer.html(Self.history())
        try withTemporaryDirectory { dir in
            let image = try Self.screenshot(html, in: dir)
            #expect(image.width == 1200 && image.height == 1600)
            #expect(image.distinctColours > 100, "a blank or unstyled page")

            func colour(_ hex: String) throws -> PNGImage.RGB { try #require(PNGImage.RGB(hex: hex)) }
            let plot = try #require(image.bounds(of: try colour(DrillChartPalette.plot)), "no chart plot area in the picture")
            #expect(plot.width > 700 && plot.height > 200, "\(plot)")

            let rto = image.points(near: try colour(DrillChartPalette.rto), tolerance: 10, in: plot)
            #expect(rto.count > 100, "RTO series pixels: \(rto.count)")

            // The dashed target line: the row holding most target-coloured pixels spans the plot.
            let target = image.points(near: try colour(DrillChartPalette.rtoTarget), tolerance: 10, in: plot)
            var rows: [Int: Int] = [:]
            for point in target { rows[point.y, default: 0] += 1 }
            let line = try #require(rows.max { $0.value < $1.value }, "no RTO target line")
            #expect(line.value > plot.width / 3, "target row \(line.key) has \(line.value) pixels")

            let green = image.points(near: try colour(DrillChartPalette.met), tolerance: 12, in: plot)
            let red = image.points(near: try colour(DrillChartPalette.missed), tolerance: 12, in: plot)
            #expect(green.count > 80 && red.count > 40, "markers: \(green.count) green, \(red.count) red")
            guard !green.isEmpty, !red.isEmpty else { return }
            let greenY = Double(green.map(\.y).reduce(0, +)) / Double(green.count)
            let redY = Double(red.map(\.y).reduce(0, +)) / Double(red.count)
            // 47m is drawn higher than 6m and 12m, above the 30m target; they sit below it.
            #expect(redY < greenY - 20, "red at y \(redY), green at y \(greenY)")
            #expect(redY < Double(line.key) && greenY > Double(line.key), "target line at y \(line.key)")
            // The newest drill is the rightmost.
            #expect((red.map(\.x).min() ?? 0) > (green.map(\.x).max() ?? .max))
        }
    }
}
