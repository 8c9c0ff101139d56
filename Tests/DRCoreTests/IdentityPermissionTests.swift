import DRCore
import Foundation
import Testing
import TestSupport

/// Identity files others can read or change are refused (issue 9, secrets hygiene).
@Suite("identity file permissions")
struct IdentityPermissionTests {
    /// Writes a fresh identity with `mode` at `path`, returning its recipient.
    func writeIdentity(_ path: String, mode: mode_t) throws -> String {
        let identity = AgeIdentity.generate()
        try Data(identity.fileContents(created: "2026-01-01T00:00:00Z").utf8).write(to: URL(fileURLWithPath: path))
        #expect(chmod(path, mode) == 0)
        return identity.recipient.description
    }

    @Test("0600, 0400, 0440 and 0640 are accepted", arguments: [0o600, 0o400, 0o440, 0o640] as [mode_t])
    func safeModes(mode: mode_t) throws {
        try withTemporaryDirectory { dir in
            let recipient = try writeIdentity("\(dir)/id.txt", mode: mode)
            #expect(try AgeIdentity.load(file: "\(dir)/id.txt").map(\.recipient.description) == [recipient])
        }
    }

    @Test("group- or world-writable and world-readable files are refused with the mode and the chmod that fixes them",
          arguments: [(0o644, "world-readable", "chmod 640"), (0o604, "world-readable", "chmod 600"),
                      (0o620, "group-writable", "chmod 600"), (0o602, "world-writable", "chmod 600"),
                      (0o666, "group-writable and world-writable and world-readable", "chmod 640"),
                      (0o660, "group-writable", "chmod 640")] as [(mode_t, String, String)])
    func unsafeModes(mode: mode_t, problem: String, fix: String) throws {
        try withTemporaryDirectory { dir in
            let path = "\(dir)/id.txt"
            _ = try writeIdentity(path, mode: mode)
            let error = try #require(throws: DRError.self) { try AgeIdentity.load(file: path) }
            #expect(error.code == .refused)
            #expect(error.message.contains(path), "\(error.message)")
            #expect(error.message.contains("mode 0\(String(mode, radix: 8))"), "\(error.message)")
            #expect(error.message.contains("which is \(problem);"), "\(error.message)")
            #expect(error.hint?.contains("`\(fix) \(path)`") == true, "\(error.hint ?? "")")
            #expect(error.hint?.contains("--insecure-permissions") == true)
            // The escape hatch reads it anyway.
            #expect(try AgeIdentity.load(file: path, allowInsecurePermissions: true).count == 1)
        }
    }

    /// A Secret volume as the kubelet lays it out: `identity.txt -> ..data/identity.txt`,
    /// `..data -> ..<timestamp>`; the check applies to the final file.
    @Test("through kubelet-style symlinks the final file is checked: 0440 passes, 0444 is refused naming the target")
    func secretVolumeSymlinks() throws {
        try withTemporaryDirectory { dir in
            let stamped = "\(dir)/volume/..2026_01_01_00_00_00.000000001"
            try FileIO.createDirectory(stamped)
            _ = try writeIdentity("\(stamped)/identity.txt", mode: 0o440)
            try FileManager.default.createSymbolicLink(atPath: "\(dir)/volume/..data", withDestinationPath: "..2026_01_01_00_00_00.000000001")
            try FileManager.default.createSymbolicLink(atPath: "\(dir)/volume/identity.txt", withDestinationPath: "..data/identity.txt")
            #expect(try AgeIdentity.load(file: "\(dir)/volume/identity.txt").count == 1)

            #expect(chmod("\(stamped)/identity.txt", 0o444) == 0)
            let error = try #require(throws: DRError.self) { try AgeIdentity.load(file: "\(dir)/volume/identity.txt") }
            #expect(error.code == .refused)
            #expect(error.message.contains("\(dir)/volume/identity.txt (a link to "), "\(error.message)")
            #expect(error.message.contains("..2026_01_01_00_00_00.000000001/identity.txt) has mode 0444"), "\(error.message)")
        }
    }

    @Test("the codec refuses to decrypt with an unsafe identity unless allowed; nothing else is affected")
    func codecUsesTheCheck() throws {
        try withTemporaryDirectory { dir in
            let repo = try LocalRepository.create(name: "default", root: "\(dir)/repo")
            let recipient = try writeIdentity("\(dir)/id.txt", mode: 0o644)
            let writer = ObjectCodec(store: repo, recipients: [try AgeRecipient(parsing: recipient)], identityFile: "\(dir)/id.txt")
            // Encrypting needs only the recipient.
            let object = try writer.write(type: .data, bytes: Array("payload".utf8))
            let error = try #require(throws: DRError.self) { try writer.readAll(object) }
            #expect(error.code == .refused && error.message.contains("\(dir)/id.txt"))
            let lenient = ObjectCodec(store: repo, recipients: [], identityFile: "\(dir)/id.txt", allowInsecureIdentity: true)
            #expect(try lenient.readAll(object) == Array("payload".utf8))
        }
    }
}
