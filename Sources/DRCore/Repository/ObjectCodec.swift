/// Writes objects through age encryption when recipients are configured, and reads
/// them back with hash verification and decryption.
public struct ObjectCodec: Sendable {
    public let store: any ObjectStore
    public let recipients: [AgeRecipient]
    /// The age identity file, loaded only when something must be decrypted.
    public let identityFile: String?
    /// Use ``identityFile`` even when others can read or change it (`--insecure-permissions`).
    public let allowInsecureIdentity: Bool

    public init(store: any ObjectStore, recipients: [AgeRecipient], identityFile: String?, allowInsecureIdentity: Bool = false) {
        self.store = store
        self.recipients = recipients
        self.identityFile = identityFile
        self.allowInsecureIdentity = allowInsecureIdentity
    }

    /// True when new objects are encrypted.
    public var encrypts: Bool { !recipients.isEmpty }

    /// True when encrypted objects can be decrypted here.
    public var canDecrypt: Bool { identityFile != nil }

    /// Stores what `produce` emits, encrypted when recipients are configured.
    /// `observeStored` sees every stored (possibly encrypted) byte as it is written.
    public func write(
        type: ObjectType, observeStored: ((UnsafeRawBufferPointer) throws -> Void)? = nil,
        _ produce: (_ emit: (UnsafeRawBufferPointer) throws -> Void) throws -> Void
    ) throws -> EncodedObject {
        var plainSize: Int64 = 0
        guard encrypts else {
            let stored = try store.write(type: type) { emit in
                try withoutActuallyEscaping(emit) { emit in
                    try produce { bytes in
                        plainSize += Int64(bytes.count)
                        try emit(bytes)
                        try observeStored?(bytes)
                    }
                }
            }
            return EncodedObject(stored: stored, plainSize: plainSize, encryption: .none)
        }
        let pending = ByteBuffer()
        let stored = try store.write(type: type) { storeEmit in try withoutActuallyEscaping(storeEmit) { storeEmit in
            let emit: (UnsafeRawBufferPointer) throws -> Void = { bytes in
                try storeEmit(bytes)
                try observeStored?(bytes)
            }
            var encryptor = try AgeEncryptor(recipients: recipients) { pending.bytes.append(contentsOf: $0) }
            try pending.drain(into: emit)
            try produce { bytes in
                plainSize += Int64(bytes.count)
                try encryptor.update(bytes)
                if pending.bytes.count >= 1 << 20 { try pending.drain(into: emit) }
            }
            try encryptor.finish()
            try pending.drain(into: emit)
        } }
        return EncodedObject(stored: stored, plainSize: plainSize, encryption: .age)
    }

    /// Stores a whole file.
    public func write(type: ObjectType, file: String) throws -> EncodedObject {
        try write(type: type) { emit in
            var reader = try FileReader(path: file)
            while let chunk = try reader.next() { try chunk.withUnsafeBytes { try emit($0) } }
        }
    }

    /// Stores bytes held in memory.
    public func write(type: ObjectType, bytes: [UInt8]) throws -> EncodedObject {
        try write(type: type) { emit in try bytes.withUnsafeBytes { try emit($0) } }
    }

    /// Streams an object's plaintext to `consume`. Throws ``DRError/Code/dataCorrupt`` when the
    /// stored bytes do not match the object's hash, and ``DRError/Code/crypto`` when they do not decrypt.
    public func read(_ object: EncodedObject, _ consume: (UnsafeRawBufferPointer) throws -> Void) throws {
        switch object.encryption {
        case .none:
            try store.read(object.stored, consume)
        case .age:
            let identities = try loadIdentities()
            let pending = ByteBuffer()
            var decryptor = AgeDecryptor(identities: identities) { pending.bytes.append(contentsOf: $0) }
            do {
                try store.read(object.stored) { bytes in
                    try decryptor.update(bytes)
                    try pending.drain(into: consume)
                }
                try decryptor.finish()
                try pending.drain(into: consume)
            } catch let error as AgeError {
                throw DRError(
                    error.code == .noMatchingIdentity ? .crypto : .dataCorrupt,
                    "object \(object.stored.sha256) cannot be decrypted: \(error.message)")
            }
        }
    }

