import DRCore
import Foundation
import Scheduler
import Testing

/// Retention over a synthetic year: one snapshot every hour of 2025 (UTC), 8760 in all,
/// newest 2025-12-31T23:00Z. Expectations are worked out by hand from the calendar
/// (2025-12-31 is a Wednesday in ISO week 2026-W01; Warsaw is UTC+1 in winter, UTC+2
/// from 2025-03-30 to 2025-10-26).
@Suite("retention")
struct RetentionTests {
    static let start = utc("2025-01-01T00:00:00Z")
    static let year: [SnapshotRecord] = (0..<(365 * 24)).map { hour in
        record(hour, at: start.addingTimeInterval(Double(hour) * 3600))
    }

    static func utc(_ text: String) -> Date { ISO8601.parse(text) ?? .distantPast }

    static func record(_ index: Int, at time: Date, parent: String? = nil, verified: Bool = true) -> SnapshotRecord {
        SnapshotRecord(
            id: String(repeating: "0", count: 16 - String(index, radix: 16).count) + String(index, radix: 16), source: "s", kind: "git-bundle", level: parent == nil ? .full : .incremental,
            parentID: parent, createdAt: time, dataTime: time, bytes: 1, plainBytes: 1,
            verifiedAt: verified ? time : nil, verifyResult: verified ? "ok" : nil)
    }

    /// The kept snapshots' data times as `yyyy-MM-ddTHH`, UTC, newest first.
    func kept(_ policy: RetentionPolicy, zone: String = "UTC", snapshots: [SnapshotRecord] = year) -> [String] {
        let zone = TimeZone(identifier: zone) ?? .gmt
        return Retention.evaluate(snapshots, policy: policy, timeZone: zone).filter(\.keep).map { item in
            String(ISO8601.format(item.snapshot.dataTime).prefix(13))
        }
    }

    @Test("keep_last N keeps the N newest")
    func keepLast() {
        #expect(kept(RetentionPolicy(keepLast: 5)) == ["2025-12-31T23", "2025-12-31T22", "2025-12-31T21", "2025-12-31T20", "2025-12-31T19"])
    }

    @Test("keep_hourly with one snapshot per hour equals keep_last")
    func keepHourly() {
        #expect(kept(RetentionPolicy(keepHourly: 48)) == kept(RetentionPolicy(keepLast: 48)))
        #expect(kept(RetentionPolicy(keepHourly: 48)).last == "2025-12-30T00")
    }

    @Test("keep_daily keeps the newest snapshot of each of the newest N days")
    func keepDaily() {
        #expect(kept(RetentionPolicy(keepDaily: 7)) == (25...31).reversed().map { "2025-12-\($0)T23" })
    }

    @Test("keep_weekly buckets by ISO week: the newest of each week is Sunday 23:00, or the newest overall")
    func keepWeekly() {
        #expect(kept(RetentionPolicy(keepWeekly: 4)) == ["2025-12-31T23", "2025-12-28T23", "2025-12-21T23", "2025-12-14T23"])
    }

    @Test("keep_monthly keeps month ends; with count left after the oldest bucket, the oldest snapshot too")
    func keepMonthly() {
        let ends = ["12-31", "11-30", "10-31", "09-30", "08-31", "07-31", "06-30", "05-31", "04-30", "03-31", "02-28", "01-31"]
        #expect(kept(RetentionPolicy(keepMonthly: 12)) == ends.map { "2025-\($0)T23" })
        #expect(kept(RetentionPolicy(keepMonthly: 13)) == ends.map { "2025-\($0)T23" } + ["2025-01-01T00"])
        #expect(kept(RetentionPolicy(keepMonthly: 3)) == ["2025-12-31T23", "2025-11-30T23", "2025-10-31T23"])
    }

    @Test("keep_yearly over a single year: the newest, plus the oldest while count is left")
    func keepYearly() {
        #expect(kept(RetentionPolicy(keepYearly: 1)) == ["2025-12-31T23"])
        #expect(kept(RetentionPolicy(keepYearly: 3)) == ["2025-12-31T23", "2025-01-01T00"])
    }

