public import Foundation

/// Text helpers shared by the drill report renderers: human durations and times, and
/// escaping for HTML/SVG and Markdown table cells.
public enum ReportText {
    /// A duration in at most two units: `0.4s`, `45s`, `12m 3s`, `4m`, `2h`, `1h 30m`, `3d 4h`.
    public static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "-" }
        if seconds < 0 { return seconds > -0.05 ? "0s" : "-" + duration(-seconds) }
        if seconds < 9.95 {
            let tenths = (seconds * 10).rounded()
            return tenths.truncatingRemainder(dividingBy: 10) == 0 ? "\(Int(tenths / 10))s" : String(format: "%.1fs", tenths / 10)
        }
        let total = Int(seconds.rounded())
        func pair(_ big: Int, _ bigUnit: String, _ small: Int, _ smallUnit: String) -> String {
            small == 0 ? "\(big)\(bigUnit)" : "\(big)\(bigUnit) \(small)\(smallUnit)"
        }
        if total < 60 { return "\(total)s" }
        if total < 3600 { return pair(total / 60, "m", total % 60, "s") }
        let minutes = (total + 30) / 60
        if minutes < 24 * 60 { return pair(minutes / 60, "h", minutes % 60, "m") }
        let hours = (total + 1800) / 3600
        return pair(hours / 24, "d", hours % 24, "h")
    }

    /// `2026-03-01 10:00 UTC`.
    public static func time(_ date: Date) -> String {
        let c = components(date)
        return String(format: "%04d-%02d-%02d %02d:%02d UTC", c.year ?? 0, c.month ?? 0, c.day ?? 0, c.hour ?? 0, c.minute ?? 0)
    }

    /// `2026-03-01`.
    public static func day(_ date: Date) -> String {
        let c = components(date)
        return String(format: "%04d-%02d-%02d", c.year ?? 0, c.month ?? 0, c.day ?? 0)
    }

    /// `10:00` (UTC).
    public static func clock(_ date: Date) -> String {
        let c = components(date)
        return String(format: "%02d:%02d", c.hour ?? 0, c.minute ?? 0)
    }

    private static func components(_ date: Date) -> DateComponents {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = .gmt
        return calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
    }

    /// Escapes `&`, `<`, `>`, `"` and `'` for HTML/SVG text and attribute values (also valid
    /// XML); control characters other than tab and newline become U+FFFD.
    public static func html(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\t", "\n": out.unicodeScalars.append(scalar)
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F || (0xFFFE...0xFFFF).contains(scalar.value) {
                    out += "\u{FFFD}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }

    /// One Markdown table cell (or inline text): `|`, `<`, `>` and `\` backslash-escaped (so a
    /// viewer renders no HTML and no extra column), newlines and control characters folded
    /// into spaces.
    public static func cell(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "|", "<", ">", "\\":
                out += "\\"
                out.unicodeScalars.append(scalar)
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += " "
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }
}
