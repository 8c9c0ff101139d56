import Foundation
internal import Crypto

/// A new file (mode 0600) that counts and hashes (SHA-256) what is written to it: how
/// repositories stage an object before they know its name. With `direct`, written with
/// `O_DIRECT` (``FileWriter``), for files written once and read back rarely.
struct HashingFileWriter: ~Copyable {
    private var writer: FileWriter
    private var hasher = SHA256()
    /// Bytes written so far.
    private(set) var size: Int64 = 0

    init(path: String, direct: Bool) throws {
        writer = try FileWriter(path: path, mode: 0o600, direct: direct)
    }

    mutating func write(_ bytes: UnsafeRawBufferPointer) throws {
        hasher.update(bufferPointer: bytes)
        size += Int64(bytes.count)
        try writer.write(bytes)
    }

    mutating func sync() throws { try writer.sync() }

    mutating func close() { writer.close() }

    /// The hex SHA-256 of everything written so far.
    var sha256: String { hasher.finalize().hexString }
}
