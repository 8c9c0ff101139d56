internal import Crypto

/// An age X25519 recipient: the public key files are encrypted to (`age1…`).
public struct AgeRecipient: Sendable, Hashable, CustomStringConvertible {
    static let hrp = "age"

    /// The 32-byte X25519 public key.
    let publicKey: [UInt8]

    init(publicKey: [UInt8]) {
        self.publicKey = publicKey
    }

    /// Parses a lowercase `age1…` recipient string.
    public init(parsing string: String) throws {
        let decoded: (hrp: String, data: [UInt8])
        do {
            decoded = try Bech32.decode(string)
        } catch let error as AgeError {
            throw AgeError(.malformedKey, "the recipient is not a valid age public key (age1…): \(error.message)")
        }
        guard decoded.hrp == Self.hrp, string.hasPrefix("age1") else {
            throw AgeError(.malformedKey, "the recipient is not an age X25519 public key: it must start with \"age1\"")
        }
        guard decoded.data.count == 32 else {
            throw AgeError(.malformedKey, "the recipient is not a valid age public key: it holds \(decoded.data.count) bytes instead of 32")
        }
        self.publicKey = decoded.data
    }

    /// The `age1…` string.
    public var description: String {
        Bech32.encodeLowercase(hrp: Self.hrp, data: publicKey)
    }
}

/// An age X25519 identity: the secret key that decrypts files (`AGE-SECRET-KEY-1…`).
///
/// It deliberately has no `description`: the secret only leaves through ``encoded``
/// and ``fileContents(created:)``.
public struct AgeIdentity: Sendable {
    static let hrp = "age-secret-key-"

    /// The 32-byte X25519 scalar (swift-crypto's key type is not `Sendable`).
    let secretBytes: [UInt8]
    /// The matching 32-byte public key.
    let publicBytes: [UInt8]

    init(privateKey: Curve25519.KeyAgreement.PrivateKey) {
        self.secretBytes = Array(privateKey.rawRepresentation)
        self.publicBytes = Array(privateKey.publicKey.rawRepresentation)
    }

    /// The swift-crypto key; `secretBytes` was validated when the identity was made.
    func privateKey() throws -> Curve25519.KeyAgreement.PrivateKey {
        try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: secretBytes)
    }

    /// A new random identity.
    public static func generate() -> AgeIdentity {
        AgeIdentity(privateKey: Curve25519.KeyAgreement.PrivateKey())
    }

    /// Parses an uppercase `AGE-SECRET-KEY-1…` string.
    public init(parsing string: String) throws {
        let decoded: (hrp: String, data: [UInt8])
        do {
            decoded = try Bech32.decode(string)
        } catch let error as AgeError {
            throw AgeError(.malformedKey, "the identity is not a valid age secret key (AGE-SECRET-KEY-1…): \(error.message)")
        }
        guard decoded.hrp == Self.hrp, string.hasPrefix("AGE-SECRET-KEY-1") else {
            throw AgeError(.malformedKey, "the identity is not an age X25519 secret key: it must start with \"AGE-SECRET-KEY-1\" in upper case")
        }
        guard decoded.data.count == 32,
              let key = try? Curve25519.KeyAgreement.PrivateKey(rawRepresentation: decoded.data)
        else {
            throw AgeError(.malformedKey, "the identity is not a valid age secret key: it holds \(decoded.data.count) bytes instead of 32")
        }
        self.init(privateKey: key)
    }

    /// The recipient (public key) matching this identity.
    public var recipient: AgeRecipient {
        AgeRecipient(publicKey: publicBytes)
    }

    /// The `AGE-SECRET-KEY-1…` string. This is secret material.
    public var encoded: String {
        Bech32.encodeLowercase(hrp: Self.hrp, data: secretBytes).uppercased()
    }

    /// Parses an age identity file: blank lines and lines starting with `#` are ignored,
    /// every other line must be an `AGE-SECRET-KEY-1…` identity. Surrounding whitespace
    /// (including a CR of CRLF line endings) is ignored. Throws if there is no identity.
    public static func parseFile(contents: String) throws -> [AgeIdentity] {
        var identities: [AgeIdentity] = []
        var lineNumber = 0
        for rawLine in contents.split(omittingEmptySubsequences: false, whereSeparator: { $0.isNewline }) {
            lineNumber += 1
            let line = rawLine.ageTrimmedWhitespace()
            if line.isEmpty || line.hasPrefix("#") { continue }
            do {
                identities.append(try AgeIdentity(parsing: String(line)))
            } catch let error as AgeError {
                throw AgeError(.malformedKey, "identity file line \(lineNumber): \(error.message)")
            }
        }
        guard !identities.isEmpty else {
            throw AgeError(.malformedKey, "the identity file contains no identities (AGE-SECRET-KEY-1… lines)")
        }
        return identities
    }

    /// The identity file in the layout `age-keygen` writes:
    /// `# created: …`, `# public key: age1…`, then the secret key, each line ending in `\n`.
    public func fileContents(created: String) -> String {
        "# created: \(created)\n# public key: \(recipient)\n\(encoded)\n"
    }
}

extension Substring {
    fileprivate func ageTrimmedWhitespace() -> Substring {
        var result = self
        while let first = result.first, first.isWhitespace { result.removeFirst() }
        while let last = result.last, last.isWhitespace { result.removeLast() }
        return result
    }
}
