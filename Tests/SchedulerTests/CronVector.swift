import Foundation
import Testing

/// One cron vector: an expression in a zone, a start, the fire times that follow it, and
/// optionally the latest fire time at or before the start.
struct CronVector: Sendable, CustomTestStringConvertible {
    let expression: String
    let zone: String
    let from: String
    let next: [String]
    let previous: String?

    init(_ expression: String, _ zone: String, _ from: String, _ next: [String], previous: String? = nil) {
        self.expression = expression
        self.zone = zone
        self.from = from
        self.next = next
        self.previous = previous
    }

    var testDescription: String { "`\(expression)` in \(zone) from \(from)" }
}

/// Parses `2026-03-29T03:00:00+02:00` / `…Z`.
func instant(_ text: String) throws -> Date {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime]
    return try #require(formatter.date(from: text), "bad time in a vector: \(text)")
}

/// Formats like the CLI: ISO 8601 with the zone's offset.
func local(_ date: Date?, _ zone: TimeZone) -> String {
    guard let date else { return "nil" }
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime]
    formatter.timeZone = zone
    return formatter.string(from: date)
}
