internal import Crypto
internal import Foundation

// age v1 (https://age-encryption.org/v1, C2SP): X25519 recipients, header MAC and the
// STREAM ChaCha20-Poly1305 payload, push-based in both directions.

/// One-shot conveniences over ``AgeEncryptor`` and ``AgeDecryptor``.
public enum Age {
    /// Encrypts `data` to every recipient.
    public static func encrypt(_ data: [UInt8], to recipients: [AgeRecipient]) throws -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(data.count + data.count / AgeFormat.chunkSize * AgeFormat.tagSize + 256)
        var encryptor = try AgeEncryptor(recipients: recipients) { out.append(contentsOf: $0) }
        try data.withUnsafeBytes { try encryptor.update($0) }
        try encryptor.finish()
        return out
    }

    /// Decrypts an age file with the first identity that matches one of its X25519 stanzas.
    public static func decrypt(_ data: [UInt8], with identities: [AgeIdentity]) throws -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(data.count)
        var decryptor = AgeDecryptor(identities: identities) { out.append(contentsOf: $0) }
        try data.withUnsafeBytes { try decryptor.update($0) }
        try decryptor.finish()
        return out
    }
}

// MARK: - Format constants and primitives

enum AgeFormat {
    static let versionLine = Array("age-encryption.org/v1\n".utf8)
    static let versionPrefix = Array("age-encryption.org/".utf8)
    static let chunkSize = 64 * 1024
    static let tagSize = 16
    static let encryptedChunkSize = chunkSize + tagSize
    static let fileKeySize = 16
    static let payloadNonceSize = 16
    static let x25519Label = Array("age-encryption.org/v1/X25519".utf8)
    /// Header size beyond which the input is rejected rather than buffered further.
    static let maxHeaderSize = 4 * 1024 * 1024

    static func randomBytes(_ count: Int) -> [UInt8] {
        SymmetricKey(size: SymmetricKeySize(bitCount: count * 8)).withUnsafeBytes { Array($0) }
    }

    static func hkdf(_ ikm: [UInt8], salt: [UInt8], info: String) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: ikm), salt: salt, info: Array(info.utf8), outputByteCount: 32)
    }

    /// STREAM nonce: 11-byte big-endian chunk counter, then 0x01 for the last chunk.
    static func chunkNonce(_ counter: UInt64, last: Bool) throws -> ChaChaPoly.Nonce {
        var bytes = [UInt8](repeating: 0, count: 12)
        for i in 0..<8 { bytes[10 - i] = UInt8(truncatingIfNeeded: counter >> UInt64(8 * i)) }
        bytes[11] = last ? 1 : 0
        return try ChaChaPoly.Nonce(data: bytes)
    }

    static func zeroNonce() throws -> ChaChaPoly.Nonce { try ChaChaPoly.Nonce(data: [UInt8](repeating: 0, count: 12)) }
}

/// Standard base64 without padding; decoding is strict (canonical encodings only).
enum AgeBase64 {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    static let reverse: [Int8] = {
        var table = [Int8](repeating: -1, count: 256)
        for (index, char) in alphabet.enumerated() { table[Int(char)] = Int8(index) }
        return table
    }()

    static func isAlphabet(_ byte: UInt8) -> Bool { reverse[Int(byte)] >= 0 }

