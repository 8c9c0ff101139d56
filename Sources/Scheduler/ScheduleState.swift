internal import DRCore
public import Foundation

/// Scheduler facts the catalog has no place for: runs skipped past `starting_deadline` and
/// the last scheduled verification, kept in `<data_dir>/schedule-state.json` (written atomically, under the run lock).
public struct ScheduleState: Sendable, Codable, Equatable {
    /// One skipped run.
    public struct Skip: Sendable, Codable, Equatable {
        /// The fire time that was skipped.
        public var slot: Date
        /// When the skip was decided.
        public var decidedAt: Date
        public var lateSeconds: Double
    }

    /// The newest skip per source.
    public var skipped: [String: Skip] = [:]
    /// When the newest scheduled verification (`verify:`) started.
    public var lastVerify: Date?

    public init() {}

    static func path(dataDir: String) -> String { "\(dataDir)/schedule-state.json" }

    /// The state of a data folder (empty when the file is missing or unreadable).
    public static func load(dataDir: String) -> ScheduleState {
        guard let bytes = try? FileIO.read(path(dataDir: dataDir)) else { return ScheduleState() }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        return (try? decoder.decode(ScheduleState.self, from: Data(bytes))) ?? ScheduleState()
    }

    static func recordSkips(_ decisions: [DueDecision], at now: Date, dataDir: String) throws {
        var state = load(dataDir: dataDir)
        for decision in decisions {
            guard let slot = decision.slot else { continue }
            state.skipped[decision.source] = Skip(slot: slot, decidedAt: now, lateSeconds: decision.lateSeconds ?? 0)
        }
        try state.save(dataDir: dataDir)
    }

    static func recordVerify(at start: Date, dataDir: String) throws {
        var state = load(dataDir: dataDir)
        state.lastVerify = start
        try state.save(dataDir: dataDir)
    }

    private func save(dataDir: String) throws {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        encoder.outputFormatting = [.sortedKeys]
        try FileIO.atomicWrite(Array(try encoder.encode(self)), to: Self.path(dataDir: dataDir), mode: 0o600)
    }
}
