import DRCore
import Foundation
import PropertyBased
import Scheduler
import Testing

/// One random cron field: its text and the values it matches.
struct CronFieldSample: Sendable {
    var text: String
    var values: Set<Int>
}

/// A random valid field over `low...high`: `*`, `*/n`, a value, a range, a stepped range or a list.
/// Day-of-month stays within 1...28 so every schedule fires every month.
func cronField(low: Int, high: Int, dice: [Int], dayOfWeek: Bool = false, starHigh: Int? = nil) -> CronFieldSample {
    var roll = dice.makeIterator()
    func next(_ range: ClosedRange<Int>) -> Int { range.lowerBound + (roll.next() ?? 0) % (range.count) }
    func part() -> CronFieldSample {
        switch next(0...3) {
        case 0:
            let value = next(low...high)
            return CronFieldSample(text: "\(value)", values: [value])
        case 1:
            let a = next(low...high), b = next(a...high)
            return CronFieldSample(text: "\(a)-\(b)", values: Set(a...b))
        default:
            let a = next(low...high), b = next(a...high), step = next(1...max(1, high - low))
            return CronFieldSample(text: "\(a)-\(b)/\(step)", values: Set(stride(from: a, through: b, by: step)))
        }
    }
    var sample: CronFieldSample
    switch next(0...5) {
    case 0: sample = CronFieldSample(text: "*", values: Set(low...(starHigh ?? high)))
    case 1:
        let step = next(2...max(2, high - low))
        sample = CronFieldSample(text: "*/\(step)", values: Set(stride(from: low, through: starHigh ?? high, by: step)))
    case 2, 3: sample = part()
    default:
        let parts = (0..<next(2...3)).map { _ in part() }
        sample = CronFieldSample(text: parts.map(\.text).joined(separator: ","), values: parts.reduce(into: Set<Int>()) { $0.formUnion($1.values) })
    }
    if dayOfWeek, sample.values.contains(7) { sample.values.insert(0) }
    return sample
}

/// A random valid five-field expression with the sets it should match.
struct CronSample: Sendable, CustomStringConvertible {
    var minute, hour, day, month, weekday: CronFieldSample
    var expression: String { [minute, hour, day, month, weekday].map(\.text).joined(separator: " ") }
    var description: String { expression }

    /// Whether the UTC wall time of `date` matches, with cronie's day-of-month/day-of-week rule.
    func matches(_ date: Date, calendar: Calendar) -> Bool {
        let parts = calendar.dateComponents([.minute, .hour, .day, .month, .weekday, .second], from: date)
        guard let minuteValue = parts.minute, let hourValue = parts.hour, let dayValue = parts.day,
              let monthValue = parts.month, let weekdayValue = parts.weekday else { return false }
        let dayOK = day.values.contains(dayValue), weekdayOK = weekday.values.contains(weekdayValue - 1)
        let dayRule = day.text.hasPrefix("*") || weekday.text.hasPrefix("*") ? dayOK && weekdayOK : dayOK || weekdayOK
        return parts.second == 0 && minute.values.contains(minuteValue) && hour.values.contains(hourValue)
            && month.values.contains(monthValue) && dayRule
    }
}

let cronSamples = Gen.int(in: 0...1_000_000).array(of: 60).map { dice -> CronSample in
    let slices = stride(from: 0, to: 60, by: 12).map { Array(dice[$0..<$0 + 12]) }
    return CronSample(
        minute: cronField(low: 0, high: 59, dice: slices[0]), hour: cronField(low: 0, high: 23, dice: slices[1]),
        day: cronField(low: 1, high: 28, dice: slices[2], starHigh: 31), month: cronField(low: 1, high: 12, dice: slices[3]),
        weekday: cronField(low: 0, high: 7, dice: slices[4], dayOfWeek: true))
}

/// Instants between 2026 and 2036, at any second.
let cronStarts = Gen.double(in: 1_767_225_600...2_082_758_400).map { Date(timeIntervalSince1970: $0.rounded(.down)) }

@Suite("cron properties")
struct CronProperties {
    static let utc: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? .gmt
        return calendar
    }()

    @Test("UTC: next(after:) is strictly increasing, matches every field, and previous(atOrBefore:) agrees with it")
    func utcFireTimes() async {
        await propertyCheck(count: 250, input: cronSamples, cronStarts) { sample, start in
            let schedule = try CronSchedule(parsing: sample.expression)
            var cursor = start
            for _ in 0..<4 {
                let fire = try #require(schedule.next(after: cursor), "\(sample) never fires after \(cursor)")
                #expect(fire > cursor, "\(sample): \(fire) after \(cursor)")
                #expect(sample.matches(fire, calendar: Self.utc), "\(sample): \(fire) does not match")
                #expect(schedule.previous(atOrBefore: fire) == fire, "\(sample) at \(fire)")
                // Nothing fires strictly between the cursor and `fire`.
                if let before = schedule.previous(atOrBefore: fire.addingTimeInterval(-1)) {
                    #expect(before <= cursor, "\(sample): \(before) lies between \(cursor) and \(fire)")
                }
                cursor = fire
            }
        }
    }

    @Test("zones with daylight saving: next(after:) strictly increases and previous(atOrBefore:) is consistent with it",
          arguments: ["Europe/Warsaw", "America/New_York", "Australia/Lord_Howe"])
    func zonedFireTimes(zoneName: String) async throws {
        let zone = try #require(TimeZone(identifier: zoneName))
        await propertyCheck(count: 80, input: cronSamples, cronStarts) { sample, start in
            let schedule = try CronSchedule(parsing: sample.expression, timeZone: zone)
            var cursor = start
            for _ in 0..<4 {
                let fire = try #require(schedule.next(after: cursor), "\(sample) never fires after \(cursor)")
                #expect(fire > cursor, "\(sample) \(zoneName): \(fire) after \(cursor)")
                #expect(schedule.previous(atOrBefore: fire) == fire, "\(sample) \(zoneName) at \(fire)")
                if let before = schedule.previous(atOrBefore: fire.addingTimeInterval(-1)) {
                    #expect(before <= cursor, "\(sample) \(zoneName): \(before) lies between \(cursor) and \(fire)")
                }
                cursor = fire
            }
        }
    }

    @Test("random text never crashes the parser; refusals are config errors")
    func randomText() async {
        let pieces = oneOf(["*", "/", "-", ",", " ", "\t", "0", "7", "59", "60", "99999999999999999999", "jan", "sun",
                                      "@daily", "@", "?", "L", "#", "\n", "é", "-1"])
        await propertyCheck(count: 400, input: pieces.array(of: 0...16)) { parts in
            do {
                let schedule = try CronSchedule(parsing: parts.joined())
                _ = schedule.next(after: Date(timeIntervalSince1970: 1_800_000_000))
            } catch let error as DRError {
                #expect(error.code == .config)
            } catch {
                Issue.record("not a DRError: \(error)")
            }
        }
    }
}
