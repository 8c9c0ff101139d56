import DRCore
public import Foundation

/// A parsed cron schedule in the Vixie/cronie dialect, evaluated in an IANA time zone.
///
/// Five fields (`minute hour day-of-month month day-of-week`) of numbers, ranges, lists,
/// steps and names, or a macro (`@yearly @annually @monthly @weekly @daily @midnight
/// @hourly`). Day-of-month and day-of-week are OR'd when both are restricted and AND'd
/// when either begins with `*` (cronie's DOM_STAR/DOW_STAR). Daylight-saving gaps and
/// repeats follow cronie's daemon: see docs/SCHEDULING.md.
public struct CronSchedule: Sendable, Equatable {
    /// The expression as given (surrounding whitespace removed).
    public let expression: String
    /// The zone whose wall clock the fields are read in.
    public let timeZone: TimeZone

    let minutes: UInt64
    let hours: UInt64
    let daysOfMonth: UInt64
    let months: UInt64
    let daysOfWeek: UInt64
    /// Day-of-month began with `*` (cronie's DOM_STAR).
    let dayOfMonthStar: Bool
    /// Day-of-week began with `*` (cronie's DOW_STAR).
    let dayOfWeekStar: Bool
    /// Minute or hour began with `*`: a "wildcard" job in cronie's DST handling; otherwise a
    /// "fixed-time" job.
    public let isWildcard: Bool

    /// The macros and the 5-field lines they stand for.
    public static let macros: [String: String] = [
        "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
        "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
    ]

    /// Parses `expression`; throws `DRError(.config)` naming the offending field and its text.
    public init(parsing expression: String, timeZone: TimeZone = .gmt) throws {
        let trimmed = expression.trimmingCharacters(in: .whitespacesAndNewlines)
        self.expression = trimmed
        self.timeZone = timeZone
        var line = trimmed
        if trimmed.hasPrefix("@") {
            if trimmed == "@reboot" {
                throw DRError(.config, "`@reboot` runs a job when cron starts, which is not a schedule drctl can keep",
                              hint: "use a time-based schedule such as @daily or \"0 3 * * *\"")
            }
            guard let expansion = Self.macros[trimmed] else {
                throw DRError(.config, "unknown macro `\(trimmed)`; expected one of @yearly @annually @monthly @weekly @daily @midnight @hourly")
            }
            line = expansion
        }
        let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard fields.count == 5 else {
            throw DRError(.config, "expected 5 fields (minute hour day-of-month month day-of-week) or a macro such as @daily, found \(fields.count) in `\(trimmed)`")
        }
        var sets: [UInt64] = []
        for (kind, field) in zip(CronFieldKind.all, fields) {
            switch kind.parse(field) {
            case .success(let bits): sets.append(bits)
            case .failure(let error): throw DRError(.config, "invalid \(kind.name) field `\(field)`: \(error.reason)")
            }
        }
        minutes = sets[0]
        hours = sets[1]
        daysOfMonth = sets[2]
        months = sets[3]
        daysOfWeek = sets[4]
        isWildcard = fields[0].hasPrefix("*") || fields[1].hasPrefix("*")
        dayOfMonthStar = fields[2].hasPrefix("*")
        dayOfWeekStar = fields[4].hasPrefix("*")
        // A 400-year Gregorian cycle repeats exactly: no match in one means never.
        if firstWall(atOrAfter: CivilMinute(year: 2000, month: 1, day: 1, hour: 0, minute: 0).wallMinute) == nil {
            throw DRError(.config, "invalid day-of-month field `\(fields[2])`: no such day in month field `\(fields[3])`, so the schedule never fires")
        }
    }

    // MARK: - Fire times

    /// The first fire time strictly after `date`, or nil if there is none (within 400 years).
    public func next(after date: Date) -> Date? {
        let reference = date.timeIntervalSince1970
        guard reference.isFinite, abs(reference) < 1e12 else { return nil }
        let base = Int(reference.rounded(.down))
        let lowestOffset = min(offset(at: base), offset(at: base + 86_400))
        var wall = floorDivide(base + lowestOffset, 60)
        var best: Int?
        while let candidate = firstWall(atOrAfter: wall) {
            let fire = fireInstants(wallMinute: candidate)
            if let best, let earliest = fire.earliest, earliest > best { break }
            for instant in fire.instants where Double(instant) > reference {
                best = Swift.min(best ?? instant, instant)
            }
            wall = candidate + 1
        }
        return best.map { Date(timeIntervalSince1970: Double($0)) }
    }

    /// The latest fire time at or before `date`, or nil if there is none (within 400 years).
    public func previous(atOrBefore date: Date) -> Date? {
        let reference = date.timeIntervalSince1970
        guard reference.isFinite, abs(reference) < 1e12 else { return nil }
        let base = Int(reference.rounded(.down))
        let highestOffset = max(offset(at: base), offset(at: base - 86_400))
        var wall = floorDivide(base + highestOffset, 60)
        var best: Int?
        while let candidate = lastWall(atOrBefore: wall) {
            let fire = fireInstants(wallMinute: candidate)
            if let best, let latest = fire.latest, latest < best { break }
            for instant in fire.instants where Double(instant) <= reference {
                best = Swift.max(best ?? instant, instant)
            }
            wall = candidate - 1
        }
        return best.map { Date(timeIntervalSince1970: Double($0)) }
    }

