import DRCore
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Restore
import Testing
import TestSupport

/// `drctl drill report`: the history model built from stored drill reports, and its
/// Markdown, JSON and HTML renderings.
@Suite("Drill reports")
struct DrillReportTests {
    typealias F = DrillHistoryFixture

    @Test("the history: last result, RTO/RPO against targets, trend, counts, findings, never drilled")
    func history() throws {
        let history = F.history()
        #expect(history.runbooks.map(\.runbook) == ["corrupted-repo", "cluster-loss", F.hostile])
        #expect(history.totalDrills == 6)
        #expect(history.schemaVersion == DrillHistory.currentSchemaVersion)
        #expect(history.failing)

        let repo = history.runbooks[0]
        #expect(repo.status == .failing)
        #expect(repo.counts == DrillCounts(success: 2, warnings: 1, failed: 1))
        #expect(repo.trend.map(\.result) == [.success, .success, .failed, .warnings])
        #expect(repo.trend.map(\.rtoSeconds) == [360, 720, nil, 2820])
        let last = try #require(repo.lastDrill)
        #expect(last.result == .warnings && last.rtoMet == false && last.rtoTargetSeconds == 1800)
        #expect(repo.rtoChange?.direction == .worse && repo.rtoChange?.previousSeconds == 720
                && repo.rtoChange?.deltaSeconds == 2100)
        #expect(repo.worstRPO?.source == "gitops" && repo.worstRPO?.met == true && repo.worstRPO?.rpoSeconds == 5 * 3600)
        #expect(repo.notRehearsed.map(\.id) == ["pause-autosync", "resume-autosync"])
        #expect(repo.notRehearsed.first?.reason == "no drills.cluster configured")
        #expect(repo.findings.map(\.kind) == ["rto-missed", "not-rehearsed"])
        #expect(repo.findings.first?.message == "RTO 47m missed the 30m target")
        #expect(repo.nextDrillDue == F.start.addingTimeInterval(28 * F.day) && !repo.overdue)
        #expect(repo.failedChecks.isEmpty && repo.problems.isEmpty)

        let never = history.runbooks[1]
        #expect(never.neverDrilled && never.status == .warning && never.configured)
        #expect(never.findings.map(\.kind) == ["never-drilled"])
        #expect(never.rtoTargetSeconds == 4 * 3600 && never.trend.isEmpty && never.counts.total == 0)

        let hostile = history.runbooks[2]
        #expect(hostile.status == .failing && !hostile.configured && hostile.schedule == nil)
        #expect(hostile.failedChecks.map(\.name) == [F.hostileCheck])
        #expect(hostile.findings.map(\.kind) == ["failed"])
        #expect(hostile.rtoChange == nil)