    static func encode<C: Collection<UInt8>>(_ data: C) -> [UInt8] {
        let bytes = Array(data)
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count * 4 + 2) / 3)
        var i = 0
        while i + 3 <= bytes.count {
            let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
            out.append(alphabet[Int(n >> 18 & 63)])
            out.append(alphabet[Int(n >> 12 & 63)])
            out.append(alphabet[Int(n >> 6 & 63)])
            out.append(alphabet[Int(n & 63)])
            i += 3
        }
        let rest = bytes.count - i
        if rest == 1 {
            let n = UInt32(bytes[i]) << 16
            out.append(alphabet[Int(n >> 18 & 63)])
            out.append(alphabet[Int(n >> 12 & 63)])
        } else if rest == 2 {
            let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8
            out.append(alphabet[Int(n >> 18 & 63)])
            out.append(alphabet[Int(n >> 12 & 63)])
            out.append(alphabet[Int(n >> 6 & 63)])
        }
        return out
    }

    /// Nil for padding, characters outside the alphabet, impossible lengths or
    /// non-zero trailing bits.
    static func decode<C: Collection<UInt8>>(_ chars: C) -> [UInt8]? {
        let input = Array(chars)
        guard input.count % 4 != 1 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(input.count * 3 / 4)
        var acc: UInt32 = 0
        var bits = 0
        for char in input {
            let value = reverse[Int(char)]
            guard value >= 0 else { return nil }
            acc = (acc << 6) | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: acc >> UInt32(bits)))
                acc &= (1 << UInt32(bits)) - 1
            }
        }
        guard acc == 0 else { return nil }
        return out
    }
}

// MARK: - Encryption

/// Streaming age encryption to X25519 recipients.
///
/// The header is written through `output` by the initializer; ``update(_:)`` emits each
/// 64 KiB chunk once it is known not to be the last, and ``finish()`` emits the final one.
public struct AgeEncryptor {
    private enum State { case open, finished, failed }

    private let output: (UnsafeRawBufferPointer) throws -> Void
    private let payloadKey: SymmetricKey
    private var chunk: [UInt8] = []
    private var counter: UInt64 = 0
    private var state = State.open

    /// Builds the header for `recipients` (one X25519 stanza each, random file key) and
    /// writes it, with the payload nonce, through `output`.
    public init(recipients: [AgeRecipient], output: @escaping (UnsafeRawBufferPointer) throws -> Void) throws {
        guard !recipients.isEmpty else {
            throw AgeError(.usage, "cannot encrypt: no recipients were given (at least one age1… public key is required)")
        }
        let fileKey = AgeFormat.randomBytes(AgeFormat.fileKeySize)
        var header = AgeFormat.versionLine
        for recipient in recipients {
            header += try Self.x25519Stanza(fileKey: fileKey, recipient: recipient)
        }
        header += Array("---".utf8)
        let mac = HMAC<SHA256>.authenticationCode(
            for: header, using: AgeFormat.hkdf(fileKey, salt: [], info: "header"))
        header.append(UInt8(ascii: " "))
        header += AgeBase64.encode(Array(mac))
        header.append(UInt8(ascii: "\n"))
        let nonce = AgeFormat.randomBytes(AgeFormat.payloadNonceSize)
        header += nonce
        self.payloadKey = AgeFormat.hkdf(fileKey, salt: nonce, info: "payload")
        self.output = output
        chunk.reserveCapacity(AgeFormat.chunkSize)
        try header.withUnsafeBytes { try output($0) }
    }

    static func x25519Stanza(fileKey: [UInt8], recipient: AgeRecipient) throws -> [UInt8] {
        let ephemeral = Curve25519.KeyAgreement.PrivateKey()
        let share = Array(ephemeral.publicKey.rawRepresentation)
        let shared: SharedSecret
        do {
            let peer = try Curve25519.KeyAgreement.PublicKey(rawRepresentation: recipient.publicKey)
            shared = try ephemeral.sharedSecretFromKeyAgreement(with: peer)
        } catch {
            throw AgeError(.malformedKey, "the recipient \(recipient) is not a usable X25519 public key")
        }
        guard !shared.withUnsafeBytes({ $0.allSatisfy { $0 == 0 } }) else {
            throw AgeError(.malformedKey, "the recipient \(recipient) is not a usable X25519 public key (low-order point)")
        }
        let wrapKey = shared.hkdfDerivedSymmetricKey(
            using: SHA256.self, salt: share + recipient.publicKey, sharedInfo: AgeFormat.x25519Label,
            outputByteCount: 32)
        let box = try ChaChaPoly.seal(fileKey, using: wrapKey, nonce: try AgeFormat.zeroNonce())
        return stanza(arguments: ["X25519", String(decoding: AgeBase64.encode(share), as: UTF8.self)],
                      body: Array(box.ciphertext) + Array(box.tag))
    }

