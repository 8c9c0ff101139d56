@testable import DRCore
import Foundation
import Testing
import TestSupport

@Suite("BLAKE3")
struct BLAKE3Tests {
    /// The official test vectors' inputs (byte i is i % 251) with their 32-byte hashes,
    /// as printed by b3sum 1.2.0 (the reference implementation's tool).
    static let vectors: [(length: Int, hex: String)] = [
        (0, "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"),
        (1, "2d3adedff11b61f14c886e35afa036736dcd87a74d27b5c1510225d0f592e213"),
        (1023, "10108970eeda3eb932baac1428c7a2163b0e924c9a9e25b35bba72b28f70bd11"),
        (1024, "42214739f095a406f3fc83deb889744ac00df831c10daa55189b5d121c855af7"),
        (1025, "d00278ae47eb27b34faecf67b4fe263f82d5412916c1ffd97c8cb7fb814b8444"),
        (2048, "e776b6028c7cd22a4d0ba182a8bf62205d2ef576467e838ed6f2529b85fba24a"),
        (2049, "5f4d72f40d7a5f82b15ca2b2e44b1de3c2ef86c426c95c1af0b6879522563030"),
        (3072, "b98cb0ff3623be03326b373de6b9095218513e64f1ee2edd2525c7ad1e5cffd2"),
        (3073, "7124b49501012f81cc7f11ca069ec9226cecb8a2c850cfe644e327d22d3e1cd3"),
        (4096, "015094013f57a5277b59d8475c0501042c0b642e531b0a1c8f58d2163229e969"),
        (4097, "9b4052b38f1c5fc8b1f9ff7ac7b27cd242487b3d890d15c96a1c25b8aa0fb995"),
        (5120, "9cadc15fed8b5d854562b26a9536d9707cadeda9b143978f319ab34230535833"),
        (5121, "628bd2cb2004694adaab7bbd778a25df25c47b9d4155a55f8fbd79f2fe154cff"),
        (6144, "3e2e5b74e048f3add6d21faab3f83aa44d3b2278afb83b80b3c35164ebeca205"),
        (6145, "f1323a8631446cc50536a9f705ee5cb619424d46887f3c376c695b70e0f0507f"),
        (7168, "61da957ec2499a95d6b8023e2b0e604ec7f6b50e80a9678b89d2628e99ada77a"),
        (7169, "a003fc7a51754a9b3c7fae0367ab3d782dccf28855a03d435f8cfe74605e7817"),
        (8192, "aae792484c8efe4f19e2ca7d371d8c467ffb10748d8a5a1ae579948f718a2a63"),
        (8193, "bab6c09cb8ce8cf459261398d2e7aef35700bf488116ceb94a36d0f5f1b7bc3b"),
        (16384, "f875d6646de28985646f34ee13be9a576fd515f76b5b0a26bb324735041ddde4"),
        (31744, "62b6960e1a44bcc1eb1a611a8d6235b6b4b78f32e7abc4fb4c6cdcce94895c47"),
        (102400, "bc3e3d41a1146b069abffad3c0d44860cf664390afce4d9661f7902e7943e085"),
    ]

    /// The hashers under test: the dispatched one, the portable one, and every named
    /// implementation this CPU runs.
    static let hashers: [String] = ["dispatched", "portable(true)"] + BLAKE3.implementations

    static func hasher(_ name: String) -> BLAKE3? {
        switch name {
        case "dispatched": BLAKE3()
        case "portable(true)": BLAKE3(portable: true)
        default: BLAKE3(implementation: name)
        }
    }

    static func vectorInput(_ length: Int) -> [UInt8] { (0..<length).map { UInt8($0 % 251) } }

