public import Foundation
internal import Crypto

/// The secret key of the catalog's keyed digests of Kubernetes objects.
///
/// 32 random bytes, kept as hex in `<data_dir>/object-digest.key` (mode 0600), never in
/// the catalog. Export snapshots also store an age-encrypted copy in the repository, so
/// digests stay comparable after the data folder is lost.
public struct DigestKey: Sendable {
    let bytes: [UInt8]

    /// The key file's place under a data folder.
    public static func path(dataDir: String) -> String { "\(dataDir)/object-digest.key" }

    /// A new random key.
    public static func generate() -> DigestKey {
        DigestKey(bytes: (0..<32).map { _ in UInt8.random(in: 0...255) })
    }

    /// Parses the key file's text (64 hex digits).
    public init(text: String) throws {
        let hex = text.trimmingWhitespace()
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2, limitedBy: hex.endIndex) ?? hex.endIndex
            guard let byte = UInt8(hex[index..<next], radix: 16) else { break }
            bytes.append(byte)
            index = next
        }
        guard bytes.count == 32, hex.count == 64 else {
            throw DRError(.crypto, "the object digest key is not 64 hex digits")
        }
        self.bytes = bytes
    }

    init(bytes: [UInt8]) { self.bytes = bytes }

    /// The key file's text.
    public var text: String { bytes.map { String(format: "%02x", $0) }.joined() + "\n" }

    /// Reads the key at `path`; nil when the file does not exist.
    public static func load(path: String) throws -> DigestKey? {
        guard FileIO.exists(path) else { return nil }
        do {
            return try DigestKey(text: String(decoding: try FileIO.read(path), as: UTF8.self))
        } catch {
            throw DRError(.crypto, "cannot read the object digest key \(path)",
                          hint: "move it aside; drctl recovers it from the repository or makes a new one", cause: error)
        }
    }

    /// Writes the key to `path` with mode 0600.
    public func save(path: String) throws {
        try FileIO.atomicWrite(Array(text.utf8), to: path, mode: 0o600)
    }

    /// HMAC-SHA256 of `data`, as lowercase hex.
    public func digest(_ data: Data) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: data, using: SymmetricKey(data: bytes))
        return Data(mac).map { String(format: "%02x", $0) }.joined()
    }
}
