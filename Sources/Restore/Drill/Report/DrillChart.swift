import DRCore
import Foundation

/// The inline SVG chart of one runbook's drills: RTO (circles, blue line) and worst RPO
/// (squares, violet line) per drill, oldest left, evenly spaced and labelled with the drill's
/// date; the RTO and RPO targets as dashed horizontal lines; markers filled by verdict
/// (green met, red missed, grey no target); a failed drill (no RTO) as a dark red cross on a
/// tinted column. The y axis is logarithmic when the values span more than 20x, else linear
/// from zero, with ticks in human units (`30s`, `4m`, `2h`).
///
/// Well-formed XML, no `xmlns` (inline SVG in HTML needs none), every text escaped.
struct DrillChart {
    typealias Palette = DrillChartPalette

    static let width = 960.0
    static let height = 330.0
    static let left = 72.0
    static let right = 112.0
    static let top = 44.0
    static let bottom = 54.0

    let points: [DrillPoint]
    let rtoTarget: Int?
    let title: String

    /// The RPO targets to draw: each distinct target of the last drill's sources, with them.
    var rpoTargets: [(seconds: Int, sources: [String])] {
        let snapshots = points.last?.snapshots ?? []
        let targets = Set(snapshots.compactMap(\.targetSeconds)).sorted()
        return targets.prefix(3).map { target in
            (target, snapshots.filter { $0.targetSeconds == target }.map(\.source))
        }
    }

    var plotWidth: Double { Self.width - Self.left - Self.right }
    var plotHeight: Double { Self.height - Self.top - Self.bottom }

