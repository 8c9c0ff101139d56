/// How an object's stored bytes relate to its plaintext.
public enum ObjectEncryption: String, Sendable, Codable {
    case none
    /// age v1, X25519 recipients.
    case age
}

/// An object plus what is needed to read it back.
public struct EncodedObject: Sendable, Hashable, Codable {
    public var stored: StoredObject
    public var plainSize: Int64
    public var encryption: ObjectEncryption

    public init(stored: StoredObject, plainSize: Int64, encryption: ObjectEncryption) {
        self.stored = stored
        self.plainSize = plainSize
        self.encryption = encryption
    }
}
