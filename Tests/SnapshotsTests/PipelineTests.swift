import DRCore
import Foundation
@testable import Snapshots
import Testing
import TestSupport

@Suite("background pipeline stages")
struct PipelineTests {
    @Test("a sink delivers every chunk in order and returns the consumer's result")
    func deliversInOrder() throws {
        let sink = BackgroundSink<[UInt8], [UInt8]>(capacity: 2) { next in
            var all: [UInt8] = []
            while let chunk = try next() { all += chunk }
            return all
        }
        for i in 0..<100 { try sink.put([UInt8(i)]) }
        #expect(try sink.finish() == (0..<100).map(UInt8.init))
    }

    @Test("a consumer's failure reaches the producer's next put")
    func consumerFailureSurfaces() throws {
        struct Boom: Error {}
        let sink = BackgroundSink<[UInt8], Int>(capacity: 1) { next in
            _ = try next()
            throw Boom()
        }
        #expect(throws: Boom.self) {
            for _ in 0..<1000 { try sink.put([1]) }
        }
        #expect(throws: Boom.self) { try sink.finish() }
    }

    @Test("an abandoned object write stores nothing, not a truncated object")
    func abandonStoresNothing() throws {
        try withTemporaryDirectory { dir in
            let store = try LocalRepository.create(name: "default", root: "\(dir)/repo")
            let codec = ObjectCodec(store: store, recipients: [], identityFile: nil)
            let sink = BackgroundSink<[UInt8], EncodedObject> { next in
                try codec.write(type: .data) { emit in
                    while let chunk = try next() { try chunk.withUnsafeBytes { try emit($0) } }
                }
            }
            try sink.put(Array(repeating: 7, count: 1 << 16))
            sink.abandon()
            let objects = FileIO.list("\(dir)/repo/objects").flatMap { FileIO.list("\(dir)/repo/objects/\($0)") }
            #expect(objects.isEmpty)
            #expect(FileIO.list("\(dir)/repo/tmp").isEmpty)
        }
    }
}

@Suite("early writeback")
struct WritebackTests {
    @Test("the background flush runs once per interval written and stops cleanly")
    func flushesPerInterval() throws {
        try withTemporaryDirectory { dir in
            let flush = try #require(BackgroundFlush(path: dir, interval: 100))
            flush.wrote(99)
            #expect(flush.flushes == 0)
            flush.wrote(1)
            #expect(flush.waitForFlushes(1, timeout: 30), "no flush after the first interval")
            flush.wrote(250)
            #expect(flush.waitForFlushes(2, timeout: 30), "no flush after the next intervals")
            flush.stop()
            let done = flush.flushes
            flush.wrote(1000)
            #expect(flush.flushes == done, "a stopped flush must not run again")
        }
    }

    @Test("a missing folder gives no flusher instead of an error")
    func missingFolder() throws {
        try withTemporaryDirectory { dir in
            #expect(BackgroundFlush(path: "\(dir)/absent") == nil)
        }
    }

    @Test("a file written in many chunks past the writeback interval reads back intact")
    func largeFileIntact() throws {
        try withTemporaryDirectory { dir in
            var expected: [UInt8] = []
            var writer = try FileWriter(path: "\(dir)/big")
            var seed: UInt32 = 7
            for _ in 0..<40 {
                let chunk = (0..<(512 << 10)).map { _ -> UInt8 in
                    seed = seed &* 1_103_515_245 &+ 12_345
                    return UInt8(truncatingIfNeeded: seed >> 16)
                }
                try writer.write(chunk)
                expected += chunk
            }
            try writer.sync()
            writer.close()
            #expect(expected.count > Int(FileWriter.writebackInterval) * 2)
            #expect(try FileIO.read("\(dir)/big") == expected)
        }
    }

    /// `count` pseudo-random bytes.
    func noise(_ count: Int, seed: UInt32) -> [UInt8] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 1_103_515_245 &+ 12_345
            return UInt8(truncatingIfNeeded: state >> 16)
        }
    }

    @Test("direct writes: any length in any pieces reads back intact, on disk and on tmpfs (no O_DIRECT there)",
          arguments: [0, 1, 4095, 4096, 4097, 1 << 20, (1 << 20) + 1, 3 * (1 << 20) + 12_345])
    func directWrites(length: Int) throws {
        let expected = noise(length, seed: UInt32(length % 65_521))
        // /dev/shm is tmpfs, which refuses O_DIRECT: the writer must fall back, not fail.
        for root in [FileManager.default.temporaryDirectory.path, "/dev/shm"] where FileIO.isDirectory(root) {
            let path = "\(root)/drctl-direct-\(FileIO.randomHex(6))"
            defer { FileIO.remove(path) }
            var writer = try FileWriter(path: path, mode: 0o600, direct: true)
            var offset = 0
            var piece = 1
            while offset < expected.count {
                let count = min(piece, expected.count - offset)
                try expected[offset..<(offset + count)].withUnsafeBytes { try writer.write($0) }
                offset += count
                piece = piece * 3 + 7  // 1, 10, 37, … up to pieces larger than the buffer
            }
            try writer.sync()
            writer.close()
            #expect(try FileIO.read(path) == expected, "\(root), \(length) bytes")
            // Exclusive: an existing file is never replaced.
            let again = try #require(throws: DRError.self) { _ = try FileWriter(path: path, direct: true) }
            #expect(again.message.contains("cannot create"))
        }
    }
}