    func svg() -> String {
        let scale = YScale(values: points.compactMap(\.rtoSeconds) + points.compactMap(\.rpoSeconds)
                           + [rtoTarget].compactMap { $0.map(Double.init) } + rpoTargets.map { Double($0.seconds) })
        var out = ""
        let w = fmt(Self.width), h = fmt(Self.height)
        out += "<svg class=\"chart\" width=\"\(w)\" height=\"\(h)\" viewBox=\"0 0 \(w) \(h)\" role=\"img\""
        out += " aria-label=\"\(ReportText.html(title))\">\n"
        out += "<title>\(ReportText.html(title))</title>\n"
        out += legend()
        let plotTop = Self.top, plotBottom = Self.top + plotHeight
        out += rect(Self.left, plotTop, plotWidth, plotHeight, fill: Palette.plot, extra: " stroke=\"\(Palette.grid)\"")
        let y = { (value: Double) in plotBottom - scale.fraction(value) * plotHeight }

        // Failed drills: a tinted column under everything else.
        let slot = plotWidth / Double(max(points.count, 1))
        for (index, point) in points.enumerated() where point.result == .failed {
            out += rect(Self.left + Double(index) * slot + 1, plotTop + 1, slot - 2, plotHeight - 2, fill: Palette.failedColumn)
        }
        // Grid and y labels.
        for tick in scale.ticks {
            let ty = (y(tick)).rounded() + 0.5
            out += "<line x1=\"\(fmt(Self.left))\" y1=\"\(fmt(ty))\" x2=\"\(fmt(Self.left + plotWidth))\" y2=\"\(fmt(ty))\""
            out += " stroke=\"\(Palette.grid)\" stroke-width=\"1\"/>\n"
            out += text(ReportText.duration(tick), x: Self.left - 8, y: ty + 4, anchor: "end", size: 11, fill: Palette.axisText)
        }
        out += "<text x=\"16\" y=\"\(fmt(plotTop + plotHeight / 2))\" transform=\"rotate(-90 16 \(fmt(plotTop + plotHeight / 2)))\""
        out += " text-anchor=\"middle\" font-size=\"11\" fill=\"\(Palette.axisText)\">"
        out += "duration\(scale.logarithmic ? " (log scale)" : "")</text>\n"
        // X labels.
        let x = { (index: Int) in Self.left + (Double(index) + 0.5) * slot }
        let every = max(1, Int((Double(points.count) / 12).rounded(.up)))
        for (index, point) in points.enumerated() where index % every == 0 || index == points.count - 1 {
            out += text(ReportText.day(point.startedAt), x: x(index), y: plotBottom + 17, anchor: "middle", size: 11, fill: "#334155")
            out += text(ReportText.clock(point.startedAt), x: x(index), y: plotBottom + 31, anchor: "middle", size: 10, fill: Palette.axisText)
        }
        out += text("drill start (UTC), oldest first", x: Self.left + plotWidth / 2, y: Self.height - 6, anchor: "middle",
                    size: 11, fill: Palette.axisText)
        // Targets: dashed lines across the plot, labelled in the right margin.
        var labels: [(y: Double, colour: String, title: String, value: String)] = []
        if let rtoTarget {
            let ty = y(Double(rtoTarget)).rounded()
            out += targetLine(ty, colour: Palette.rtoTarget, dash: "8 5")
            labels.append((ty, Palette.rtoTarget, "RTO target", ReportText.duration(Double(rtoTarget))))
        }
        for target in rpoTargets {
            let ty = y(Double(target.seconds)).rounded()
            out += targetLine(ty, colour: Palette.rpoTarget, dash: "3 4")
            var sources = target.sources.joined(separator: ", ")
            if sources.count > 12 { sources = String(sources.prefix(11)) + "…" }
            labels.append((ty, Palette.rpoTarget, "RPO target", "\(ReportText.duration(Double(target.seconds))) \(sources)"))
        }
        labels.sort { $0.y < $1.y }
        var floor = plotTop + 4
        for label in labels {
            let at = max(label.y, floor)
            floor = at + 28
            out += text(label.title, x: Self.left + plotWidth + 8, y: at - 1, anchor: "start", size: 11, fill: label.colour,
                        weight: "600")
            out += text(label.value, x: Self.left + plotWidth + 8, y: at + 12, anchor: "start", size: 11, fill: label.colour)
        }
        // Series: RPO first so RTO markers stay on top.
        out += series(points.map(\.rpoSeconds), x: x, y: y, colour: Palette.rpo, width: 1.5)
        out += series(points.map(\.rtoSeconds), x: x, y: y, colour: Palette.rto, width: 2)
        for (index, point) in points.enumerated() {
            guard let rpo = point.rpoSeconds else { continue }
            let tip = "\(ReportText.time(point.startedAt)) · worst RPO \(ReportText.duration(rpo))"
                + (point.rpoTargetSeconds.map { " (target \(ReportText.duration(Double($0))))" } ?? "")
            out += "<rect x=\"\(fmt(x(index) - 5))\" y=\"\(fmt(y(rpo) - 5))\" width=\"10\" height=\"10\" rx=\"1.5\""
            out += " fill=\"\(verdict(point.rpoMet))\" stroke=\"#ffffff\" stroke-width=\"1.5\"><title>\(ReportText.html(tip))</title></rect>\n"
        }
        for (index, point) in points.enumerated() {
            if let rto = point.rtoSeconds {
                let tip = "\(ReportText.time(point.startedAt)) · \(point.result.rawValue) · RTO \(ReportText.duration(rto))"
                    + (point.rtoTargetSeconds.map { " (target \(ReportText.duration(Double($0))))" } ?? "")
                out += "<circle cx=\"\(fmt(x(index)))\" cy=\"\(fmt(y(rto)))\" r=\"6.5\" fill=\"\(verdict(point.rtoMet))\""
                out += " stroke=\"#ffffff\" stroke-width=\"2\"><title>\(ReportText.html(tip))</title></circle>\n"
            } else if point.result == .failed {
                let cx = x(index), cy = plotBottom - 16
                out += "<g stroke=\"\(Palette.failed)\" stroke-width=\"3\" stroke-linecap=\"round\">"
                out += "<title>\(ReportText.html("\(ReportText.time(point.startedAt)) · FAILED: no RTO"))</title>"
                out += "<line x1=\"\(fmt(cx - 6))\" y1=\"\(fmt(cy - 6))\" x2=\"\(fmt(cx + 6))\" y2=\"\(fmt(cy + 6))\"/>"
                out += "<line x1=\"\(fmt(cx - 6))\" y1=\"\(fmt(cy + 6))\" x2=\"\(fmt(cx + 6))\" y2=\"\(fmt(cy - 6))\"/></g>\n"
                out += text("FAILED", x: cx, y: cy - 12, anchor: "middle", size: 10, fill: Palette.failed, weight: "600")
            }
        }
        out += "</svg>\n"
        return out
    }

