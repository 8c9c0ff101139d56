public import Foundation
internal import CBlake3

/// BLAKE3 in hash mode with 32-byte digests, incremental like swift-crypto's `SHA256`.
///
/// The C code in CBlake3 (written from the BLAKE3 specification) picks AVX-512, AVX2 or
/// portable code for this CPU at run time; all give the same digests. Large `update`
/// calls (64 KiB and up) are where the SIMD code pays off.
public struct BLAKE3: Sendable {
    private var state = drctl_blake3_hasher()

    /// A new hash using the fastest code this CPU supports (see ``implementation``).
    public init() {
        drctl_blake3_init(&state)
    }

    /// A new hash using the portable scalar code when `portable`, else the fastest code.
    init(portable: Bool) {
        if portable { drctl_blake3_init_portable(&state) } else { drctl_blake3_init(&state) }
    }

    /// A new hash using the named code ("portable", "avx2", "avx512"), or nil when this
    /// build or CPU lacks it.
    init?(implementation name: String) {
        guard drctl_blake3_init_named(&state, name) == 1 else { return nil }
    }

    /// Adds bytes to the hash.
    public mutating func update(bufferPointer: UnsafeRawBufferPointer) {
        guard let base = bufferPointer.baseAddress, !bufferPointer.isEmpty else { return }
        drctl_blake3_update(&state, base, bufferPointer.count)
    }

    /// Adds bytes to the hash.
    public mutating func update(data: some ContiguousBytes) {
        data.withUnsafeBytes { update(bufferPointer: $0) }
    }

    /// The 32-byte digest of everything added so far. The hash is left as it was: more
    /// bytes may be added and `finalize` called again.
    public func finalize() -> [UInt8] {
        withUnsafePointer(to: state) { state in
            [UInt8](unsafeUninitializedCapacity: 32) { buffer, count in
                drctl_blake3_finalize(state, buffer.baseAddress)
                count = 32
            }
        }
    }

    /// The 32-byte digest of `bytes`.
    public static func hash(_ bytes: [UInt8]) -> [UInt8] {
        var hasher = BLAKE3()
        hasher.update(data: bytes)
        return hasher.finalize()
    }

    /// The code ``init()`` uses on this CPU: "avx512", "avx2" or "portable".
    public static var implementation: String { String(cString: drctl_blake3_implementation()) }

    /// Every implementation this build can run on this CPU, "portable" first.
    static var implementations: [String] {
        ["portable", "avx2", "avx512"].filter { BLAKE3(implementation: $0) != nil }
    }
}