    /// Feeds `bytes` in pieces of the given sizes, cycled, to a fresh `hasher`.
    static func digest(_ name: String, _ bytes: [UInt8], pieces: [Int]) throws -> String {
        var hasher = try #require(Self.hasher(name))
        bytes.withUnsafeBytes { all in
            var offset = 0
            var index = 0
            while offset < all.count {
                let size = min(pieces[index % pieces.count], all.count - offset)
                hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: all[offset..<offset + size]))
                offset += size
                index += 1
            }
        }
        return hasher.finalize().hexString
    }

    /// `count` bytes from a seeded generator.
    static func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var rng = SeededRandom(seed: seed)
        let words = (count + 7) / 8
        let bytes = [UInt8](unsafeUninitializedCapacity: words * 8) { buffer, initialized in
            let raw = UnsafeMutableRawBufferPointer(buffer)
            for index in 0..<words {
                raw.storeBytes(of: rng.next().littleEndian, toByteOffset: index * 8, as: UInt64.self)
            }
            initialized = words * 8
        }
        return Array(bytes.prefix(count))
    }

    /// Random piece sizes, from single bytes to whole chunks to more than a megabyte.
    static func randomPieces(_ rng: inout some RandomNumberGenerator, count: Int = 64) -> [Int] {
        (0..<count).map { _ in
            switch Int.random(in: 0..<6, using: &rng) {
            case 0: Int.random(in: 1...64, using: &rng)
            case 1: Int.random(in: 1...2100, using: &rng)
            case 2: 1024 * Int.random(in: 1...40, using: &rng)
            case 3: Int.random(in: 1...70_000, using: &rng)
            case 4: 65536
            default: Int.random(in: 1...1_300_000, using: &rng)
            }
        }
    }

    /// 9 MiB of seeded random bytes shared by the agreement tests.
    static let random = randomBytes(9 << 20, seed: 0x0B1A_4E53)

    @Test("official test vectors, one-shot and split", arguments: hashers)
    func vectors(hasher name: String) throws {
        for (length, expected) in Self.vectors {
            let input = Self.vectorInput(length)
            let splits: [(String, [Int])] = [
                ("one-shot", [max(length, 1)]), ("byte by byte", [1]), ("odd pieces", [1, 63, 65, 1023, 7, 1025, 2047, 3]),
                ("chunk pieces", [1024]), ("uneven large pieces", [5000, 17]),
            ]
            for (split, pieces) in splits {
                let got = try Self.digest(name, input, pieces: pieces)
                #expect(got == expected, "\(name), length \(length), \(split)")
            }
        }
    }

    @Test("update(data:), hash(_:), Data and [UInt8] agree with the vectors")
    func conveniences() throws {
        for (length, expected) in Self.vectors {
            let input = Self.vectorInput(length)
            #expect(BLAKE3.hash(input).hexString == expected)
            var hasher = BLAKE3()
            hasher.update(data: Data(input))
            #expect(hasher.finalize().count == 32)
            #expect(hasher.finalize().hexString == expected)
        }
    }

    @Test("finalize leaves the state as it was: repeatable, and more input may follow", arguments: hashers)
    func finalizeTwice(hasher name: String) throws {
        let input = Self.vectorInput(102400)
        for cut in [0, 1, 1024, 1025, 8192, 31744] {
            let prefix = try #require(Self.vectors.first { $0.length == cut }?.hex)
            var hasher = try #require(Self.hasher(name))
            hasher.update(data: input[..<cut])
            #expect(hasher.finalize().hexString == prefix, "\(name), prefix \(cut)")
            #expect(hasher.finalize().hexString == prefix, "\(name), prefix \(cut), again")
            hasher.update(data: input[cut...])
            #expect(hasher.finalize().hexString == Self.vectors.last?.hex, "\(name), continued after \(cut)")
        }
    }

    @Test("the dispatched code is the best this CPU has")
    func dispatch() throws {
        let implementations = BLAKE3.implementations
        #expect(implementations.first == "portable")
        #expect(implementations.contains(BLAKE3.implementation))
        #if arch(x86_64)
        let cpuinfo = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        let flags = Set(cpuinfo.split(separator: "\n").first { $0.hasPrefix("flags") }?.split(separator: " ").map(String.init) ?? [])
        let expected = flags.contains("avx512f") ? "avx512" : flags.contains("avx2") ? "avx2" : "portable"
        #expect(BLAKE3.implementation == expected)
        #else
        #expect(BLAKE3.implementation == "portable")
        #endif
    }

    /// Lengths for the agreement test: every length up to 2100 bytes, multiples of 1024
    /// and their neighbours up to 64 KiB, around the C code's 256-chunk batches, and a few
    /// of several MiB.
    static let agreementLengths: [Int] = {
        var lengths = Array(0...2100)
        for chunks in 2...64 { lengths += [1024 * chunks - 1, 1024 * chunks, 1024 * chunks + 1] }
        for chunks in [255, 256, 257, 511, 512, 513, 1023, 1024, 1025] { lengths.append(1024 * chunks + 1) }
        lengths += [(3 << 20) + 1, (5 << 20) - 1, (8 << 20) + 12345, 9 << 20]
        return lengths
    }()

    @Test("SIMD and portable code agree on random data, fed in random pieces", arguments: BLAKE3.implementations + ["dispatched"])
    func agreement(hasher name: String) throws {
        var rng = SeededRandom(seed: 0xD1CE ^ UInt64(name.utf8.count))
        var mismatches: [Int] = []
        for length in Self.agreementLengths {
            let start = Int.random(in: 0...(Self.random.count - length), using: &rng)
            let input = Array(Self.random[start..<start + length])
            let portable = try Self.digest("portable(true)", input, pieces: [max(length, 1)])
            let pieces = length <= 2100 ? (0..<32).map { _ in Int.random(in: 1...300, using: &rng) } : Self.randomPieces(&rng)
            if try Self.digest(name, input, pieces: pieces) != portable { mismatches.append(length) }
        }
        let first = Array(mismatches.prefix(20))
        #expect(mismatches.count == 0, "\(name) differs from the portable code at lengths \(first)")
    }

    @Test("digests match the b3sum tool's on a file of a few MiB")
    func b3sumInterop() throws {
        let b3sum = try Environment.current.require("b3sum", purpose: "check BLAKE3 digests against the reference tool")
        let input = Array(Self.random[12345..<(12345 + (3 << 20) + 4321)])
        try withTemporaryDirectory { dir in
            let path = "\(dir)/input.bin"
            try Data(input).write(to: URL(fileURLWithPath: path))
            let result = try Command(b3sum, ["--no-names", path]).run()
            #expect(result.succeeded, "b3sum failed: \(result.stderr)")
            let expected = result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(expected.count == 64)
            for name in Self.hashers {
                #expect(try Self.digest(name, input, pieces: [1 << 20]) == expected, "\(name), 1 MiB pieces")
                #expect(try Self.digest(name, input, pieces: [65536, 4099]) == expected, "\(name), odd pieces")
            }
        }
    }
}