    @Test("keep_within keeps snapshots strictly newer than newest minus the duration")
    func keepWithin() {
        let within = kept(RetentionPolicy(keepWithinSeconds: 2 * 86_400))
        #expect(within.count == 48)
        #expect(within.last == "2025-12-30T00")
        #expect(kept(RetentionPolicy(keepWithinSeconds: 3600 + 1)) == ["2025-12-31T23", "2025-12-31T22"])
    }

    @Test("rules are OR'd, and each rule's reasons are reported")
    func combination() {
        let policy = RetentionPolicy(keepLast: 3, keepDaily: 7, keepWeekly: 4, keepMonthly: 12)
        let result = kept(policy)
        let expected = Set(["2025-12-31T22", "2025-12-31T21"]
            + (25...31).map { "2025-12-\($0)T23" } + ["2025-12-21T23", "2025-12-14T23"]
            + ["11-30", "10-31", "09-30", "08-31", "07-31", "06-30", "05-31", "04-30", "03-31", "02-28", "01-31"].map { "2025-\($0)T23" })
        #expect(result.count == 22)
        #expect(Set(result) == expected)
        let newest = Retention.evaluate(Self.year, policy: policy, timeZone: .gmt)[0]
        #expect(newest.reasons == ["last snapshot", "daily snapshot", "weekly snapshot", "monthly snapshot"])
        let forgotten = Retention.evaluate(Self.year, policy: policy, timeZone: .gmt).filter { !$0.keep }
        #expect(forgotten.count == 8760 - 22)
        #expect(forgotten.allSatisfy { $0.reasons.isEmpty })
    }

    @Test("Europe/Warsaw: days, months and years begin at local midnight")
    func warsaw() {
        // 2025-12-31T23:00Z is 2026-01-01 00:00 in Warsaw: a day, month and year of its own.
        #expect(kept(RetentionPolicy(keepDaily: 3), zone: "Europe/Warsaw") == ["2025-12-31T23", "2025-12-31T22", "2025-12-30T22"])
        #expect(kept(RetentionPolicy(keepYearly: 2), zone: "Europe/Warsaw") == ["2025-12-31T23", "2025-12-31T22"])
        // Month ends at local 23:00: 22:00Z in winter (CET), 21:00Z in summer (CEST).
        #expect(kept(RetentionPolicy(keepMonthly: 6), zone: "Europe/Warsaw")
                == ["2025-12-31T23", "2025-12-31T22", "2025-11-30T22", "2025-10-31T22", "2025-09-30T21", "2025-08-31T21"])
        // The spring-forward day 2025-03-30 has 23 hours; its newest snapshot is still local 23:00.
        let march = Self.year.filter { ISO8601.format($0.dataTime) < "2025-04-01" }
        #expect(kept(RetentionPolicy(keepDaily: 3), zone: "Europe/Warsaw", snapshots: march)
                == ["2025-03-31T23", "2025-03-31T21", "2025-03-30T21"])
        // ISO weeks in Warsaw: Monday 2025-12-29 00:00 local is 2025-12-28T23:00Z.
        #expect(kept(RetentionPolicy(keepWeekly: 3), zone: "Europe/Warsaw") == ["2025-12-31T23", "2025-12-28T22", "2025-12-21T22"])
        #expect(kept(RetentionPolicy(keepWeekly: 3), zone: "UTC") != kept(RetentionPolicy(keepWeekly: 3), zone: "Europe/Warsaw"))
    }

    @Test("a policy without positive rules keeps everything; an empty list stays empty")
    func noRules() {
        #expect(kept(RetentionPolicy()).count == 8760)
        #expect(kept(RetentionPolicy(keepLast: 0, keepDaily: 0)).count == 8760)
        #expect(Retention.evaluate([], policy: RetentionPolicy(keepLast: 1), timeZone: .gmt).isEmpty)
    }

    @Test("several snapshots in one bucket: only the newest of the bucket counts")
    func sameBucket() {
        let base = Self.utc("2025-06-10T08:00:00Z")
        let snaps = (0..<6).map { Self.record($0, at: base.addingTimeInterval(Double($0) * 600)) }  // 08:00 … 08:50
            + [Self.record(10, at: Self.utc("2025-06-09T12:00:00Z"))]
        #expect(kept(RetentionPolicy(keepHourly: 2), snapshots: snaps) == ["2025-06-10T08", "2025-06-09T12"])
        #expect(kept(RetentionPolicy(keepDaily: 1), snapshots: snaps).count == 1)
    }
}
