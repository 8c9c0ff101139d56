internal import Crypto

/// The hash of a volume snapshot's per-file content, as its file index records it.
///
/// A chain (a full snapshot and its incrementals) uses one algorithm: the full's, chosen by
/// the source's `content_hash:` (BLAKE3 unless configured). Incrementals keep their chain's,
/// since their index carries unchanged files' hashes over. Each snapshot names its
/// algorithm in its `content_hash` meta; snapshots made before that was recorded used
/// SHA-256. Both are 32 bytes.
public enum ContentHash: String, Sendable, CaseIterable {
    case sha256
    case blake3

    /// The snapshot meta key naming the algorithm.
    public static let metaKey = "content_hash"

    /// The algorithm `snapshot` records in its meta; SHA-256 when it records none.
    public init(of snapshot: SnapshotRecord) throws {
        guard let name = snapshot.meta[Self.metaKey] else {
            self = .sha256
            return
        }
        guard let algorithm = ContentHash(rawValue: name) else {
            throw DRError(.dataCorrupt, "snapshot \(snapshot.shortID) records its file hashes as `\(name)`, which this drctl does not know (it knows \(Self.allCases.map(\.rawValue).joined(separator: ", ")))",
                          hint: "a newer drctl may have written it; use that version to restore or verify it")
        }
        self = algorithm
    }

    /// How the algorithm is shown: `SHA-256` or `BLAKE3`.
    public var displayName: String {
        switch self {
        case .sha256: "SHA-256"
        case .blake3: "BLAKE3"
        }
    }

    /// A new hasher.
    public func hasher() -> ContentHasher { ContentHasher(self) }

    /// The hash of a whole byte string.
    public func hash(_ bytes: [UInt8]) -> [UInt8] {
        var hasher = hasher()
        bytes.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        return hasher.finalize()
    }
}

/// Hashes content incrementally with a ``ContentHash`` algorithm.
public struct ContentHasher {
    private enum State {
        case sha256(SHA256)
        case blake3(BLAKE3)
    }

    private var state: State

    /// A hasher for `algorithm`.
    public init(_ algorithm: ContentHash) {
        switch algorithm {
        case .sha256: state = .sha256(SHA256())
        case .blake3: state = .blake3(BLAKE3())
        }
    }

    /// Adds bytes.
    public mutating func update(bufferPointer bytes: UnsafeRawBufferPointer) {
        switch state {
        case .sha256(var hasher):
            hasher.update(bufferPointer: bytes)
            state = .sha256(hasher)
        case .blake3(var hasher):
            hasher.update(bufferPointer: bytes)
            state = .blake3(hasher)
        }
    }

    /// The 32-byte hash of everything added.
    public func finalize() -> [UInt8] {
        switch state {
        case .sha256(let hasher): Array(hasher.finalize())
        case .blake3(let hasher): hasher.finalize()
        }
    }
}
