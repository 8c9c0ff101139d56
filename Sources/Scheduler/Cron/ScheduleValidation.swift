public import DRCore
import Foundation

/// Checks every source's and drill's `schedule:` fully, beyond the shape DRCore's loader checks.
public enum ScheduleValidation {
    /// Parses each source's schedule in its time zone; throws `DRError(.config)` reading
    /// `FILE:LINE: sources[i].schedule: message` for the first that does not parse.
    public static func validate(_ config: DRConfig) throws {
        for (index, source) in config.sources.enumerated() {
            do {
                _ = try schedule(of: source)
            } catch let error as DRError {
                let field = error.message.hasPrefix("unknown time zone") ? "timezone" : "schedule"
                throw DRError(.config, "\(config.file):\(source.line): sources[\(index)].\(field): \(error.message)",
                              hint: error.hint)
            }
        }
        if let verify = config.verify {
            do {
                _ = try VerifyRuns.schedule(of: config)
            } catch let error as DRError {
                throw DRError(.config, "\(config.file):\(verify.line): verify.schedule: \(error.message)", hint: error.hint)
            }
        }
        for (index, entry) in config.drillSettings.runbooks.enumerated() {
            do {
                _ = try DrillRuns.schedule(of: entry)
            } catch let error as DRError {
                throw DRError(.config, "\(config.file):\(entry.line): drills.runbooks[\(index)].schedule: \(error.message)",
                              hint: error.hint)
            }
        }
    }

    /// The parsed schedule of `source` in its time zone, or nil when it has none.
    public static func schedule(of source: SourceConfig) throws -> CronSchedule? {
        guard let expression = source.schedule else { return nil }
        let name = source.scheduling.timeZone
        guard let zone = TimeZone(identifier: name) else {
            throw DRError(.config, "unknown time zone `\(name)`; expected an IANA name such as UTC, Europe/Warsaw or America/New_York")
        }
        return try CronSchedule(parsing: expression, timeZone: zone)
    }
}