        // --last 2 keeps the newest two on the trend; counts still cover every stored drill.
        let short = F.history(last: 2).runbooks[0]
        #expect(short.trend.map(\.rtoSeconds) == [nil, 2820])
        #expect(short.counts.total == 4)
        // --runbook filters and keeps the asked order; an unknown name is listed as never drilled.
        #expect(F.history(runbooks: [F.hostile, "corrupted-repo", "other"]).runbooks.map(\.runbook)
                == ["corrupted-repo", F.hostile, "other"])
    }

    @Test("a scheduled drill past due is overdue (failing); never drilled and no config is only a warning")
    func overdue() {
        let late = DrillHistory.build(reports: F.reports, configured: F.configured, last: 10,
                                      now: F.start.addingTimeInterval(30 * F.day), nextSlot: F.nextSlot)
        let repo = late.runbooks[0]
        #expect(repo.overdue && repo.findings.contains { $0.kind == "overdue" && $0.severity == .failing })
        // Within the grace period (the 30m RTO target is below one hour) it is not overdue yet.
        let due = F.start.addingTimeInterval(28 * F.day)
        let grace = DrillHistory.build(reports: F.reports, configured: F.configured, last: 10,
                                       now: due.addingTimeInterval(3500), nextSlot: F.nextSlot)
        #expect(!grace.runbooks[0].overdue)
        let empty = DrillHistory.build(reports: [], configured: [], now: F.now)
        #expect(empty.runbooks.isEmpty && !empty.failing)
        #expect(DrillReportRenderer.markdown(empty).contains("No drill has been run yet"))
        let unconfigured = DrillHistory.build(reports: [], configured: F.configured, now: F.now, nextSlot: F.nextSlot)
        #expect(!unconfigured.failing && unconfigured.runbooks.allSatisfy { $0.neverDrilled && $0.status == .warning })
        #expect(DrillReportRenderer.html(unconfigured).contains("No drill has been run yet."))
    }

    @Test("history of several drills renders into md, html and json")
    func renders() throws {
        let history = F.history()

        // JSON: decodes back to the same history, with documented keys and ISO 8601 dates.
        let json = try DrillReportRenderer.json(history)
        let decoded = try DrillReportRenderer.decoder().decode(DrillHistory.self, from: Data(json))
        #expect(decoded == history)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json)) as? [String: Any])
        #expect(object["schemaVersion"] as? Int == 1)
        #expect((object["generatedAt"] as? String).flatMap(ISO8601.parse) == F.now)
        let runbooks = try #require(object["runbooks"] as? [[String: Any]])
        let repo = runbooks[0]
        #expect(repo["runbook"] as? String == "corrupted-repo" && repo["status"] as? String == "failing")
        let lastDrill = try #require(repo["lastDrill"] as? [String: Any])
        #expect(lastDrill["rtoSeconds"] as? Double == 2820 && lastDrill["rtoMet"] as? Bool == false)
        #expect(lastDrill["result"] as? String == "WARNINGS" && lastDrill["startedAt"] as? String == "2026-03-22T03:00:00.000Z")
        let counts = try #require(repo["counts"] as? [String: Any])
        #expect(["success", "warnings", "failed", "total"].map { counts[$0] as? Int } == [2, 1, 1, 4])
        #expect((repo["rtoChange"] as? [String: Any])?["direction"] as? String == "worse")
        #expect((repo["trend"] as? [Any])?.count == 4)
        #expect((runbooks[1]["lastDrill"]) == nil || runbooks[1]["lastDrill"] is NSNull)
        #expect(((runbooks[2]["failedChecks"] as? [[String: Any]])?.first?["name"] as? String) == F.hostileCheck)

        // Markdown: the summary rows, the trend rows, the findings, escaped markup.
        let md = DrillReportRenderer.markdown(history)
        let rows = md.split(separator: "\n").map(String.init)
        let summary = try #require(rows.first { $0.hasPrefix("| corrupted-repo") })
        for cell in ["FAILING", "2026-03-22 03:00 UTC", "WARNINGS", "47m (30m MISSED)", "5h gitops (1d met)", "worse (+35m)", "2/1/1"] {
            #expect(summary.contains(cell), "\(cell) in \(summary)")
        }
        #expect(rows.contains { $0.hasPrefix("| cluster-loss") && $0.contains("never drilled") && $0.contains("4h") })
        #expect(rows.filter { $0.hasPrefix("| 2026-03-") }.count == 6)  // 4 + 2 trend rows
        #expect(rows.contains { $0.hasPrefix("| pause-autosync") && $0.contains("no drills.cluster configured") })
        #expect(md.contains("- **corrupted-repo** (failing): RTO 47m missed the 30m target"))
        #expect(md.contains(F.corruptObject) == false)  // the FAILED drill is not the last one of corrupted-repo
        #expect(md.contains("\\<img src=x onerror=alert(1)\\> refs"))
        #expect(!md.contains(F.hostile) && !md.contains(F.hostileCheck))
        let bare = md.indices.filter { md[$0] == "<" && ($0 == md.startIndex || md[md.index(before: $0)] != "\\") }
        #expect(bare.isEmpty, "unescaped < in the Markdown")
        let aligned = rows.filter { $0.hasPrefix("| ") }
        #expect(aligned.allSatisfy { $0.hasSuffix(" |") })

        // HTML: self-contained, well-formed, escaped, one chart per drilled runbook.
        let html = DrillReportRenderer.html(history)
        #expect(!html.contains("http://") && !html.contains("https://"))
        for forbidden in ["<script", "<img", "<link", "<iframe", "@import", "url(", "src=\""] {
            #expect(!html.contains(forbidden), "\(forbidden)")
        }
        #expect(html.contains("evil&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;co &#39;q&#39;"))
        #expect(html.contains("&lt;img src=x onerror=alert(1)&gt; refs"))
        #expect(html.contains("expected &quot;a&amp;b&quot; &lt;got&gt; &#39;c&#39;"))
        let document = try XMLShape(html)
        #expect(document.count("svg") == 2)
        #expect(document.count("html") == 1 && document.count("table") >= 5)
        let charts = html.components(separatedBy: "<svg").dropFirst().map { "<svg" + $0.components(separatedBy: "</svg>")[0] + "</svg>" }
        let first = try XMLShape(try #require(charts.first))
        #expect(first.count("circle", excludingLegend: true) == 3)  // three drills of corrupted-repo had an RTO
        #expect(first.count("rect", excludingLegend: true) == 6)  // plot, failed column, four RPO markers
        // Target labels sit in the right margin: a title, then the value.
        #expect(first.texts.filter { $0 == "RTO target" }.count == 2)  // legend and label
        #expect(first.texts.contains("30m") && first.texts.contains("1d gitops"))
        #expect(first.texts.contains("FAILED"))
        #expect(first.texts.contains("2026-03-01") && first.texts.contains("2026-03-22"))
        // Linear or log, the axis is labelled in human units.
        #expect(first.texts.contains { ["30m", "1h", "2h", "4h", "1d"].contains($0) })
        let second = try XMLShape(charts[1])
        #expect(second.titles.contains { $0.contains(F.hostile) })

        // The same history renders to the same bytes.
        #expect(DrillReportRenderer.html(history) == html && DrillReportRenderer.markdown(history) == md)
    }

    @Test("reports stored in the catalog load into the history; durations read as humans write them")
    func catalogAndText() throws {
        try withTemporaryDirectory { dir in
            let workspace = try makeWorkspace(in: dir, sourcesYAML: "  []\n", topLevelYAML: F.drillsYAML)
            try F.record(in: workspace)
            let loaded = try DrillHistory.load(workspace, last: 10, now: F.now, nextSlot: F.nextSlot)
            let expected = F.history()
            #expect(loaded.runbooks.map(\.runbook) == expected.runbooks.map(\.runbook))
            #expect(loaded.runbooks.map(\.counts) == expected.runbooks.map(\.counts))
            #expect(loaded.runbooks[0].trend.map(\.rtoSeconds) == [360, 720, nil, 2820])
            #expect(loaded.runbooks[0].rtoTargetSeconds == 1800)
            let only = try DrillHistory.load(workspace, runbooks: [F.hostile], now: F.now)
            #expect(only.runbooks.map(\.runbook) == [F.hostile] && only.totalDrills == 2)
        }
        #expect(ReportText.duration(0.42) == "0.4s")
        #expect(ReportText.duration(45) == "45s")
        #expect(ReportText.duration(240) == "4m")
        #expect(ReportText.duration(723) == "12m 3s")
        #expect(ReportText.duration(7200) == "2h")
        #expect(ReportText.duration(5400) == "1h 30m")
        #expect(ReportText.duration(86_400 + 7200) == "1d 2h")
        #expect(ReportText.html("<a href=\"x\">&'") == "&lt;a href=&quot;x&quot;&gt;&amp;&#39;")
        #expect(ReportText.cell("a|b<c>\nd") == "a\\|b\\<c\\> d")
    }

    @Test("the PNG decoder inflates stored and fixed-Huffman zlib streams")
    func inflate() throws {
        let text = Array("hello hello hello".utf8)
        let fixed: [UInt8] = [0x78, 0xDA, 0xCB, 0x48, 0xCD, 0xC9, 0xC9, 0x57, 0xC8, 0x40, 0x90, 0x00, 0x3A, 0x2E, 0x06, 0x7D]
        #expect(try Inflate.zlib(fixed) == text)
        // A stored block: header, LEN, NLEN, the bytes, Adler-32.
        var stored: [UInt8] = [0x78, 0x01, 0x01, UInt8(text.count), 0x00, ~UInt8(text.count), 0xFF] + text
        let adler = Inflate.adler32(text)
        stored += [UInt8(adler >> 24), UInt8((adler >> 16) & 0xFF), UInt8((adler >> 8) & 0xFF), UInt8(adler & 0xFF)]
        #expect(try Inflate.zlib(stored) == text)
        var damaged = fixed
        damaged[damaged.count - 1] ^= 1
        #expect(throws: PNGError.self) { try Inflate.zlib(damaged) }
    }
}

