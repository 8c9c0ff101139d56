import DRCore
import Foundation
import Scheduler
import Testing

@Suite("cron schedules")
struct CronScheduleTests {
    func check(_ vector: CronVector) throws {
        let zone = try #require(TimeZone(identifier: vector.zone))
        let schedule = try CronSchedule(parsing: vector.expression, timeZone: zone)
        let start = try instant(vector.from)
        let expected = try vector.next.map(instant)
        let actual = schedule.next(expected.count, after: start)
        #expect(actual.map { local($0, zone) } == expected.map { local($0, zone) })
        if let previous = vector.previous {
            #expect(local(schedule.previous(atOrBefore: start), zone) == local(try instant(previous), zone))
        }
        // Each fire time is its own previous, and nothing fires in between.
        for (index, fire) in actual.enumerated() {
            #expect(schedule.previous(atOrBefore: fire) == fire)
            let before = schedule.previous(atOrBefore: fire.addingTimeInterval(-1))
            #expect(before.map { $0 < fire } ?? true)
            if index > 0 { #expect(before == actual[index - 1]) }
            if let before { #expect(schedule.next(after: before) == fire) }
        }
    }

    @Test("published vectors: robfig/cron, croniter, cronie's man page, leap years, month ends, names", arguments: publishedVectors)
    func published(_ vector: CronVector) throws { try check(vector) }

    @Test("documented DST examples (docs/SCHEDULING.md)", arguments: documentedDSTVectors)
    func documentedDST(_ vector: CronVector) throws { try check(vector) }

    @Test("generated vectors away from DST (naive oracle)", arguments: generatedUTCVectors)
    func generatedUTC(_ vector: CronVector) throws { try check(vector) }

    @Test("generated vectors around DST (cronie's daemon loop simulated)", arguments: generatedDSTVectors)
    func generatedDST(_ vector: CronVector) throws { try check(vector) }

    @Test("hundreds of vectors take well under a second")
    func speed() throws {
        let vectors = publishedVectors + documentedDSTVectors + generatedUTCVectors + generatedDSTVectors
        #expect(vectors.count >= 700)
        let prepared = try vectors.map { vector in
            (try CronSchedule(parsing: vector.expression, timeZone: try #require(TimeZone(identifier: vector.zone))),
             try instant(vector.from), vector.next.count)
        }
        let clock = ContinuousClock()
        let elapsed = clock.measure {
            for vector in vectors {
                _ = try? CronSchedule(parsing: vector.expression, timeZone: .gmt)
            }
            for (schedule, start, count) in prepared {
                _ = schedule.next(count, after: start)
                _ = schedule.previous(atOrBefore: start)
            }
        }
        #expect(elapsed < .seconds(1), "took \(elapsed)")
    }

    @Test("previous(atOrBefore:) and next(after:) round-trip over a year of fire times")
    func roundTrip() throws {
        let cases: [(String, String)] = [
            ("*/17 */5 * * *", "Europe/Warsaw"), ("30 2 * * *", "Europe/Warsaw"), ("0 * * * *", "America/New_York"),
            ("30 1 * * 0", "America/New_York"), ("0 0 1,15 * 1", "UTC"), ("15 2,3 * * *", "Australia/Lord_Howe"),
        ]
        for (expression, zoneName) in cases {
            let zone = try #require(TimeZone(identifier: zoneName))
            let schedule = try CronSchedule(parsing: expression, timeZone: zone)
            var cursor = try instant("2026-01-01T00:00:00Z")
            let end = try instant("2027-01-01T00:00:00Z")
            var previous: Date?
            while let fire = schedule.next(after: cursor), fire < end {
                #expect(fire > cursor)
                #expect(schedule.previous(atOrBefore: fire) == fire, "\(expression) \(zoneName) \(local(fire, zone))")
                if let previous {
                    #expect(schedule.previous(atOrBefore: fire.addingTimeInterval(-0.5)) == previous,
                            "\(expression) \(zoneName) before \(local(fire, zone))")
                }
                previous = fire
                cursor = fire
            }
        }
    }

    @Test("the expression, zone and wildcard flag are kept; macros equal their expansions")
    func properties() throws {
        let zone = try #require(TimeZone(identifier: "Europe/Warsaw"))
        let schedule = try CronSchedule(parsing: "  30 2 * * *\n", timeZone: zone)
        #expect(schedule.expression == "30 2 * * *")
        #expect(schedule.timeZone == zone)
        #expect(!schedule.isWildcard)
        #expect(try CronSchedule(parsing: "*/5 2 * * *").isWildcard)
        #expect(try CronSchedule(parsing: "@hourly").isWildcard)
        #expect(try !CronSchedule(parsing: "@daily").isWildcard)
        let start = try instant("2026-01-01T00:00:00Z")
        for (macro, line) in CronSchedule.macros {
            #expect(try CronSchedule(parsing: macro).next(20, after: start) == CronSchedule(parsing: line).next(20, after: start))
        }
    }

    @Test("equivalent spellings fire at the same times")
    func equivalentSpellings() throws {
        let groups: [[String]] = [
            ["0 0 * * 0", "0 0 * * 7", "0 0 * * sun", "0 0 * * SUN", "0 0 * * Sun", "@weekly"],
            ["0 9 * * 1-5", "0 9 * * mon-fri", "0 9 * * Mon-Fri", "0 9 * * 1,2,3,4,5", "0 9 * * mon,tue,wed,thu,fri"],
            ["0 0 * * 5-7", "0 0 * * fri-sun", "0 0 * * 0,5,6", "0 0 * * 5-0"],
            ["*/15 * * * *", "0,15,30,45 * * * *", "0-59/15 * * * *", "0/15 * * * *"],
            ["5/10 * * * *", "5-59/10 * * * *", "5,15,25,35,45,55 * * * *"],
            ["0 0 1 1,4,7,10 *", "0 0 1 */3 *", "0 0 1 jan,apr,jul,oct *", "0 0 1 1-12/3 *"],
            ["0 0 1 1 *", "@yearly", "@annually", "0 0 1 JAN *"],
            ["0 0 * * *", "@daily", "@midnight", "0 0 */1 * *", "00 00 * * *"],
        ]
        let start = try instant("2026-01-01T00:00:00Z")
        for group in groups {
            let reference = try CronSchedule(parsing: group[0]).next(40, after: start)
            for expression in group.dropFirst() {
                #expect(try CronSchedule(parsing: expression).next(40, after: start) == reference, "\(expression) vs \(group[0])")
            }
        }
    }
}
