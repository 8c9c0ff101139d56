/// An error from the age encryption layer: a stable ``Code`` for programmatic handling
/// and a message written for an operator in an incident.
///
/// Messages never contain key material (secret keys, file keys, shared secrets).
public struct AgeError: Error, Sendable, CustomStringConvertible {
    /// The category of failure.
    public enum Code: String, Sendable {
        /// A recipient (`age1…`) or identity (`AGE-SECRET-KEY-1…`) string or identity file is malformed.
        case malformedKey
        /// The input is not an age file, or its header violates the format.
        case malformedHeader
        /// None of the identities can unwrap the file key.
        case noMatchingIdentity
        /// The header authentication code does not verify: the header was modified.
        case headerMAC
        /// A payload chunk failed authentication, or data follows the final chunk.
        case corruptPayload
        /// The input ends before the final chunk (or inside the header).
        case truncated
        /// A valid age feature that AgeKit does not implement (other versions, passphrases).
        case unsupported
        /// The API was used incorrectly (no recipients, update after finish …).
        case usage
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}

extension AgeError: DRErrorConvertible {
    /// Key and identity problems are `crypto` errors; damaged ciphertext is `dataCorrupt`.
    public var drError: DRError {
        switch code {
        case .malformedKey, .noMatchingIdentity, .usage, .unsupported: DRError(.crypto, message)
        case .malformedHeader, .headerMAC, .corruptPayload, .truncated: DRError(.dataCorrupt, message)
        }
    }
}
