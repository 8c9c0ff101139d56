import DRCore
import Foundation
import Scheduler
import Testing

@Suite("cron parse errors")
struct CronParseErrorTests {
    /// Each invalid expression with the field its message must name and a fragment of the message.
    static let invalid: [(String, String, String)] = [
        ("60 * * * *", "minute", "`60` is out of range"),
        ("* 24 * * *", "hour", "`24` is out of range"),
        ("* * 0 * *", "day-of-month", "`0` is out of range"),
        ("* * 32 * *", "day-of-month", "`32`"),
        ("* * * 13 *", "month", "`13` is out of range"),
        ("* * * 0 *", "month", "`0`"),
        ("* * * * 8", "day-of-week", "`8` is out of range"),
        ("* * * foo *", "month", "unknown name `foo`"),
        ("* * * * funday", "day-of-week", "unknown name `funday`"),
        ("* * * * mon-xyz", "day-of-week", "unknown name `xyz`"),
        ("mon * * * *", "minute", "names are allowed only in month and day-of-week"),
        ("*/0 * * * *", "minute", "step `0`"),
        ("*/x * * * *", "minute", "step `x`"),
        ("1-2/ * * * *", "minute", "step ``"),
        ("5-1 * * * *", "minute", "runs backwards"),
        ("* 20-4 * * *", "hour", "runs backwards"),
        ("1,,2 * * * *", "minute", "empty list element"),
        ("* * * * 1,", "day-of-week", "empty list element"),
        ("* * ? * *", "day-of-month", "not part of the cron dialect"),
        ("* * L * *", "day-of-month", "names are allowed only"),
        ("* * * * 5L", "day-of-week", "not part of the cron dialect"),
        ("* * * * mon#2", "day-of-week", "not part of the cron dialect"),
        ("* * 15W * *", "day-of-month", "not part of the cron dialect"),
        ("~ * * * *", "minute", "not part of the cron dialect"),
        ("-5 * * * *", "minute", "missing number"),
        ("1- * * * *", "minute", "missing number"),
        ("99999999999999999999 * * * *", "minute", "out of range"),
        ("* * 30 2 *", "day-of-month", "never fires"),
        ("0 0 31 4,6,9,11 *", "day-of-month", "never fires"),
    ]

    @Test("invalid fields are config errors naming the field and its text")
    func fields() {
        for (expression, field, fragment) in Self.invalid {
            do {
                _ = try CronSchedule(parsing: expression)
                Issue.record("`\(expression)` parsed")
            } catch let error as DRError {
                #expect(error.code == .config)
                #expect(error.message.contains("invalid \(field) field"), "\(expression): \(error.message)")
                #expect(error.message.contains(fragment), "\(expression): \(error.message)")
            } catch {
                Issue.record("\(expression): \(error)")
            }
        }
    }

    @Test("wrong field counts, unknown macros and @reboot are refused with a clear message")
    func shapes() {
        let cases: [(String, String)] = [
            ("", "found 0"), ("* * * *", "found 4"), ("* * * * * *", "found 6"), ("0 0 * * * /bin/true", "found 6"),
            ("@every 5m", "unknown macro `@every 5m`"), ("@Daily", "unknown macro"), ("@reboot", "`@reboot` runs a job when cron starts"),
        ]
        for (expression, fragment) in cases {
            do {
                _ = try CronSchedule(parsing: expression)
                Issue.record("`\(expression)` parsed")
            } catch let error as DRError {
                #expect(error.code == .config)
                #expect(error.message.contains(fragment), "\(expression): \(error.message)")
            } catch {
                Issue.record("\(expression): \(error)")
            }
        }
    }

    @Test("tabs and repeated spaces separate fields; `*/60` and `fri-sun` follow cronie")
    func lenient() throws {
        let start = try instant("2026-01-01T00:00:00Z")
        #expect(try CronSchedule(parsing: "0\t0  *\t* *").next(after: start) == instant("2026-01-02T00:00:00Z"))
        #expect(try CronSchedule(parsing: "*/60 * * * *").next(after: start) == instant("2026-01-01T01:00:00Z"))
        #expect(try CronSchedule(parsing: "0 0 * * sat-sun").next(2, after: start) == [instant("2026-01-03T00:00:00Z"), instant("2026-01-04T00:00:00Z")])
    }
}
