import DRCore
import Foundation
import Testing

@Suite("age v1 encryption")
struct AgeTests {
    // MARK: Helpers

    /// Runs `body` in a fresh directory under the system temporary directory, removed afterwards.
    private static func withTempDir<T>(_ body: (URL) throws -> T) throws -> T {
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("agekit-test-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        return try body(dir)
    }

    private struct ToolResult {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs /usr/bin/`tool` with `arguments`; output goes through files in `dir`, so large
    /// output cannot block the child.
    @discardableResult
    private static func run(_ tool: String, _ arguments: [String], in dir: URL) throws -> ToolResult {
        let id = UUID().uuidString
        let outURL = dir.appendingPathComponent("stdout-\(id)")
        let errURL = dir.appendingPathComponent("stderr-\(id)")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let outHandle = try FileHandle(forWritingTo: outURL)
        let errHandle = try FileHandle(forWritingTo: errURL)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/\(tool)")
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = outHandle
        process.standardError = errHandle
        try process.run()
        process.waitUntilExit()
        try outHandle.close()
        try errHandle.close()
        return ToolResult(
            status: process.terminationStatus,
            stdout: String(decoding: try Data(contentsOf: outURL), as: UTF8.self),
            stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self))
    }

    private static func randomBytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        var bytes = [UInt8](repeating: 0, count: count)
        var index = 0
        while index < count {
            var word = generator.next()
            for _ in 0..<8 where index < count {
                bytes[index] = UInt8(truncatingIfNeeded: word)
                word >>= 8
                index += 1
            }
        }
        return bytes
    }

    private static func write(_ bytes: [UInt8], to url: URL) throws {
        try Data(bytes).write(to: url)
    }

    private static func read(_ url: URL) throws -> [UInt8] {
        Array(try Data(contentsOf: url))
    }

    /// Generates an identity with `age-keygen`, returning the identity file URL.
    private static func keygen(in dir: URL, name: String = "key.txt") throws -> URL {
        let url = dir.appendingPathComponent(name)
        let result = try run("age-keygen", ["-o", url.path], in: dir)
        try #require(result.status == 0, "age-keygen failed: \(result.stderr)")
        return url
    }

    private static func expectAgeError(
        _ code: AgeError.Code, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void
    ) {
        do {
            try body()
            Issue.record("expected AgeError.\(code), but no error was thrown", sourceLocation: sourceLocation)
        } catch let error as AgeError {
            #expect(error.code == code, "got .\(error.code): \(error.message)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("expected AgeError.\(code), got \(error)", sourceLocation: sourceLocation)
        }
    }