    /// The first `count` fire times after `date`.
    public func next(_ count: Int, after date: Date) -> [Date] {
        var result: [Date] = []
        var cursor = date
        while result.count < count, let fire = next(after: cursor) {
            result.append(fire)
            cursor = fire
        }
        return result
    }

    // MARK: - Wall clock to instants (cronie's DST rules)

    /// cronie treats a forward jump of three hours or more, or a backward jump of more than
    /// three hours (and a minute), as a clock correction and applies no DST rule.
    static let largeForward = 3 * 3600
    static let largeBackward = 3 * 3600 + 60

    /// The instants a matching wall minute fires at, and the earliest and latest instants
    /// that wall minute maps to (a gap maps to the end of the gap).
    func fireInstants(wallMinute: Int) -> (instants: [Int], earliest: Int?, latest: Int?) {
        let wall = wallMinute * 60
        let offsets = Set([offset(at: wall - 86_400), offset(at: wall), offset(at: wall + 86_400)])
        let solutions = offsets.map { wall - $0 }.filter { offset(at: $0) == wall - $0 }.sorted()
        if let first = solutions.first, let last = solutions.last {
            // Repeated hour: fixed-time jobs run in the first pass only.
            let once = !isWildcard && last - first <= Self.largeBackward
            return (once ? [first] : solutions, first, last)
        }
        // Skipped hour: fixed-time jobs run as soon as the clock has jumped.
        guard let low = offsets.min(), let high = offsets.max(),
              let end = gapEnd(wall: wall, from: wall - high, to: wall - low)
        else { return ([], nil, nil) }
        let runs = !isWildcard && high - low < Self.largeForward
        return (runs ? [end] : [], end, end)
    }

    /// The first instant whose wall clock reads past `wall`, searched in `(from, to]`.
    private func gapEnd(wall: Int, from: Int, to: Int) -> Int? {
        var low = from
        var high = to
        guard low < high, low + offset(at: low) < wall, high + offset(at: high) > wall else { return nil }
        while high - low > 1 {
            let middle = low + (high - low) / 2
            if middle + offset(at: middle) > wall { high = middle } else { low = middle }
        }
        return high
    }

    private func offset(at instant: Int) -> Int {
        timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(instant)))
    }

    // MARK: - Wall-clock search, field by field

    func dayMatches(year: Int, month: Int, day: Int) -> Bool {
        let dom = daysOfMonth & (1 << UInt64(day)) != 0
        let dow = daysOfWeek & (1 << UInt64(Civil.weekday(year: year, month: month, day: day))) != 0
        return dayOfMonthStar || dayOfWeekStar ? dom && dow : dom || dow
    }

    /// The first matching wall minute at or after `start`.
    func firstWall(atOrAfter start: Int) -> Int? {
        let from = CivilMinute(wallMinute: start)
        var year = from.year, month = from.month, day = from.day, hour = from.hour, minute = from.minute
        let lastYear = year + 400
        while year <= lastYear {
            if months & (1 << UInt64(month)) != 0 {
                let days = Civil.daysIn(year: year, month: month)
                while day <= days {
                    if dayMatches(year: year, month: month, day: day) {
                        var candidateHour = firstBit(hours, from: hour)
                        while let h = candidateHour {
                            if let m = firstBit(minutes, from: h == hour ? minute : 0) {
                                return CivilMinute(year: year, month: month, day: day, hour: h, minute: m).wallMinute
                            }
                            candidateHour = firstBit(hours, from: h + 1)
                        }
                    }
                    day += 1
                    hour = 0
                    minute = 0
                }
            }
            month += 1
            if month > 12 {
                month = 1
                year += 1
            }
            day = 1
            hour = 0
            minute = 0
        }
        return nil
    }

    /// The last matching wall minute at or before `end`.
    func lastWall(atOrBefore end: Int) -> Int? {
        let from = CivilMinute(wallMinute: end)
        var year = from.year, month = from.month, day = from.day, hour = from.hour, minute = from.minute
        let firstYear = year - 400
        while year >= firstYear {
            if months & (1 << UInt64(month)) != 0 {
                while day >= 1 {
                    if dayMatches(year: year, month: month, day: day) {
                        var candidateHour = lastBit(hours, atOrBelow: hour)
                        while let h = candidateHour {
                            if let m = lastBit(minutes, atOrBelow: h == hour ? minute : 59) {
                                return CivilMinute(year: year, month: month, day: day, hour: h, minute: m).wallMinute
                            }
                            candidateHour = lastBit(hours, atOrBelow: h - 1)
                        }
                    }
                    day -= 1
                    hour = 23
                    minute = 59
                }
            }
            month -= 1
            if month < 1 {
                month = 12
                year -= 1
            }
            day = Civil.daysIn(year: year, month: month)
            hour = 23
            minute = 59
        }
        return nil
    }
}
