import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A named point in a write path where a crash test can kill drctl (docs/RELIABILITY.md).
public enum CrashPhase: String, CaseIterable, Sendable, Codable {
    /// An object's bytes are in its `tmp/….partial` file, not yet fsynced.
    case objectTmpWritten = "object-tmp-written"
    /// The temporary file is fsynced, not yet renamed to its SHA-256 name.
    case objectFsynced = "object-fsynced"
    /// The object has its final name; its folder is not yet fsynced.
    case objectRenamed = "object-renamed"
    /// A snapshot's manifest object is durable; the catalog knows nothing yet.
    case manifestWritten = "manifest-written"
    /// Inside the snapshot's catalog transaction, every row written, before COMMIT.
    case catalogBeforeCommit = "catalog-before-commit"
    /// The snapshot is committed; the run is not yet marked finished.
    case catalogCommitted = "catalog-committed"
    /// Prune forgot snapshots in the catalog; no repository file is deleted yet.
    case pruneAfterForget = "prune-after-forget"
    /// Prune deleted a repository file (reached after each deletion).
    case pruneMidDelete = "prune-mid-delete"
    /// An extraction wrote about half of its entries into the staging folder (a git
    /// extraction: bundles unbundled, refs not yet created).
    case extractMid = "extract-mid"
    /// A runbook step's work is done, its journal entry not yet written.
    case restoreStep = "restore-step"

    /// The points `drctl backup` passes, in order (the object points once per object).
    public static let backup: [CrashPhase] = [
        .objectTmpWritten, .objectFsynced, .objectRenamed, .manifestWritten, .catalogBeforeCommit, .catalogCommitted,
    ]
}

/// The test-only crash switch: `DRCTL_CRASH_AT=<phase>[:<n>]` kills the process with
/// SIGKILL the `n`-th time (default 1) it reaches `phase`; `DRCTL_CRASH_TRACE=<file>`
/// appends the name of every point reached to a file, so a harness that kills at random
/// moments knows how far a process got.
///
/// It only ever ends the process abruptly, exactly as `kill -9` would; it exists so tests
/// can prove crash safety at each phase. Without the variables every check is one load
/// and a branch.
public final class CrashPoints: Sendable {
    /// The environment variable that arms a point.
    public static let variable = "DRCTL_CRASH_AT"
    /// The environment variable naming a trace file.
    public static let traceVariable = "DRCTL_CRASH_TRACE"

    /// Never kills, never traces.
    public static let disabled = CrashPoints(phase: nil, count: 1, trace: nil)

    private let phase: CrashPhase?
    private let count: Int
    private let trace: String?
    private let active: Bool
    private let hits = NSLock()
    nonisolated(unsafe) private var reached = 0

    private init(phase: CrashPhase?, count: Int, trace: String?) {
        self.phase = phase
        self.count = max(1, count)
        self.trace = trace
        active = phase != nil || trace != nil
    }

    /// Reads the switch from an environment (the `drctl` binary passes its own). An
    /// unknown phase is an error, so a typo cannot make a crash test pass vacuously.
    public static func from(_ environment: Environment) throws -> CrashPoints {
        let trace = environment[traceVariable].flatMap { $0.isEmpty ? nil : $0 }
        guard let text = environment[variable], !text.isEmpty else {
            return trace.map { CrashPoints(phase: nil, count: 1, trace: $0) } ?? .disabled
        }
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        guard let phase = CrashPhase(rawValue: parts[0]) else {
            throw DRError(.config, "\(variable)=\(text): unknown crash point `\(parts[0])`",
                          hint: "known points: \(CrashPhase.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        var count = 1
        if parts.count == 2 {
            guard let n = Int(parts[1]), n >= 1 else {
                throw DRError(.config, "\(variable)=\(text): `\(parts[1])` is not a positive count")
            }
            count = n
        }
        return CrashPoints(phase: phase, count: count, trace: trace)
    }

    /// Marks `point` as reached: traces it, and kills the process if it is the armed one.
    @inline(__always)
    public func reach(_ point: CrashPhase) {
        guard active else { return }
        slowPath(point)
    }

    private func slowPath(_ point: CrashPhase) {
        if let trace {
            let line = Array("\(point.rawValue)\n".utf8)
            let fd = open(trace, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
            if fd >= 0 {
                _ = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                close(fd)
            }
        }
        guard point == phase else { return }
        let n = hits.withLock {
            reached += 1
            return reached
        }
        guard n == count else { return }
        kill(getpid(), SIGKILL)
        // SIGKILL cannot be caught; this only waits for it to land.
        while true { pause() }
    }
}