/// Element names, attributes and texts of a document parsed by Foundation's XMLParser; a
/// parse error (not well-formed) throws.
final class XMLShape: NSObject, XMLParserDelegate {
    private(set) var elements: [(name: String, attributes: [String: String], inLegend: Bool)] = []
    private(set) var texts: [String] = []
    private(set) var titles: [String] = []
    private var stack: [String] = []
    private var legendDepth: Int?
    private var text = ""

    init(_ markup: String) throws {
        super.init()
        let parser = XMLParser(data: Data(markup.utf8))
        parser.delegate = self
        guard parser.parse() else {
            throw DRError(.dataCorrupt, "not well-formed: \(parser.parserError.map { "\($0)" } ?? "?") at line \(parser.lineNumber)")
        }
    }

    func count(_ name: String, excludingLegend: Bool = false) -> Int {
        elements.filter { $0.name == name && !(excludingLegend && $0.inLegend) }.count
    }

    func attributes(_ name: String) -> [[String: String]] {
        elements.filter { $0.name == name }.map(\.attributes)
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        if name == "g", attributes["class"] == "legend" { legendDepth = stack.count }
        elements.append((name, attributes, legendDepth != nil))
        stack.append(name)
        text = ""
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        stack.removeLast()
        if let depth = legendDepth, stack.count == depth { legendDepth = nil }
        if name == "text" { texts.append(text) }
        if name == "title" { titles.append(text) }
        text = ""
    }
}