    func verdict(_ met: Bool?) -> String {
        switch met {
        case .some(true): Palette.met
        case .some(false): Palette.missed
        case .none: Palette.noTarget
        }
    }

    func legend() -> String {
        var items: [(symbol: String, label: String)] = [
            (line(Palette.rto, width: 2, dash: nil) + "<circle cx=\"11\" cy=\"0\" r=\"4.5\" fill=\"\(Palette.rto)\"/>", "RTO"),
            (line(Palette.rpo, width: 1.5, dash: nil) + "<rect x=\"7\" y=\"-4\" width=\"8\" height=\"8\" fill=\"\(Palette.rpo)\"/>",
             "worst RPO"),
            (line(Palette.rtoTarget, width: 2, dash: "8 5"), "RTO target"),
            (line(Palette.rpoTarget, width: 2, dash: "3 4"), "RPO target"),
            ("<circle cx=\"11\" cy=\"0\" r=\"5\" fill=\"\(Palette.met)\"/>", "met target"),
            ("<circle cx=\"11\" cy=\"0\" r=\"5\" fill=\"\(Palette.missed)\"/>", "missed target"),
            ("<circle cx=\"11\" cy=\"0\" r=\"5\" fill=\"\(Palette.noTarget)\"/>", "no target"),
        ]
        if points.contains(where: { $0.result == .failed }) {
            items.append(("<g stroke=\"\(Palette.failed)\" stroke-width=\"2.5\" stroke-linecap=\"round\">"
                          + "<line x1=\"7\" y1=\"-4\" x2=\"15\" y2=\"4\"/><line x1=\"7\" y1=\"4\" x2=\"15\" y2=\"-4\"/></g>",
                          "drill FAILED"))
        }
        var out = "<g class=\"legend\" font-size=\"11\" fill=\"#334155\">\n"
        var cursor = Self.left
        for item in items {
            out += "<g transform=\"translate(\(fmt(cursor)) 18)\">\(item.symbol)"
            out += "<text x=\"28\" y=\"4\">\(ReportText.html(item.label))</text></g>\n"
            cursor += 36 + Double(item.label.count) * 6.2 + 14
        }
        return out + "</g>\n"
    }

    private func line(_ colour: String, width: Double, dash: String?) -> String {
        "<line x1=\"0\" y1=\"0\" x2=\"22\" y2=\"0\" stroke=\"\(colour)\" stroke-width=\"\(fmt(width))\""
            + (dash.map { " stroke-dasharray=\"\($0)\"" } ?? "") + "/>"
    }

    private func targetLine(_ y: Double, colour: String, dash: String) -> String {
        "<line x1=\"\(fmt(Self.left))\" y1=\"\(fmt(y))\" x2=\"\(fmt(Self.left + plotWidth))\" y2=\"\(fmt(y))\""
            + " stroke=\"\(colour)\" stroke-width=\"2\" stroke-dasharray=\"\(dash)\"/>\n"
    }

    /// The line through a series: solid between neighbouring drills, faint across drills
    /// without a value (a FAILED drill has no RTO).
    private func series(
        _ values: [Double?], x: (Int) -> Double, y: (Double) -> Double, colour: String, width: Double
    ) -> String {
        let present = values.enumerated().compactMap { index, value in value.map { (index, $0) } }
        var out = ""
        for (from, to) in zip(present, present.dropFirst()) {
            let faint = to.0 - from.0 > 1
            out += "<line x1=\"\(fmt(x(from.0)))\" y1=\"\(fmt(y(from.1)))\" x2=\"\(fmt(x(to.0)))\" y2=\"\(fmt(y(to.1)))\""
            out += " stroke=\"\(colour)\" stroke-width=\"\(fmt(width))\" stroke-linecap=\"round\""
            out += faint ? " stroke-opacity=\"0.3\"/>\n" : "/>\n"
        }
        return out
    }

    private func rect(_ x: Double, _ y: Double, _ w: Double, _ h: Double, fill: String, extra: String = "") -> String {
        "<rect x=\"\(fmt(x))\" y=\"\(fmt(y))\" width=\"\(fmt(w))\" height=\"\(fmt(h))\" fill=\"\(fill)\"\(extra)/>\n"
    }

