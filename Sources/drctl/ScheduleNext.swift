import ArgumentParser
import DRCore
import Foundation
import Scheduler

struct ScheduleNext: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "next",
        abstract: "Print the next fire times of a cron line.",
        discussion: "EXPR is a 5-field cron line (quote it) or a macro such as @daily; see docs/SCHEDULING.md.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("The cron line, e.g. \"30 2 * * *\" or @daily.", valueName: "expr"))
    var expression: String

    @Option(help: ArgumentHelp("Start after this time: ISO 8601 with an offset, or a local time YYYY-MM-DDTHH:MM[:SS] in --timezone (default: now).", valueName: "time"))
    var from: String?

    @Option(help: ArgumentHelp("How many fire times to print (1-1000).", valueName: "n"))
    var count = 5

    @Option(help: ArgumentHelp("IANA time zone the schedule runs in.", valueName: "tz"))
    var timezone = "UTC"

    @Flag(help: "Print as JSON.")
    var json = false

    func validate() throws {
        guard (1...1000).contains(count) else { throw ValidationError("--count must be between 1 and 1000") }
    }

    func run() throws {
        guard let zone = TimeZone(identifier: timezone) else {
            throw DRError(.config, "unknown time zone `\(timezone)`; expected an IANA name such as UTC, Europe/Warsaw or America/New_York")
        }
        let schedule = try CronSchedule(parsing: expression, timeZone: zone)
        let start = try from.map { try Self.parseTime($0, zone: zone) } ?? Date()
        let fires = schedule.next(count, after: start)
        let formatted = fires.map { Self.format($0, zone: zone) }
        if json {
            struct Output: Encodable {
                let expression: String
                let timezone: String
                let from: String
                let next: [String]
            }
            return try Terminal.json(Output(expression: schedule.expression, timezone: timezone,
                                            from: Self.format(start, zone: zone), next: formatted))
        }
        for line in formatted { print(line) }
        if fires.count < count {
            Terminal.warning("only \(fires.count) fire time\(fires.count == 1 ? "" : "s") in the next 400 years")
        }
    }

    /// `2026-03-29T03:00:00+02:00` (`Z` in UTC).
    static func format(_ date: Date, zone: TimeZone) -> String {
        date.formatted(Date.ISO8601FormatStyle(timeZone: zone).year().month().day().time(includingFractionalSeconds: false).timeZone(separator: .colon))
    }

    /// ISO 8601 with an offset, or a wall-clock time without one, read in `zone`.
    static func parseTime(_ text: String, zone: TimeZone) throws -> Date {
        let clock = text.split(separator: "T").dropFirst().first ?? ""
        let hasOffset = clock.hasSuffix("Z") || clock.hasSuffix("z") || clock.contains("+") || clock.contains("-")
        if hasOffset, let date = ISO8601.parse(text) { return date }
        let parts = text.split(whereSeparator: { "-T:".contains($0) }).map { Int($0) }
        if (parts.count == 5 || parts.count == 6), parts.allSatisfy({ $0 != nil }) {
            let values = parts.compactMap { $0 }
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = zone
            let components = DateComponents(year: values[0], month: values[1], day: values[2], hour: values[3],
                                            minute: values[4], second: values.count == 6 ? values[5] : 0)
            if let date = calendar.date(from: components) { return date }
        }
        throw ValidationError("--from `\(text)` is not a time; expected ISO 8601 such as 2026-03-29T01:30:00+01:00 or 2026-03-29T01:30")
    }
}