    /// The plaintext of a stream of stored bytes (`source`), decrypted as it is pulled when
    /// `encryption` is age. Checks bytes while they are being written, before they have a name.
    public func decrypting(_ source: any ObjectInputStream, encryption: ObjectEncryption, what: String) throws -> any ObjectInputStream {
        switch encryption {
        case .none: return source
        case .age: return DecryptingStream(source: source, identities: try loadIdentities(), sha: what)
        }
    }

    /// Opens an object's plaintext for pull-based reading (hash-checked at the end, decrypted on the fly).
    public func open(_ object: EncodedObject) throws -> any ObjectInputStream {
        let stored = try store.open(object.stored)
        switch object.encryption {
        case .none: return stored
        case .age: return DecryptingStream(source: stored, identities: try loadIdentities(), sha: object.stored.sha256)
        }
    }

    /// Reads an object's plaintext into memory (for small objects such as manifests).
    public func readAll(_ object: EncodedObject) throws -> [UInt8] {
        var result: [UInt8] = []
        try read(object) { result.append(contentsOf: $0) }
        return result
    }

    /// Writes an object's plaintext to a new file (mode 0600); the file is removed on failure.
    public func read(_ object: EncodedObject, toFile path: String) throws {
        var writer = try FileWriter(path: path, mode: 0o600)
        do {
            try read(object) { try writer.write($0) }
            writer.close()
        } catch {
            writer.close()
            FileIO.remove(path)
            throw error
        }
    }

    /// The identities from ``identityFile``.
    public func loadIdentities() throws -> [AgeIdentity] {
        guard let identityFile else {
            throw DRError(
                .crypto, "this data is encrypted and no age identity is configured",
                hint: "set `encryption.identity` in drctl.yaml to the identity file created by `drctl init` or `age-keygen`")
        }
        return try AgeIdentity.load(file: identityFile, allowInsecurePermissions: allowInsecureIdentity)
    }
}

/// Pulls ciphertext from a stream and serves the plaintext.
final class DecryptingStream: ObjectInputStream {
    private let source: any ObjectInputStream
    private let pending = ByteBuffer()
    private var offset = 0
    private var decryptor: AgeDecryptor
    private var finished = false
    private let sha: String
    private var chunk = [UInt8](repeating: 0, count: 1 << 18)

    init(source: any ObjectInputStream, identities: [AgeIdentity], sha: String) {
        self.source = source
        self.sha = sha
        let pending = self.pending
        decryptor = AgeDecryptor(identities: identities) { pending.bytes.append(contentsOf: $0) }
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        do {
            while offset == pending.bytes.count {
                pending.bytes.removeAll(keepingCapacity: true)
                offset = 0
                if finished { return 0 }
                let n = try chunk.withUnsafeMutableBytes { try source.read(into: $0) }
                if n == 0 {
                    try decryptor.finish()
                    finished = true
                } else {
                    try chunk.withUnsafeBytes { try decryptor.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
                }
            }
            let count = min(buffer.count, pending.bytes.count - offset)
            pending.bytes.withUnsafeBytes { raw in
                if let target = buffer.baseAddress, let source = raw.baseAddress {
                    target.copyMemory(from: source + offset, byteCount: count)
                }
            }
            offset += count
            return count
        } catch let error as AgeError {
            throw DRError(error.code == .noMatchingIdentity ? .crypto : .dataCorrupt,
                          "object \(sha) cannot be decrypted: \(error.message)")
        }
    }
}

/// A growable byte buffer shared between a streaming transform and its consumer.
final class ByteBuffer {
    var bytes: [UInt8] = []

    func drain(into consume: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard !bytes.isEmpty else { return }
        try bytes.withUnsafeBytes { try consume($0) }
        bytes.removeAll(keepingCapacity: true)
    }
}
