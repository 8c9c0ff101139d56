public import Foundation
internal import DRCore

// TEMPORARY stand-in for Scheduler/Cron/CronSchedule.swift (written in parallel):
// same public API, but only `@hourly`, `@daily`/`@midnight`, `M H * * *`, `M * * * *`
// and `*/N * * * *`. Delete this file when the real engine is merged.

/// A parsed cron schedule in a time zone (temporary minimal version).
public struct CronSchedule: Sendable {
    private let minutes: Set<Int>
    private let hours: Set<Int>?
    private let timeZone: TimeZone

    /// Parses `expression`; throws a config error for anything outside the shim's subset.
    public init(parsing expression: String, timeZone: TimeZone) throws {
        self.timeZone = timeZone
        let text = expression.trimmingCharacters(in: .whitespaces)
        switch text {
        case "@hourly":
            minutes = [0]
            hours = nil
            return
        case "@daily", "@midnight":
            minutes = [0]
            hours = [0]
            return
        default: break
        }
        let fields = text.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard fields.count == 5, fields[2] == "*", fields[3] == "*", fields[4] == "*" else {
            throw DRError(.config, "unsupported cron expression `\(expression)` (temporary cron shim)")
        }
        if fields[0].hasPrefix("*/"), let step = Int(fields[0].dropFirst(2)), step > 0, step < 60 {
            minutes = Set(stride(from: 0, to: 60, by: step))
        } else if let minute = Int(fields[0]), (0..<60).contains(minute) {
            minutes = [minute]
        } else {
            throw DRError(.config, "unsupported cron expression `\(expression)` (temporary cron shim)")
        }
        if fields[1] == "*" {
            hours = nil
        } else if let hour = Int(fields[1]), (0..<24).contains(hour) {
            hours = [hour]
        } else {
            throw DRError(.config, "unsupported cron expression `\(expression)` (temporary cron shim)")
        }
    }

    private func matches(_ minuteStart: Int) -> Bool {
        let offset = timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(minuteStart)))
        let local = minuteStart + offset
        let minuteOfDay = ((local % 86_400) + 86_400) % 86_400 / 60
        return minutes.contains(minuteOfDay % 60) && (hours?.contains(minuteOfDay / 60) ?? true)
    }

    /// The first fire time strictly after `date`.
    public func next(after date: Date) -> Date? {
        var minute = Int((date.timeIntervalSince1970 / 60).rounded(.down)) * 60 + 60
        for _ in 0..<(2 * 1440 + 120) {
            if matches(minute) { return Date(timeIntervalSince1970: Double(minute)) }
            minute += 60
        }
        return nil
    }

    /// The last fire time at or before `date`.
    public func previous(atOrBefore date: Date) -> Date? {
        var minute = Int((date.timeIntervalSince1970 / 60).rounded(.down)) * 60
        for _ in 0..<(2 * 1440 + 120) {
            if matches(minute) { return Date(timeIntervalSince1970: Double(minute)) }
            minute -= 60
        }
        return nil
    }
}
