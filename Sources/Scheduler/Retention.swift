public import DRCore
public import Foundation

/// Which snapshots a `retention:` policy keeps, with restic `forget` semantics
/// (restic 0.17, docs/SCHEDULING.md "Retention and prune").
///
/// Snapshots are walked newest first (by `dataTime`). Each `keep_*` count rule has a
/// bucket function (`keep_last`: every snapshot is its own bucket; hourly, daily, ISO
/// weekly, monthly, yearly: the calendar unit of `dataTime` in `timeZone`) and keeps a
/// snapshot when its bucket differs from the bucket of the last snapshot that rule kept,
/// until the rule has kept N snapshots. A rule that still has count left when it reaches
/// the oldest snapshot keeps that oldest snapshot too. `keep_within` keeps every snapshot
/// strictly newer than the newest snapshot's time minus the duration. Rules are OR'd; a
/// policy without any positive rule keeps everything.
public enum Retention {
    /// One snapshot's verdict: kept (with the rules that keep it) or forgotten.
    public typealias Decision = (snapshot: SnapshotRecord, keep: Bool, reasons: [String])

    /// Applies `policy` to one source's snapshots. Returns a verdict per snapshot, newest first.
    public static func evaluate(
        _ snapshots: [SnapshotRecord], policy: RetentionPolicy, timeZone: TimeZone
    ) -> [(snapshot: SnapshotRecord, keep: Bool, reasons: [String])] {
        let sorted = snapshots.sorted { a, b in
            a.dataTime != b.dataTime ? a.dataTime > b.dataTime
                : a.createdAt != b.createdAt ? a.createdAt > b.createdAt : a.id > b.id
        }
        guard !sorted.isEmpty else { return [] }
        guard hasRules(policy) else {
            return sorted.map { ($0, true, ["no retention rules: keep everything"]) }
        }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        var isoCalendar = Calendar(identifier: .iso8601)
        isoCalendar.timeZone = timeZone

        struct Bucket {
            var name: String
            var count: Int
            var last: Int?
            var key: (Date, Int) -> Int
        }
        func component(_ date: Date) -> DateComponents {
            calendar.dateComponents([.year, .month, .day, .hour], from: date)
        }
        var buckets: [Bucket] = []
        func add(_ count: Int?, _ name: String, _ key: @escaping (Date, Int) -> Int) {
            if let count, count > 0 { buckets.append(Bucket(name: name, count: count, last: nil, key: key)) }
        }
        add(policy.keepLast, "last") { _, index in index }
        add(policy.keepHourly, "hourly") { date, _ in
            let c = component(date)
            return ((c.year ?? 0) * 10_000 + (c.month ?? 0) * 100 + (c.day ?? 0)) * 100 + (c.hour ?? 0)
        }
        add(policy.keepDaily, "daily") { date, _ in
            let c = component(date)
            return (c.year ?? 0) * 10_000 + (c.month ?? 0) * 100 + (c.day ?? 0)
        }
        add(policy.keepWeekly, "weekly") { date, _ in
            let c = isoCalendar.dateComponents([.yearForWeekOfYear, .weekOfYear], from: date)
            return (c.yearForWeekOfYear ?? 0) * 100 + (c.weekOfYear ?? 0)
        }
        add(policy.keepMonthly, "monthly") { date, _ in
            let c = component(date)
            return (c.year ?? 0) * 100 + (c.month ?? 0)
        }
        add(policy.keepYearly, "yearly") { date, _ in component(date).year ?? 0 }

        let newest = sorted[0].dataTime
        var result: [Decision] = []
        for (index, snapshot) in sorted.enumerated() {
            var reasons: [String] = []
            let isOldest = index == sorted.count - 1
            for b in buckets.indices where buckets[b].count > 0 {
                let value = buckets[b].key(snapshot.dataTime, index)
                if value != buckets[b].last {
                    buckets[b].last = value
                    buckets[b].count -= 1
                    reasons.append(buckets[b].name == "last" ? "last snapshot" : "\(buckets[b].name) snapshot")
                } else if isOldest {
                    buckets[b].count -= 1
                    reasons.append("oldest snapshot (\(buckets[b].name) count left)")
                }
            }
            if let within = policy.keepWithinSeconds, within > 0,
               snapshot.dataTime > newest.addingTimeInterval(-Double(within)) {
                reasons.append("within \(describe(seconds: within)) of the newest")
            }
            result.append((snapshot, !reasons.isEmpty, reasons))
        }
        return result
    }

    /// Whether `policy` has at least one positive rule (otherwise it keeps everything).
    public static func hasRules(_ policy: RetentionPolicy) -> Bool {
        [policy.keepLast, policy.keepHourly, policy.keepDaily, policy.keepWeekly, policy.keepMonthly,
         policy.keepYearly, policy.keepWithinSeconds].contains { ($0 ?? 0) > 0 }
    }

    /// `90061` → `1d1h1m1s`.
    static func describe(seconds: Int) -> String {
        var rest = seconds
        var text = ""
        for (unit, size) in [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)] where rest >= size {
            text += "\(rest / size)\(unit)"
            rest %= size
        }
        return text.isEmpty ? "0s" : text
    }
}
