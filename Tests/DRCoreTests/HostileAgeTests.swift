import DRCore
import Foundation
import Testing
import TestSupport

/// Oversized and truncated age input (issue 9). Truncations, flipped bytes, bad headers and
/// trailing data are in AgeTests; these add the size limits.
@Suite("hostile age files")
struct HostileAgeTests {
    func decryptError(_ bytes: [UInt8], identity: AgeIdentity) -> AgeError? {
        do {
            _ = try Age.decrypt(bytes, with: [identity])
            return nil
        } catch let error as AgeError {
            return error
        } catch {
            Issue.record("not an AgeError: \(error)")
            return nil
        }
    }

    @Test("a header over 4 MiB is refused, as one endless line or as many stanzas, without reading further")
    func oversizedHeaders() throws {
        let identity = AgeIdentity.generate()
        let endlessLine = Array("age-encryption.org/v1\n-> X25519 ".utf8) + Array(repeating: UInt8(ascii: "A"), count: 5 << 20)
        let endless = try #require(decryptError(endlessLine, identity: identity))
        #expect(endless.code == .malformedHeader)
        #expect(endless.message.contains("larger than 4 MiB"), "\(endless)")

        var stanzas = "age-encryption.org/v1\n"
        let stanza = "-> unknown-type arg\n" + String(repeating: "A", count: 43) + "\n"
        while stanzas.utf8.count <= (5 << 20) { stanzas += stanza }
        let many = try #require(decryptError(Array(stanzas.utf8), identity: identity))
        #expect(many.code == .malformedHeader, "\(many)")
        #expect(many.message.contains("larger than 4 MiB"), "\(many)")
    }

    @Test("a file of only a header, or a payload cut or padded past a chunk, is an error naming the problem")
    func truncatedAndPadded() throws {
        let identity = AgeIdentity.generate()
        let encrypted = try Age.encrypt(Array(repeating: 7, count: 200_000), to: [identity.recipient])
        let headerEnd = try #require(encrypted.indices.first { index in
            index >= 4 && encrypted[index - 4..<index].elementsEqual(Array("--- ".utf8))
        }.flatMap { start in encrypted[start...].firstIndex(of: UInt8(ascii: "\n")) }) + 1
        #expect(decryptError(Array(encrypted.prefix(headerEnd)), identity: identity)?.code == .truncated)
        #expect(decryptError(Array(encrypted.prefix(headerEnd + 16 + 65536 + 16)), identity: identity)?.code == .truncated)
        #expect(decryptError(encrypted + Array(repeating: 0, count: 65536 + 16), identity: identity)?.code == .corruptPayload)
    }
}
