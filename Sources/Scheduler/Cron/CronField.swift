/// One of the five fields of a cron line, with its range and names (cronie's entry.c).
struct CronFieldKind: Sendable {
    /// The field's name in error messages: "minute", "hour", "day-of-month", "month", "day-of-week".
    let name: String
    let low: Int
    let high: Int
    /// Names accepted instead of numbers (lower case, the first is `low`).
    let names: [String]

    static let minute = CronFieldKind(name: "minute", low: 0, high: 59, names: [])
    static let hour = CronFieldKind(name: "hour", low: 0, high: 23, names: [])
    static let dayOfMonth = CronFieldKind(name: "day-of-month", low: 1, high: 31, names: [])
    static let month = CronFieldKind(
        name: "month", low: 1, high: 12,
        names: ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"])
    /// 0 and 7 are both Sunday; `sun` is 0.
    static let dayOfWeek = CronFieldKind(
        name: "day-of-week", low: 0, high: 7, names: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"])

    static let all = [minute, hour, dayOfMonth, month, dayOfWeek]

    /// The accepted values, for messages: `0-59`, `1-12 or jan-dec`.
    var accepted: String {
        names.isEmpty ? "\(low)-\(high)" : "\(low)-\(high) or \(names.first ?? "")-\(names.last ?? "")"
    }
}

/// Why a field did not parse (turned into a `DRError` naming the field by the caller).
struct CronFieldError: Error {
    let reason: String
}

extension CronFieldKind {
    /// Parses a field into a bit set (bit `n` set when value `n` matches); day-of-week folds 7 onto 0.
    ///
    /// Grammar (cronie): a comma list of `*`, `N`, `N-M`, each optionally followed by `/STEP`;
    /// names for months and weekdays. `N/STEP` means `N-HIGH/STEP` (robfig/cron and Kubernetes
    /// accept it; cronie itself rejects it).
    func parse(_ text: Substring) -> Result<UInt64, CronFieldError> {
        Result { () throws(CronFieldError) in try parseList(text) }
    }

    private func parseList(_ text: Substring) throws(CronFieldError) -> UInt64 {
        var bits: UInt64 = 0
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            bits |= try parseItem(item)
        }
        if self.name == CronFieldKind.dayOfWeek.name, bits & (1 << 7) != 0 {
            bits = (bits & ~(1 << 7)) | 1
        }
        return bits
    }

    private func parseItem(_ item: Substring) throws(CronFieldError) -> UInt64 {
        guard !item.isEmpty else { throw CronFieldError(reason: "empty list element") }
        var rangePart = item
        var step = 1
        var hasStep = false
        if let slash = item.firstIndex(of: "/") {
            rangePart = item[..<slash]
            let stepText = item[item.index(after: slash)...]
            guard !stepText.isEmpty, stepText.allSatisfy(\.isASCIIDigit), let value = Int(stepText), value > 0 else {
                throw CronFieldError(reason: "step `\(stepText)` must be a positive number")
            }
            step = min(value, 1000)
            hasStep = true
        }
        let lower: Int
        var upper: Int
        if rangePart == "*" {
            lower = low
            upper = high
        } else if let dash = rangePart.firstIndex(of: "-") {
            lower = try value(rangePart[..<dash])
            upper = try value(rangePart[rangePart.index(after: dash)...])
            // cronie: `fri-sun` (5-0) means 5-7.
            if self.name == CronFieldKind.dayOfWeek.name, lower > upper, upper == 0 { upper = 7 }
            guard lower <= upper else {
                throw CronFieldError(reason: "range `\(rangePart)` runs backwards; the first value must not exceed the second")
            }
        } else {
            lower = try value(rangePart)
            // `N/STEP` runs to the last value; for day-of-week that is Saturday (6), as in robfig/cron.
            upper = hasStep ? (self.name == CronFieldKind.dayOfWeek.name ? 6 : high) : lower
        }
        var bits: UInt64 = 0
        for value in stride(from: lower, through: upper, by: step) { bits |= 1 << UInt64(value) }
        return bits
    }

    private func value(_ text: Substring) throws(CronFieldError) -> Int {
        guard !text.isEmpty else { throw CronFieldError(reason: "missing number") }
        if text.allSatisfy(\.isASCIIDigit) {
            guard let number = Int(text), number >= low, number <= high else {
                throw CronFieldError(reason: "`\(text)` is out of range; expected \(accepted)")
            }
            return number
        }
        if text.allSatisfy(\.isASCIILetter) {
            guard !names.isEmpty else {
                throw CronFieldError(reason: "`\(text)` is not a number; names are allowed only in month and day-of-week")
            }
            guard let index = names.firstIndex(of: text.lowercased()) else {
                throw CronFieldError(reason: "unknown name `\(text)`; expected \(accepted)")
            }
            return low + index
        }
        if text.contains(where: { "?LW#~".contains($0) }) {
            throw CronFieldError(reason: "`\(text)`: `?`, `L`, `W`, `#` and `~` are not part of the cron dialect drctl accepts")
        }
        throw CronFieldError(reason: "`\(text)` is not a number; expected \(accepted)")
    }
}

extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
    var isASCIILetter: Bool { ("a"..."z").contains(self) || ("A"..."Z").contains(self) }
}
