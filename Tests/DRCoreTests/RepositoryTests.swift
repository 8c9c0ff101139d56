import DRCore
import Foundation
import Testing
import TestSupport

@Suite("Local repository")
struct RepositoryTests {
    @Test("objects are named by their SHA-256, stored once, and read back verified")
    func roundTrip() throws {
        try withTemporaryDirectory { dir in
            let repo = try LocalRepository.create(name: "default", root: "\(dir)/repo")
            let codec = ObjectCodec(store: repo, recipients: [], identityFile: nil)
            let object = try codec.write(type: .data, bytes: Array("hello".utf8))
            #expect(object.stored.sha256 == "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")
            #expect(FileManager.default.fileExists(atPath: "\(dir)/repo/objects/2c/\(object.stored.sha256)"))
            let again = try codec.write(type: .data, bytes: Array("hello".utf8))
            #expect(again == object)
            #expect(try repo.list(.data) == [object.stored.sha256])
            #expect(try codec.readAll(object) == Array("hello".utf8))
            #expect(try FileManager.default.contentsOfDirectory(atPath: "\(dir)/repo/tmp").isEmpty)
        }
    }

    @Test("a flipped byte, a truncation or a missing object is reported as corrupt")
    func corruption() throws {
        try withTemporaryDirectory { dir in
            let repo = try LocalRepository.create(name: "default", root: "\(dir)/repo")
            let codec = ObjectCodec(store: repo, recipients: [], identityFile: nil)
            let object = try codec.write(type: .data, bytes: Array(repeating: 7, count: 5000))
            let path = "\(dir)/repo/objects/\(object.stored.sha256.prefix(2))/\(object.stored.sha256)"
            var bytes = try Array(Data(contentsOf: URL(fileURLWithPath: path)))
            bytes[10] ^= 0xff
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            #expect(throws: DRError.self) { try codec.readAll(object) }
            try Data(bytes.prefix(100)).write(to: URL(fileURLWithPath: path))
            let truncated = try #require(throws: DRError.self) { try codec.readAll(object) }
            #expect(truncated.code == .dataCorrupt)
            try FileManager.default.removeItem(atPath: path)
            let missing = try #require(throws: DRError.self) { try codec.readAll(object) }
            #expect(missing.code == .dataCorrupt)
            #expect(missing.message.contains("missing"))
        }
    }

    @Test("encrypted objects round-trip and need the identity to read")
    func encrypted() throws {
        try withTemporaryDirectory { dir in
            let repo = try LocalRepository.create(name: "default", root: "\(dir)/repo")
            let recipient = try Setup.writeIdentity(to: "\(dir)/id.txt")
            let writer = ObjectCodec(store: repo, recipients: [try AgeRecipient(parsing: recipient)], identityFile: nil)
            let plain = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 * 31) }
            let object = try writer.write(type: .data, bytes: plain)
            #expect(object.encryption == .age)
            #expect(object.plainSize == Int64(plain.count))
            let noKey = try #require(throws: DRError.self) { try writer.readAll(object) }
            #expect(noKey.code == .crypto)
            let reader = ObjectCodec(store: repo, recipients: [], identityFile: "\(dir)/id.txt")
            #expect(try reader.readAll(object) == plain)
        }
    }

    @Test("a repository of an unknown format version is refused")
    func formatVersion() throws {
        try withTemporaryDirectory { dir in
            try LocalRepository.create(name: "default", root: "\(dir)/repo")
            let config = "\(dir)/repo/config"
            let text = try String(contentsOfFile: config, encoding: .utf8).replacingOccurrences(of: "\"format\" : 1", with: "\"format\" : 99")
            try text.write(toFile: config, atomically: true, encoding: .utf8)
            let error = try #require(throws: DRError.self) { try LocalRepository(name: "default", root: "\(dir)/repo") }
            #expect(error.code == .refused)
            let missing = try #require(throws: DRError.self) { try LocalRepository(name: "default", root: "\(dir)/none") }
            #expect(missing.code == .notFound)
            #expect(missing.description.contains("drctl init"))
        }
    }
}