    private func text(
        _ content: String, x: Double, y: Double, anchor: String, size: Double, fill: String, weight: String? = nil
    ) -> String {
        var out = "<text x=\"\(fmt(x))\" y=\"\(fmt(y))\" text-anchor=\"\(anchor)\" font-size=\"\(fmt(size))\" fill=\"\(fill)\""
        if let weight { out += " font-weight=\"\(weight)\"" }
        return out + ">\(ReportText.html(content))</text>\n"
    }

    private func fmt(_ value: Double) -> String {
        let rounded = (value * 10).rounded() / 10
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(format: "%.1f", rounded)
    }
}

/// The chart's y axis: linear from zero, or logarithmic for values spanning more than 20x.
struct YScale {
    let logarithmic: Bool
    let low: Double
    let high: Double
    let ticks: [Double]

    /// Tick candidates in seconds, each a round human duration.
    static let steps: [Double] = [
        0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14_400, 21_600, 43_200,
        86_400, 172_800, 345_600, 604_800, 1_209_600, 2_592_000, 7_776_000, 31_536_000,
    ]

    /// The ticks a logarithmic axis tries second: 1s, 5s, 10s, 30s, 1m, 5m, 10m, 30m, 1h, 4h, 12h, 1d, 7d, 30d, 1y.
    static let mediumSteps: [Double] = [
        1, 5, 10, 30, 60, 300, 600, 1800, 3600, 14_400, 43_200, 86_400, 604_800, 2_592_000, 31_536_000,
    ]
    /// The ticks a logarithmic axis tries first: 1s, 10s, 1m, 10m, 1h, 6h, 1d, 7d, 30d, 1y.
    static let majorSteps: [Double] = [1, 10, 60, 600, 3600, 21_600, 86_400, 604_800, 2_592_000, 31_536_000]

    init(values: [Double]) {
        let positive = values.filter { $0 > 0 && $0.isFinite }
        guard let minimum = positive.min(), let maximum = positive.max() else {
            self = Self.linear(upTo: 3600)
            return
        }
        guard maximum / minimum > 20 else {
            self = Self.linear(upTo: maximum * 1.12)
            return
        }
        let low = minimum / 1.8, high = maximum * 1.8
        let span = log(high) - log(low)
        /// `candidates` within the axis, each at least 12 % of the axis above the previous kept one.
        func spaced(_ candidates: [Double]) -> [Double] {
            var kept: [Double] = []
            for tick in candidates where tick >= low && tick <= high {
                if let previous = kept.last, (log(tick) - log(previous)) / span < 0.12 { continue }
                kept.append(tick)
            }
            return kept
        }
        // The roundest set that still gives four ticks.
        var ticks = spaced(Self.majorSteps)
        if ticks.count < 4 { ticks = spaced(Self.mediumSteps) }
        if ticks.count < 4 { ticks = spaced(Self.steps) }
        self.init(logarithmic: true, low: low, high: high, ticks: ticks)
    }

    private init(logarithmic: Bool, low: Double, high: Double, ticks: [Double]) {
        self.logarithmic = logarithmic
        self.low = low
        self.high = high
        self.ticks = ticks
    }

    /// From zero to a round number of round steps (at most six) above `high`.
    private static func linear(upTo high: Double) -> YScale {
        let step = steps.first { (high / $0).rounded(.up) <= 6 } ?? (high / 5)
        let top = max(step, (high / step).rounded(.up) * step)
        return YScale(logarithmic: false, low: 0, high: top,
                      ticks: stride(from: 0, through: top + step / 2, by: step).map { $0 })
    }

    /// Where `value` sits between the bottom (0) and the top (1).
    func fraction(_ value: Double) -> Double {
        guard logarithmic else { return high > 0 ? min(max(value / high, 0), 1) : 0 }
        let clamped = min(max(value, low), high)
        return (log(clamped) - log(low)) / (log(high) - log(low))
    }
}

/// The colours of the drill chart (`#rrggbb`); the screenshot test looks for them.
public enum DrillChartPalette {
    public static let plot = "#fafbfd"
    public static let grid = "#e2e8f0"
    public static let axisText = "#64748b"
    public static let rto = "#2563eb"
    public static let rpo = "#9333ea"
    public static let rtoTarget = "#1e3a8a"
    public static let rpoTarget = "#6b21a8"
    public static let met = "#16a34a"
    public static let missed = "#dc2626"
    public static let noTarget = "#94a3b8"
    public static let failed = "#991b1b"
    public static let failedColumn = "#fdecec"
}