    /// Decrypts by feeding `slice`-byte pieces.
    private static func decryptSliced(_ data: [UInt8], with identities: [AgeIdentity], slice: Int) throws -> [UInt8] {
        var out: [UInt8] = []
        var decryptor = AgeDecryptor(identities: identities) { out.append(contentsOf: $0) }
        try data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let end = min(offset + slice, raw.count)
                try decryptor.update(UnsafeRawBufferPointer(rebasing: raw[offset..<end]))
                offset = end
            }
        }
        try decryptor.finish()
        return out
    }

    /// Encrypts by feeding `slice`-byte pieces.
    private static func encryptSliced(_ data: [UInt8], to recipients: [AgeRecipient], slice: Int) throws -> [UInt8] {
        var out: [UInt8] = []
        var encryptor = try AgeEncryptor(recipients: recipients) { out.append(contentsOf: $0) }
        try data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let end = min(offset + slice, raw.count)
                try encryptor.update(UnsafeRawBufferPointer(rebasing: raw[offset..<end]))
                offset = end
            }
        }
        try encryptor.finish()
        return out
    }

    /// Byte offset just after the header's "---" line (where the payload nonce starts).
    private static func headerEnd(_ file: [UInt8]) throws -> Int {
        let marker = Array("\n--- ".utf8)
        let start = try #require((0...(file.count - marker.count)).first { file[$0..<$0 + marker.count].elementsEqual(marker) })
        return try #require(file[start...].dropFirst().firstIndex(of: UInt8(ascii: "\n"))) + 1
    }

    // MARK: Bech32 and keys

    @Test func bech32RoundTripAndVectors() throws {
        try Self.withTempDir { _ in
            for length in [0, 1, 2, 5, 31, 32, 33, 64, 100] {
                let data = Self.randomBytes(length)
                let lower = try Bech32.encode(hrp: "test", data: data)
                #expect(lower == lower.lowercased())
                let decoded = try Bech32.decode(lower)
                #expect(decoded.hrp == "test")
                #expect(decoded.data == data)
                let upper = try Bech32.encode(hrp: "TEST", data: data)
                #expect(upper == lower.uppercased())
                #expect(try Bech32.decode(upper).data == data)
            }
            // BIP-173 valid vectors with byte-aligned (empty) data.
            #expect(try Bech32.decode("A12UEL5L").hrp == "a")
            #expect(try Bech32.decode("a12uel5l").data == [])
            #expect(try Bech32.encode(hrp: "a", data: []) == "a12uel5l")
            // Longer than BIP-173's 90-character limit, as age secret keys are.
            let long = try Bech32.encode(hrp: "age-secret-key-", data: Self.randomBytes(32))
            #expect(long.count > 70)
            #expect(try Bech32.decode(long).data.count == 32)
            // Rejections: mixed case, bad checksum, no separator, bad characters, bech32m.
            Self.expectAgeError(.malformedKey) { _ = try Bech32.decode("A12uEL5L") }
            Self.expectAgeError(.malformedKey) { _ = try Bech32.decode("a12uel5m") }
            Self.expectAgeError(.malformedKey) { _ = try Bech32.decode("pzry9x0s0muk") }
            Self.expectAgeError(.malformedKey) { _ = try Bech32.decode("a12ubl5l") }
            Self.expectAgeError(.malformedKey) { _ = try Bech32.decode("a1lqfn3a") }  // valid bech32m, not bech32
            Self.expectAgeError(.usage) { _ = try Bech32.encode(hrp: "Mixed", data: []) }
        }
    }

    @Test func ageKeygenIdentityMatchesAgeKeygenRecipient() throws {
        try Self.withTempDir { dir in
            let keyURL = try Self.keygen(in: dir)
            let contents = try String(contentsOf: keyURL, encoding: .utf8)
            let identities = try AgeIdentity.parseFile(contents: contents)
            try #require(identities.count == 1)
            let identity = identities[0]

            let printed = try Self.run("age-keygen", ["-y", keyURL.path], in: dir)
            try #require(printed.status == 0, "age-keygen -y failed: \(printed.stderr)")
            let expected = printed.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(identity.recipient.description == expected)
            #expect(try AgeRecipient(parsing: expected) == identity.recipient)

            // The secret line round-trips, and fileContents reproduces age-keygen's layout.
            let secretLine = try #require(contents.split(separator: "\n").first { $0.hasPrefix("AGE-SECRET-KEY-1") })
            #expect(identity.encoded == String(secretLine))
            let createdLine = try #require(contents.split(separator: "\n").first { $0.hasPrefix("# created: ") })
            #expect(identity.fileContents(created: String(createdLine.dropFirst("# created: ".count))) == contents)
        }
    }

    @Test func generatedIdentityIsUsableByAgeKeygen() throws {
        try Self.withTempDir { dir in
            let identity = AgeIdentity.generate()
            #expect(identity.encoded.hasPrefix("AGE-SECRET-KEY-1"))
            #expect(identity.recipient.description.hasPrefix("age1"))
            let keyURL = dir.appendingPathComponent("key.txt")
            try identity.fileContents(created: "2026-01-01T00:00:00Z").write(to: keyURL, atomically: true, encoding: .utf8)
            let printed = try Self.run("age-keygen", ["-y", keyURL.path], in: dir)
            try #require(printed.status == 0, "age-keygen -y failed: \(printed.stderr)")
            #expect(printed.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == identity.recipient.description)
            let reparsed = try AgeIdentity(parsing: identity.encoded)
            #expect(reparsed.recipient == identity.recipient)
            #expect(reparsed.encoded == identity.encoded)
        }
    }

    @Test func keyParsingRejectsMalformedInput() throws {
        try Self.withTempDir { _ in
            let identity = AgeIdentity.generate()
            Self.expectAgeError(.malformedKey) { _ = try AgeRecipient(parsing: "") }
            Self.expectAgeError(.malformedKey) { _ = try AgeRecipient(parsing: identity.recipient.description.uppercased()) }
            Self.expectAgeError(.malformedKey) { _ = try AgeRecipient(parsing: identity.encoded) }
            Self.expectAgeError(.malformedKey) { _ = try AgeIdentity(parsing: identity.encoded.lowercased()) }
            Self.expectAgeError(.malformedKey) { _ = try AgeIdentity(parsing: identity.recipient.description) }
            Self.expectAgeError(.malformedKey) { _ = try AgeRecipient(parsing: try Bech32.encode(hrp: "age", data: Self.randomBytes(31))) }
            var corrupted = Array(identity.encoded.utf8)
            corrupted[20] = corrupted[20] == UInt8(ascii: "Q") ? UInt8(ascii: "P") : UInt8(ascii: "Q")
            do {
                _ = try AgeIdentity(parsing: String(decoding: corrupted, as: UTF8.self))
                Issue.record("a corrupted secret key was accepted")
            } catch let error as AgeError {
                #expect(error.code == .malformedKey)
                #expect(!error.message.contains(String(identity.encoded.dropFirst(16).prefix(20))))
            }
        }
    }

    @Test func identityFileParsing() throws {
        try Self.withTempDir { _ in
            let first = AgeIdentity.generate()
            let second = AgeIdentity.generate()
            let contents = "# a comment\n\n\(first.encoded)\r\n   \n# another\n\(second.encoded)"
            let parsed = try AgeIdentity.parseFile(contents: contents)
            #expect(parsed.map(\.recipient) == [first.recipient, second.recipient])
            Self.expectAgeError(.malformedKey) { _ = try AgeIdentity.parseFile(contents: "# only comments\n\n") }
            Self.expectAgeError(.malformedKey) { _ = try AgeIdentity.parseFile(contents: "") }
            Self.expectAgeError(.malformedKey) {
                _ = try AgeIdentity.parseFile(contents: "\(first.encoded)\nnot a key\n")
            }
        }
    }

    // MARK: Interoperability with the age binary

    @Test(arguments: [0, 1, 65535, 65536, 65537, 3 * 65536 + 5])
    func ageDecryptsAgeKitFiles(size: Int) throws {
        try Self.withTempDir { dir in
            let identity = AgeIdentity.generate()
            let keyURL = dir.appendingPathComponent("key.txt")
            try identity.fileContents(created: "2026-01-01T00:00:00Z").write(to: keyURL, atomically: true, encoding: .utf8)
            let plaintext = Self.randomBytes(size)
            let encrypted = try Age.encrypt(plaintext, to: [identity.recipient])
            let inURL = dir.appendingPathComponent("data.age")
            let outURL = dir.appendingPathComponent("data.out")
            try Self.write(encrypted, to: inURL)
            let result = try Self.run("age", ["-d", "-i", keyURL.path, "-o", outURL.path, inURL.path], in: dir)
            try #require(result.status == 0, "age -d failed: \(result.stderr)")
            // age 1.1.1 creates the -o file lazily: an empty plaintext leaves no file.
            let decrypted = FileManager.default.fileExists(atPath: outURL.path) ? try Self.read(outURL) : []
            #expect(decrypted == plaintext)
            // And AgeKit reads its own output.
            #expect(try Age.decrypt(encrypted, with: [identity]) == plaintext)
        }
    }

    @Test(arguments: [0, 1, 65536, 3 * 65536 + 5])
    func ageKitDecryptsAgeFiles(size: Int) throws {
        try Self.withTempDir { dir in
            let keyURL = try Self.keygen(in: dir)
            let identity = try AgeIdentity.parseFile(contents: try String(contentsOf: keyURL, encoding: .utf8))[0]
            let plaintext = Self.randomBytes(size)
            let inURL = dir.appendingPathComponent("data.bin")
            let outURL = dir.appendingPathComponent("data.age")
            try Self.write(plaintext, to: inURL)
            let result = try Self.run("age", ["-r", identity.recipient.description, "-o", outURL.path, inURL.path], in: dir)
            try #require(result.status == 0, "age -r failed: \(result.stderr)")
            let encrypted = try Self.read(outURL)
            #expect(try Age.decrypt(encrypted, with: [identity]) == plaintext)
            #expect(try Self.decryptSliced(encrypted, with: [identity], slice: 7000) == plaintext)
        }
    }

    @Test func ageKitDecryptsAgeFilesWithTwoRecipients() throws {
        try Self.withTempDir { dir in
            let key1 = try Self.keygen(in: dir, name: "key1.txt")
            let key2 = try Self.keygen(in: dir, name: "key2.txt")
            let identity1 = try AgeIdentity.parseFile(contents: try String(contentsOf: key1, encoding: .utf8))[0]
            let identity2 = try AgeIdentity.parseFile(contents: try String(contentsOf: key2, encoding: .utf8))[0]
            let plaintext = Self.randomBytes(100_000)
            let inURL = dir.appendingPathComponent("data.bin")
            let outURL = dir.appendingPathComponent("data.age")
            try Self.write(plaintext, to: inURL)
            let result = try Self.run("age", [
                "-r", identity1.recipient.description, "-r", identity2.recipient.description,
                "-o", outURL.path, inURL.path,
            ], in: dir)
            try #require(result.status == 0, "age -r -r failed: \(result.stderr)")
            let encrypted = try Self.read(outURL)
            #expect(try Age.decrypt(encrypted, with: [identity1]) == plaintext)
            #expect(try Age.decrypt(encrypted, with: [identity2]) == plaintext)
            #expect(try Age.decrypt(encrypted, with: [AgeIdentity.generate(), identity2]) == plaintext)
            Self.expectAgeError(.noMatchingIdentity) { _ = try Age.decrypt(encrypted, with: [AgeIdentity.generate()]) }
        }
    }

    @Test func multipleRecipientsEachIdentityAloneDecrypts() throws {
        try Self.withTempDir { dir in
            let identities = (0..<3).map { _ in AgeIdentity.generate() }
            let plaintext = Self.randomBytes(70_000)
            let encrypted = try Age.encrypt(plaintext, to: identities.map(\.recipient))
            for (index, identity) in identities.enumerated() {
                #expect(try Age.decrypt(encrypted, with: [identity]) == plaintext)
                // The age binary agrees.
                let keyURL = dir.appendingPathComponent("key\(index).txt")
                try identity.fileContents(created: "2026-01-01T00:00:00Z").write(to: keyURL, atomically: true, encoding: .utf8)
                let inURL = dir.appendingPathComponent("multi.age")
                let outURL = dir.appendingPathComponent("multi\(index).out")
                try Self.write(encrypted, to: inURL)
                let result = try Self.run("age", ["-d", "-i", keyURL.path, "-o", outURL.path, inURL.path], in: dir)
                try #require(result.status == 0, "age -d failed: \(result.stderr)")
                #expect(try Self.read(outURL) == plaintext)
            }
            Self.expectAgeError(.noMatchingIdentity) { _ = try Age.decrypt(encrypted, with: [AgeIdentity.generate()]) }
        }
    }

    /// A file built by an independent script from the spec: unknown ("grease") stanzas
    /// around the X25519 one, including a 64-character body (followed by an empty line)
    /// and an empty body. The secret key is a fixed test value, not a real key.
    @Test func ignoresUnknownStanzasInKnownVector() throws {
        try Self.withTempDir { dir in
            let secret = (0..<32).map { UInt8($0) }
            let identity = try AgeIdentity(parsing: try Bech32.encode(hrp: "AGE-SECRET-KEY-", data: secret))
            let vectorLines: [String] = [
                "YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IGdyZWFzZS0xIGEhYiB+CjdIYWlyNXM4d0RJdkM2YTR5KysxRWM4V2JYZWdlcGlVTHdr",
                "UXphcVFHNzB5L0QzSU4rMENIQ0pBdlN3Y25WTFQKCi0+IFgyNTUxOSB3ZnRJdjBxYkNzT1B5M2pNMlI3UWNNWXZsemhCQllOaHBp",
                "dmJzNlhTc2h3Ckt4Kzh6bm1LUjFab0NHT0RhOU9pajVabEszS0Y2Ky9rNGNlRmRENkdWUTQKLT4gb3RoZXIuZXhhbXBsZS9ncmVh",
                "c2UKCi0+IGdyZWFzZS0yCjFXTVNid2hUTENLbmVYTVRzRnIxbnVkUjNOcmNQZGJNd0N1RE1JNnp2V0tSK0pMRXk5TE5kOC9nMERj",
                "QmwxMVAKMkpJVXMwSTAzMGlaVHhNVnp4ekxPSzhBTGdyb252SFlWNlR4bmdYdEVubFB1UmR1M2xIRkJnb2hrTk5CQkcrSQpuS1FJ",
                "Z1EKLS0tIFAzZ2NGeDlPTXFUTDk3VjNWWXBHZlRuM2sxUmNtd3l0QjJDMS9SVkdXWEUKfAiA4WfUbYCDtGF/7AZUOTOG6mS4YZoP",
                "5RjcZ57A0ECg52Rf7eFwOsRxuJs5Bqz+aNKEcZa0/dZg777Q7SxonXQAa75a7kETsVx0naFqHTz6R4izzgSil6gxv84W9PdtqAan",
                "Ib7j45dUuanOT3nLKCSuzW5D2E1fnqlW8MTQ8CS49w7g",
            ]
            let file = try #require(Data(base64Encoded: vectorLines.joined()))
            let expected = (0..<100).map { UInt8($0) }
            #expect(try Age.decrypt(Array(file), with: [identity]) == expected)
            #expect(try Self.decryptSliced(Array(file), with: [identity], slice: 1) == expected)
            // The real age binary accepts the same vector.
            let keyURL = dir.appendingPathComponent("key.txt")
            try identity.fileContents(created: "2026-01-01T00:00:00Z").write(to: keyURL, atomically: true, encoding: .utf8)
            let inURL = dir.appendingPathComponent("grease.age")
            let outURL = dir.appendingPathComponent("grease.out")
            try file.write(to: inURL)
            let result = try Self.run("age", ["-d", "-i", keyURL.path, "-o", outURL.path, inURL.path], in: dir)
            try #require(result.status == 0, "age -d failed: \(result.stderr)")
            #expect(try Self.read(outURL) == expected)
        }
    }

    // MARK: Streaming in odd slices

    @Test func oneByteSlicesForASmallFile() throws {
        try Self.withTempDir { _ in
            let identity = AgeIdentity.generate()
            let plaintext = Self.randomBytes(1500)
            let encrypted = try Self.encryptSliced(plaintext, to: [identity.recipient], slice: 1)
            #expect(try Age.decrypt(encrypted, with: [identity]) == plaintext)
            #expect(try Self.decryptSliced(encrypted, with: [identity], slice: 1) == plaintext)
            let empty = try Self.encryptSliced([], to: [identity.recipient], slice: 1)
            #expect(try Self.decryptSliced(empty, with: [identity], slice: 1) == [])
        }
    }

    @Test(arguments: [65536, 2 * 65536, 3 * 65536 + 5, 1_000_000])
    func sevenThousandByteSlicesForABigFile(size: Int) throws {
        try Self.withTempDir { _ in
            let identity = AgeIdentity.generate()
            let plaintext = Self.randomBytes(size)
            let slicedEncrypted = try Self.encryptSliced(plaintext, to: [identity.recipient], slice: 7000)
            let wholeEncrypted = try Age.encrypt(plaintext, to: [identity.recipient])
            #expect(slicedEncrypted.count == wholeEncrypted.count)
            #expect(try Self.decryptSliced(slicedEncrypted, with: [identity], slice: 7000) == plaintext)
            #expect(try Self.decryptSliced(wholeEncrypted, with: [identity], slice: 7000) == plaintext)
            #expect(try Age.decrypt(slicedEncrypted, with: [identity]) == plaintext)
        }
    }

    @Test func decryptorEmitsChunksBeforeFinish() throws {
        try Self.withTempDir { _ in
            let identity = AgeIdentity.generate()
            let plaintext = Self.randomBytes(3 * 65536 + 5)
            let encrypted = try Age.encrypt(plaintext, to: [identity.recipient])
            var emitted = 0
            var decryptor = AgeDecryptor(identities: [identity]) { emitted += $0.count }
            try encrypted.withUnsafeBytes { try decryptor.update($0) }
            #expect(emitted == 3 * 65536)  // the final chunk waits for finish()
            try decryptor.finish()
            #expect(emitted == plaintext.count)
            Self.expectAgeError(.usage) { try decryptor.update(UnsafeRawBufferPointer(start: nil, count: 0)) }
        }
    }

    // MARK: Failures

    @Test func truncatedFilesAreRejected() throws {
        try Self.withTempDir { _ in
            let identity = AgeIdentity.generate()
            let big = try Age.encrypt(Self.randomBytes(3 * 65536 + 5), to: [identity.recipient])
            // Final chunk is 21 bytes: cutting 10 leaves less than a tag.
            Self.expectAgeError(.truncated) { _ = try Age.decrypt(Array(big.dropLast(10)), with: [identity]) }
            // Cut exactly at a chunk boundary: the final chunk is missing entirely.
            Self.expectAgeError(.truncated) { _ = try Age.decrypt(Array(big.dropLast(21)), with: [identity]) }
            let boundary = try Age.encrypt(Self.randomBytes(65537), to: [identity.recipient])
            Self.expectAgeError(.truncated) { _ = try Age.decrypt(Array(boundary.dropLast(17)), with: [identity]) }
            // A small file cut by 10 bytes cannot be told apart from corruption.
            let small = try Age.encrypt(Self.randomBytes(1000), to: [identity.recipient])
            do {
                _ = try Age.decrypt(Array(small.dropLast(10)), with: [identity])
                Issue.record("a truncated file decrypted")
            } catch let error as AgeError {
                #expect(error.code == .corruptPayload)
                #expect(error.message.contains("truncated"))
            }
            // Cut inside the header, just after the header, and inside the nonce.
            let end = try Self.headerEnd(small)
            for cut in [1, 10, 30, end - 20, end - 1, end, end + 8, end + 16] {
                Self.expectAgeError(.truncated) { _ = try Age.decrypt(Array(small.prefix(cut)), with: [identity]) }
            }
        }
    }

    @Test func emptyInputIsRejected() throws {
        try Self.withTempDir { _ in
            Self.expectAgeError(.truncated) { _ = try Age.decrypt([], with: [AgeIdentity.generate()]) }
        }
    }

    @Test func plainTextIsRejected() throws {
        try Self.withTempDir { _ in
            let text = Array("hello, this is not encrypted\n".utf8)
            Self.expectAgeError(.malformedHeader) { _ = try Age.decrypt(text, with: [AgeIdentity.generate()]) }
            Self.expectAgeError(.malformedHeader) {
                _ = try Self.decryptSliced(text, with: [AgeIdentity.generate()], slice: 1)
            }
            Self.expectAgeError(.unsupported) {
                _ = try Age.decrypt(Array("age-encryption.org/v2\n-> X\n\n--- x\n".utf8), with: [AgeIdentity.generate()])
            }
        }
    }

    @Test func flippedPayloadByteIsRejected() throws {
        try Self.withTempDir { _ in
            let identity = AgeIdentity.generate()
            for size in [1000, 3 * 65536 + 5] {
                let encrypted = try Age.encrypt(Self.randomBytes(size), to: [identity.recipient])
                let end = try Self.headerEnd(encrypted)
                for position in [end + 16, end + 100, encrypted.count - 1] {
                    var tampered = encrypted
                    tampered[position] ^= 0x01
                    Self.expectAgeError(.corruptPayload) { _ = try Age.decrypt(tampered, with: [identity]) }
                }
                // A flipped payload nonce changes the payload key.
                var tampered = encrypted
                tampered[end] ^= 0x80
                Self.expectAgeError(.corruptPayload) { _ = try Age.decrypt(tampered, with: [identity]) }
            }
        }
    }

    @Test func modifiedHeaderFailsTheMAC() throws {
        try Self.withTempDir { _ in
            let identity = AgeIdentity.generate()
            let encrypted = try Age.encrypt(Self.randomBytes(1000), to: [identity.recipient])
            let end = try Self.headerEnd(encrypted)
            // Change one character of the MAC ("--- " + 43 characters + "\n").
            var tampered = encrypted
            let macChar = end - 1 - 43 + 5
            tampered[macChar] = tampered[macChar] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
            Self.expectAgeError(.headerMAC) { _ = try Age.decrypt(tampered, with: [identity]) }
            // Add an unknown stanza: still parses, the X25519 stanza matches, the MAC does not.
            let macLine = end - 1 - 43 - 4
            let extra = Array("-> grease-stanza x\nAAAA\n".utf8)
            let injected = Array(encrypted[..<macLine]) + extra + Array(encrypted[macLine...])
            Self.expectAgeError(.headerMAC) { _ = try Age.decrypt(injected, with: [identity]) }
            // A flipped byte in the version line is not an age file any more.
            var version = encrypted
            version[3] ^= 0x01
            Self.expectAgeError(.malformedHeader) { _ = try Age.decrypt(version, with: [identity]) }
        }
    }

    @Test func wrongIdentityIsRejected() throws {
        try Self.withTempDir { _ in
            let identity = AgeIdentity.generate()
            let other = AgeIdentity.generate()
            let encrypted = try Age.encrypt(Self.randomBytes(1000), to: [identity.recipient])
            do {
                _ = try Age.decrypt(encrypted, with: [other])
                Issue.record("decrypted with the wrong identity")
            } catch let error as AgeError {
                #expect(error.code == .noMatchingIdentity)
                #expect(error.message.contains("no identity matches"))
                #expect(!error.description.contains(other.encoded))
                #expect(!error.description.contains(String(other.encoded.dropFirst(16))))
            }
            Self.expectAgeError(.usage) { _ = try Age.decrypt(encrypted, with: []) }
        }
    }

    @Test func trailingGarbageIsRejected() throws {
        try Self.withTempDir { _ in
            let identity = AgeIdentity.generate()
            for size in [0, 1000, 65536, 3 * 65536 + 5] {
                let encrypted = try Age.encrypt(Self.randomBytes(size), to: [identity.recipient])
                for garbage in [Array("x".utf8), Self.randomBytes(100), Self.randomBytes(70_000)] {
                    Self.expectAgeError(.corruptPayload) { _ = try Age.decrypt(encrypted + garbage, with: [identity]) }
                }
            }
        }
    }

    @Test func passphraseFilesAreUnsupported() throws {
        try Self.withTempDir { _ in
            let header = "age-encryption.org/v1\n-> scrypt c2FsdHNhbHRzYWx0c2FsdA 18\n"
                + "WJlbIIMyh0qpxTmWxs0ryJw1hVDSuhXRt/pk8eXCF1k\n--- "
                + "HsdOXmGHLhqbYzUuRQAkjN7kRnMORvJA0yWfXhFm5Ak\n"
            let file = Array(header.utf8) + Self.randomBytes(40)
            do {
                _ = try Age.decrypt(file, with: [AgeIdentity.generate()])
                Issue.record("a scrypt file was accepted")
            } catch let error as AgeError {
                #expect(error.code == .unsupported)
                #expect(error.message.contains("passphrase-encrypted files are not supported"))
            }
        }
    }

    @Test func allZeroSharedSecretIsRejected() throws {
        try Self.withTempDir { _ in
            // An ephemeral share of 32 zero bytes (a low-order point) yields an all-zero secret.
            let zeros = String(repeating: "A", count: 43)
            let header = "age-encryption.org/v1\n-> X25519 \(zeros)\n"
                + "WJlbIIMyh0qpxTmWxs0ryJw1hVDSuhXRt/pk8eXCF1k\n--- "
                + "HsdOXmGHLhqbYzUuRQAkjN7kRnMORvJA0yWfXhFm5Ak\n"
            let file = Array(header.utf8) + Self.randomBytes(40)
            do {
                _ = try Age.decrypt(file, with: [AgeIdentity.generate()])
                Issue.record("a low-order ephemeral share was accepted")
            } catch let error as AgeError {
                #expect(error.code == .malformedHeader)
                #expect(error.message.contains("all-zero shared secret"))
            }
        }
    }

    @Test func malformedHeadersAreRejected() throws {
        try Self.withTempDir { _ in
            let identity = AgeIdentity.generate()
            let mac = "HsdOXmGHLhqbYzUuRQAkjN7kRnMORvJA0yWfXhFm5Ak"
            let bad = [
                "age-encryption.org/v1\n--- \(mac)\n",  // no stanzas
                "age-encryption.org/v1\n-> X25519\nAAAA\n--- \(mac)\n",  // X25519 without share
                "age-encryption.org/v1\n->  X25519 AA\nAAAA\n--- \(mac)\n",  // empty argument
                "age-encryption.org/v1\n-> X25519 AA\nAAAA=\n--- \(mac)\n",  // padding
                "age-encryption.org/v1\n-> X25519 AA\nAB\n--- \(mac)\n",  // non-canonical base64
                "age-encryption.org/v1\n-> X25519 AA\n\(String(repeating: "A", count: 64))\n--- \(mac)\n",  // no short final line
                "age-encryption.org/v1\n-> X25519 AA\nAA\nfoo\n--- \(mac)\n",  // junk line
                "age-encryption.org/v1\n-> X25519 AA\nAA\n---\n",  // no MAC
            ]
            for header in bad {
                let file = Array(header.utf8) + Self.randomBytes(40)
                Self.expectAgeError(.malformedHeader) { _ = try Age.decrypt(file, with: [identity]) }
            }
        }
    }

    @Test func misuseIsReported() throws {
        try Self.withTempDir { _ in
            Self.expectAgeError(.usage) { _ = try AgeEncryptor(recipients: []) { _ in } }
            var encryptor = try AgeEncryptor(recipients: [AgeIdentity.generate().recipient]) { _ in }
            try encryptor.finish()
            Self.expectAgeError(.usage) { try [1, 2, 3].withUnsafeBytes { try encryptor.update($0) } }
            Self.expectAgeError(.usage) { try encryptor.finish() }
        }
    }
}
