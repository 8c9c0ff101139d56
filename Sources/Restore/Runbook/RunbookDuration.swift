/// Durations in runbooks: `90` (seconds), `30s`, `10m`, `1h`.
enum RunbookDuration {
    /// The accepted forms, for messages.
    static let expected = "a duration such as 90 (seconds), 30s, 10m or 1h"

    /// Parses a duration; nil when malformed. At most 7 days.
    static func parse(_ text: String) -> Duration? {
        let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3600]
        var digits = Substring(text)
        var unit: Int64 = 1
        if let last = text.last, let factor = units[last] {
            unit = factor
            digits = digits.dropLast()
        }
        guard !digits.isEmpty, digits.count <= 7, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
              let value = Int64(digits) else { return nil }
        let seconds = value * unit
        guard seconds <= 7 * 86_400 else { return nil }
        return .seconds(seconds)
    }
}
