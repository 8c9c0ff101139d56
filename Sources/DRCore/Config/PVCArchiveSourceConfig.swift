public import Foundation

/// Settings of a `pvc-archive` source: a directory tree archived as pax tar + zstd.
public struct PVCArchiveSourceConfig: Sendable, Equatable {
    /// The mounted volume (absolute, standardized path).
    public var path: String
    /// Glob patterns of paths (relative to `path`) to leave out; see docs/CONFIG.md.
    public var exclude: [String]
    /// Commands run before and after each snapshot.
    public var hooks: Hooks
    /// When to take a full archive instead of an incremental one.
    public var fullEvery: FullEvery?
    /// The per-file content hash of new chains (`content_hash:`); an incremental keeps its
    /// chain's. BLAKE3 unless configured.
    public var contentHash: ContentHash

    public init(path: String, exclude: [String] = [], hooks: Hooks = Hooks(), fullEvery: FullEvery? = nil,
                contentHash: ContentHash = .blake3) {
        self.path = path
        self.exclude = exclude
        self.hooks = hooks
        self.fullEvery = fullEvery
        self.contentHash = contentHash
    }

    /// Commands around a snapshot. A failing pre-hook fails the snapshot; post-hooks always run.
    public struct Hooks: Sendable, Equatable {
        public var pre: [HookCommand]
        public var post: [HookCommand]

        public init(pre: [HookCommand] = [], post: [HookCommand] = []) {
            self.pre = pre
            self.post = post
        }
    }

    /// A shell command (`/bin/sh -c`) with a time limit.
    public struct HookCommand: Sendable, Equatable {
        public var run: String
        public var timeoutSeconds: Int

        /// Hooks without a `timeout:` get this many seconds.
        public static let defaultTimeoutSeconds = 600

        public init(run: String, timeoutSeconds: Int = defaultTimeoutSeconds) {
            self.run = run
            self.timeoutSeconds = timeoutSeconds
        }
    }

    public typealias FullEvery = DRCore.FullEvery
}

/// `full_every: N` (after N incrementals) or `full_every: Nd` (when the last full is N days
/// old): when a source starts a new chain (volume archives, git bundles).
public enum FullEvery: Sendable, Equatable {
    case incrementals(Int)
    case days(Int)

    /// Why `chain` (full first) must end with a new full at `now`, or nil.
    public func reason(chain: [SnapshotRecord], now: Date) -> String? {
        guard let full = chain.first else { return nil }
        switch self {
        case .incrementals(let count) where chain.count - 1 >= count:
            return "full_every: \(count) incrementals reached"
        case .days(let days) where now.timeIntervalSince(full.dataTime) >= Double(days) * 86400:
            return "full_every: last full is older than \(days) days"
        default:
            return nil
        }
    }
}