    /// `-> arg…\n` then the base64 body wrapped at 64 columns; the last body line is
    /// always shorter than 64 characters (empty if the length is a multiple of 64).
    static func stanza(arguments: [String], body: [UInt8]) -> [UInt8] {
        var out = Array("->".utf8)
        for argument in arguments {
            out.append(UInt8(ascii: " "))
            out += Array(argument.utf8)
        }
        out.append(UInt8(ascii: "\n"))
        let encoded = AgeBase64.encode(body)
        var index = 0
        while true {
            let end = min(index + 64, encoded.count)
            out += encoded[index..<end]
            out.append(UInt8(ascii: "\n"))
            if end - index < 64 { break }
            index = end
        }
        return out
    }

    /// Encrypts `bytes`. Chunks are emitted through `output` as soon as they are known
    /// not to be the final one.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) throws {
        switch state {
        case .open: break
        case .finished: throw AgeError(.usage, "AgeEncryptor.update was called after finish()")
        case .failed: throw AgeError(.usage, "AgeEncryptor.update was called after an earlier error")
        }
        do {
            var offset = 0
            while offset < bytes.count {
                if chunk.count == AgeFormat.chunkSize {
                    let full = chunk
                    try seal(full, last: false)
                    chunk.removeAll(keepingCapacity: true)
                }
                if chunk.isEmpty && bytes.count - offset > AgeFormat.chunkSize {
                    // Whole chunks straight from the caller's buffer; more input follows them.
                    try seal(UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + AgeFormat.chunkSize]), last: false)
                    offset += AgeFormat.chunkSize
                    continue
                }
                let take = min(AgeFormat.chunkSize - chunk.count, bytes.count - offset)
                chunk.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + take]))
                offset += take
            }
        } catch {
            state = .failed
            throw error
        }
    }

    /// Emits the final chunk. The encryptor cannot be used afterwards.
    public mutating func finish() throws {
        switch state {
        case .open: break
        case .finished: throw AgeError(.usage, "AgeEncryptor.finish was called twice")
        case .failed: throw AgeError(.usage, "AgeEncryptor.finish was called after an earlier error")
        }
        do {
            // Empty only when the whole plaintext is empty: after a non-final chunk at
            // least one byte was buffered.
            let last = chunk
            try seal(last, last: true)
            chunk = []
            state = .finished
        } catch {
            state = .failed
            throw error
        }
    }

    private mutating func seal<D: DataProtocol>(_ plaintext: D, last: Bool) throws {
        let box = try ChaChaPoly.seal(plaintext, using: payloadKey, nonce: try AgeFormat.chunkNonce(counter, last: last))
        let combined = box.combined
        try combined.withUnsafeBytes { raw in
            try output(UnsafeRawBufferPointer(rebasing: raw[12...]))
        }
        counter += 1
    }
}

// MARK: - Decryption

/// Streaming age decryption with X25519 identities.
///
/// Feed the file in slices of any size through ``update(_:)``; plaintext is emitted
/// through `output` chunk by chunk once each chunk is authenticated and known not to be
/// the last. ``finish()`` authenticates and emits the final chunk and fails on
/// truncation. Plaintext emitted before an error must be discarded by the caller.
public struct AgeDecryptor {
    private enum Phase { case version, stanzas, body, nonce, payload, done, failed }

    private struct Stanza {
        var arguments: [String]
        var body: [UInt8] = []
        var type: String { arguments[0] }
    }

    private let identities: [AgeIdentity]
    private let output: (UnsafeRawBufferPointer) throws -> Void
    private var phase = Phase.version
    private var buffer: [UInt8] = []
    /// First unconsumed byte of `buffer` (0 throughout the header, which the MAC covers).
    private var position = 0
    /// Header parsing: start of the current line and how far a newline was searched for.
    private var lineStart = 0
    private var scanned = 0
    private var stanzas: [Stanza] = []
    private var current = Stanza(arguments: [])
    private var bodyChars: [UInt8] = []
    private var fileKey: [UInt8] = []
    private var payloadKey: SymmetricKey?
    private var counter: UInt64 = 0

    public init(identities: [AgeIdentity], output: @escaping (UnsafeRawBufferPointer) throws -> Void) {
        self.identities = identities
        self.output = output
    }

    /// Consumes the next bytes of the age file.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) throws {
        try checkUsable("update")
        do {
            var offset = 0
            while offset < bytes.count {
                // Bounded appends keep the buffer near two chunks whatever the slice size.
                let take = min(bytes.count - offset, AgeFormat.encryptedChunkSize)
                buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + take]))
                offset += take
                try process()
            }
        } catch {
            phase = .failed
            throw error
        }
    }

    /// Authenticates and emits the final chunk. Throws if the input ended early.
    public mutating func finish() throws {
        try checkUsable("finish")
        do {
            try finishInput()
            phase = .done
            buffer = []
        } catch {
            phase = .failed
            throw error
        }
    }

    private func checkUsable(_ method: String) throws {
        switch phase {
        case .done: throw AgeError(.usage, "AgeDecryptor.\(method) was called after finish()")
        case .failed: throw AgeError(.usage, "AgeDecryptor.\(method) was called after an earlier error")
        default: break
        }
    }

    private mutating func process() throws {
        if phase == .version || phase == .stanzas || phase == .body {
            try parseHeader()
        }
        if phase == .nonce, buffer.count - position >= AgeFormat.payloadNonceSize {
            let nonce = Array(buffer[position..<position + AgeFormat.payloadNonceSize])
            payloadKey = AgeFormat.hkdf(fileKey, salt: nonce, info: "payload")
            position += AgeFormat.payloadNonceSize
            phase = .payload
        }
        if phase == .payload {
            // A full chunk followed by more data is not the last one.
            while buffer.count - position > AgeFormat.encryptedChunkSize {
                let range = position..<position + AgeFormat.encryptedChunkSize
                if let plaintext = open(range, last: false) {
                    try plaintext.withUnsafeBytes { try output($0) }
                    counter += 1
                    position = range.upperBound
                } else if open(range, last: true) != nil {
                    throw AgeError(.corruptPayload,
                        "unexpected data after the final chunk (chunk \(counter + 1)): something was appended to the encrypted file")
                } else {
                    throw AgeError(.corruptPayload,
                        "payload chunk \(counter + 1) failed authentication: the encrypted data was modified or corrupted")
                }
            }
            if position >= AgeFormat.encryptedChunkSize || (position > 0 && position == buffer.count) {
                buffer.removeSubrange(0..<position)
                position = 0
            }
        }
    }

    private func open(_ range: Range<Int>, last: Bool) -> Data? {
        guard let key = payloadKey, range.count >= AgeFormat.tagSize else { return nil }
        let split = range.upperBound - AgeFormat.tagSize
        guard let box = try? ChaChaPoly.SealedBox(
            nonce: try AgeFormat.chunkNonce(counter, last: last),
            ciphertext: buffer[range.lowerBound..<split],
            tag: buffer[split..<range.upperBound])
        else { return nil }
        return try? ChaChaPoly.open(box, using: key)
    }

    private mutating func finishInput() throws {
        switch phase {
        case .version, .stanzas, .body:
            if buffer.isEmpty {
                throw AgeError(.truncated,
                    "the encrypted data is empty: there is no age header (the file was truncated to zero bytes or never written)")
            }
            throw AgeError(.truncated, "the encrypted data is truncated inside the age header")
        case .nonce:
            throw AgeError(.truncated, "the encrypted data is truncated: the payload nonce after the header is incomplete")
        case .payload:
            let remaining = buffer.count - position
            if remaining == 0 {
                throw AgeError(.truncated, "the encrypted data is truncated: the payload has no chunks after the header")
            }
            if remaining < AgeFormat.tagSize {
                throw AgeError(.truncated,
                    "the encrypted data is truncated: the final chunk (\(remaining) bytes) is shorter than its authentication tag")
            }
            let range = position..<buffer.count
            if let plaintext = open(range, last: true) {
                if plaintext.isEmpty && counter > 0 {
                    throw AgeError(.corruptPayload,
                        "the final chunk is empty although data precedes it, which the age format forbids: the file was tampered with")
                }
                try plaintext.withUnsafeBytes { try output($0) }
                counter += 1
                position = buffer.count
            } else if remaining == AgeFormat.encryptedChunkSize, open(range, last: false) != nil {
                throw AgeError(.truncated, "the encrypted data is truncated: the final chunk is missing")
            } else {
                throw AgeError(.corruptPayload,
                    "the final payload chunk (chunk \(counter + 1)) failed authentication: the encrypted data was truncated, modified, or has data appended")
            }
        case .done, .failed:
            break
        }
    }

    // MARK: Header

    private mutating func parseHeader() throws {
        while true {
            switch phase {
            case .version:
                let available = min(buffer.count, AgeFormat.versionLine.count)
                if !buffer[0..<available].elementsEqual(AgeFormat.versionLine[0..<available]) {
                    let prefix = AgeFormat.versionPrefix
                    if buffer.count > prefix.count, buffer[0..<prefix.count].elementsEqual(prefix) {
                        throw AgeError(.unsupported,
                            "the file uses an unsupported age format version (only age-encryption.org/v1 is supported)")
                    }
                    throw AgeError(.malformedHeader,
                        "the data is not an age-encrypted file: it does not start with \"age-encryption.org/v1\"")
                }
                guard available == AgeFormat.versionLine.count else { return }
                lineStart = available
                scanned = available
                phase = .stanzas
            case .stanzas, .body:
                guard let newline = buffer[scanned...].firstIndex(of: UInt8(ascii: "\n")) else {
                    scanned = buffer.count
                    if buffer.count > AgeFormat.maxHeaderSize {
                        throw AgeError(.malformedHeader,
                            "the age header is larger than \(AgeFormat.maxHeaderSize / 1024 / 1024) MiB: the file is corrupt or not an age file")
                    }
                    return
                }
                let start = lineStart
                lineStart = newline + 1
                scanned = newline + 1
                try headerLine(start..<newline)
            default:
                return
            }
        }
    }

    private static func malformed(_ detail: String) -> AgeError {
        AgeError(.malformedHeader, "the age header is malformed: \(detail)")
    }

    private mutating func headerLine(_ range: Range<Int>) throws {
        let line = buffer[range]
        if phase == .body {
            guard line.count <= 64, line.allSatisfy(AgeBase64.isAlphabet) else {
                throw Self.malformed("a stanza body line is not unpadded base64 of at most 64 characters")
            }
            bodyChars += line
            if line.count < 64 {
                guard let body = AgeBase64.decode(bodyChars) else {
                    throw Self.malformed("a stanza body is not canonical base64")
                }
                current.body = body
                stanzas.append(current)
                bodyChars = []
                phase = .stanzas
            }
            return
        }
        if line.starts(with: Array("-> ".utf8)) {
            let arguments = line.dropFirst(3).split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
            guard arguments.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0 >= 0x21 && $0 <= 0x7e } }) else {
                throw Self.malformed("a stanza has an empty or non-printable argument")
            }
            current = Stanza(arguments: arguments.map { String(decoding: $0, as: UTF8.self) })
            phase = .body
            return
        }
        if line.starts(with: Array("---".utf8)) {
            guard line.count > 4, line[range.lowerBound + 3] == UInt8(ascii: " "),
                  let mac = AgeBase64.decode(line.dropFirst(4)), mac.count == 32
            else {
                throw Self.malformed("the closing \"---\" line does not hold a valid header MAC")
            }
            guard !stanzas.isEmpty else {
                throw Self.malformed("it has no recipient stanzas")
            }
            try unlock(macInput: range.lowerBound + 3, mac: mac)
            position = range.upperBound + 1
            phase = .nonce
            return
        }
        throw Self.malformed("unexpected line where a stanza (\"->\") or the closing \"---\" line was expected")
    }

    /// Finds the file key with the identities and verifies the header MAC, which covers
    /// `buffer[0..<macInput]` (up to and including "---").
    private mutating func unlock(macInput: Int, mac: [UInt8]) throws {
        guard !identities.isEmpty else {
            throw AgeError(.usage, "cannot decrypt: no identities were given")
        }
        if stanzas.contains(where: { $0.type == "scrypt" }) {
            throw AgeError(.unsupported,
                "this file is protected with a passphrase (scrypt): passphrase-encrypted files are not supported, only X25519 recipients")
        }
        var found: [UInt8]?
        search: for stanza in stanzas where stanza.type == "X25519" {
            guard stanza.arguments.count == 2,
                  let share = AgeBase64.decode(Array(stanza.arguments[1].utf8)), share.count == 32,
                  stanza.body.count == AgeFormat.fileKeySize + AgeFormat.tagSize
            else {
                throw Self.malformed("an X25519 stanza does not have exactly one 32-byte share and a 32-byte body")
            }
            for identity in identities {
                if let key = try Self.unwrapX25519(share: share, body: stanza.body, identity: identity) {
                    found = key
                    break search
                }
            }
        }
        guard let key = found else {
            let x25519Count = stanzas.filter { $0.type == "X25519" }.count
            let detail = x25519Count == 0
                ? "it has no X25519 recipients (stanza types: \(Set(stanzas.map { String($0.type.prefix(32)) }).sorted().joined(separator: ", ")))"
                : "tried \(identities.count) identit\(identities.count == 1 ? "y" : "ies") against \(x25519Count) X25519 recipient\(x25519Count == 1 ? "" : "s")"
            throw AgeError(.noMatchingIdentity,
                "no identity matches this file: it was encrypted to other recipients (\(detail))")
        }
        let macKey = AgeFormat.hkdf(key, salt: [], info: "header")
        guard HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: buffer[0..<macInput], using: macKey) else {
            throw AgeError(.headerMAC,
                "the age header failed authentication (bad MAC): the header was modified or corrupted")
        }
        fileKey = key
    }

    private static func unwrapX25519(share: [UInt8], body: [UInt8], identity: AgeIdentity) throws -> [UInt8]? {
        let lowOrder = AgeError(.malformedHeader,
            "the age header is malformed: an X25519 stanza has an invalid ephemeral key (all-zero shared secret); the file was crafted or corrupted")
        let shared: SharedSecret
        do {
            let peer = try Curve25519.KeyAgreement.PublicKey(rawRepresentation: share)
            shared = try identity.privateKey().sharedSecretFromKeyAgreement(with: peer)
        } catch {
            throw lowOrder
        }
        guard !shared.withUnsafeBytes({ $0.allSatisfy { $0 == 0 } }) else { throw lowOrder }
        let wrapKey = shared.hkdfDerivedSymmetricKey(
            using: SHA256.self, salt: share + identity.publicBytes, sharedInfo: AgeFormat.x25519Label,
            outputByteCount: 32)
        guard let box = try? ChaChaPoly.SealedBox(
                nonce: try AgeFormat.zeroNonce(), ciphertext: body[0..<AgeFormat.fileKeySize], tag: body[AgeFormat.fileKeySize...]),
              let fileKey = try? ChaChaPoly.open(box, using: wrapKey),
              fileKey.count == AgeFormat.fileKeySize
        else { return nil }
        return Array(fileKey)
    }
}
