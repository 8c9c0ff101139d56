import DRCore
import Foundation
internal import CZstd

/// Bytes produced on a background thread and pulled by the caller, through a bounded
/// queue: decoding (hash check, decryption, decompression) overlaps with writing files.
final class BackgroundStream: ObjectInputStream, @unchecked Sendable {
    private let condition = NSCondition()
    private var chunks: [[UInt8]] = []
    private var done = false
    private var failure: (any Error)?
    private var cancelled = false
    private let capacity: Int
    private var thread: Thread?
    private lazy var reader = ChunkStream { [unowned self] in try self.take() }

    /// Starts `produce` on its own thread; it calls `put` with each chunk (false: stop, the reader went away).
    init(capacity: Int = 8, _ produce: @escaping @Sendable (_ put: ([UInt8]) -> Bool) throws -> Void) {
        self.capacity = capacity
        let thread = Thread { [self] in
            do {
                try produce { chunk in self.put(chunk) }
                self.close(nil)
            } catch {
                self.close(error)
            }
        }
        thread.stackSize = 1 << 20
        self.thread = thread
        thread.start()
    }

    private func put(_ chunk: [UInt8]) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while chunks.count >= capacity && !cancelled { condition.wait() }
        if cancelled { return false }
        chunks.append(chunk)
        condition.signal()
        return true
    }

    private func close(_ error: (any Error)?) {
        condition.lock()
        done = true
        failure = error
        condition.broadcast()
        condition.unlock()
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        try reader.read(into: buffer)
    }

    /// The next chunk from the producer; nil at the end, its error if it failed.
    private func take() throws -> [UInt8]? {
        condition.lock()
        defer { condition.unlock() }
        while chunks.isEmpty && !done { condition.wait() }
        if chunks.isEmpty {
            if let failure { throw failure }
            return nil
        }
        condition.signal()
        return chunks.removeFirst()
    }

    /// Stops the producer and waits for its thread to finish (call when abandoning the stream).
    func cancel() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        while !done { condition.wait() }
        condition.unlock()
    }

    deinit { cancel() }
}

/// Streaming zstd decoding with frame-checksum validation.
enum ZstdDecoder {
    /// Decodes `source` (a whole zstd stream) and passes the output to `consume`; returns
    /// the decoded length. Throws ``DRError/Code/dataCorrupt`` on corrupt or truncated input.
    @discardableResult
    static func decode(
        _ source: any ObjectInputStream, what: String, _ consume: (UnsafeRawBufferPointer) throws -> Bool
    ) throws -> Int64 {
        guard let dctx = ZSTD_createDCtx() else { throw DRError(.io, "zstd: cannot allocate a decompressor") }
        defer { ZSTD_freeDCtx(dctx) }
        let input = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        let output = UnsafeMutableRawBufferPointer.allocate(byteCount: ZSTD_DStreamOutSize() * 8, alignment: 16)
        defer { input.deallocate(); output.deallocate() }
        var decoded: Int64 = 0
        var last = 0
        var started = false
        while true {
            let n = try source.read(into: input)
            if n == 0 { break }
            started = true
            var inBuffer = ZSTD_inBuffer(src: input.baseAddress, size: n, pos: 0)
            while inBuffer.pos < inBuffer.size {
                var outBuffer = ZSTD_outBuffer(dst: output.baseAddress, size: output.count, pos: 0)
                last = ZSTD_decompressStream(dctx, &outBuffer, &inBuffer)
                if ZSTD_isError(last) != 0 {
                    throw DRError(.dataCorrupt, "\(what) does not decompress: \(String(cString: ZSTD_getErrorName(last)))")
                }
                decoded += Int64(outBuffer.pos)
                if outBuffer.pos > 0, try !consume(UnsafeRawBufferPointer(rebasing: output[0..<outBuffer.pos])) { return decoded }
            }
        }
        guard started, last == 0 else { throw DRError(.dataCorrupt, "\(what) is truncated: its zstd stream ends early") }
        return decoded
    }

    /// A stream of the decoded bytes of `object`, produced on a background thread.
    static func backgroundStream(_ object: EncodedObject, codec: ObjectCodec) throws -> BackgroundStream {
        let source = try codec.open(object)
        let box = UncheckedBox(source)
        let what = "the stored archive \(object.stored.sha256)"
        return BackgroundStream { put in
            try decode(box.value, what: what) { put(Array($0)) }
        }
    }
}

/// Hands a value to another thread when the code guarantees it is used by one thread at a time.
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}


/// The reverse of ``BackgroundStream``: the caller puts items, a background thread
/// consumes them, through a bounded queue. Compression on the caller's thread overlaps
/// with encryption, hashing and writing (or checking) on this one; reading an archive
/// overlaps with writing its files. Items are handed over, never shared: the caller
/// must not touch an item after putting it.
final class BackgroundSink<Item, Result: Sendable>: @unchecked Sendable {
    /// Thrown by `next()` when the producer abandons the stream, so the consumer fails
    /// instead of storing a truncated object.
    struct Abandoned: Error {}

    private let condition = NSCondition()
    private var chunks: [Item] = []
    private var closed = false
    private var abandoned = false
    private var outcome: Swift.Result<Result, any Error>?
    private let capacity: Int

    /// Starts `consume` on its own thread; it pulls items with `next()` until nil (end).
    init(capacity: Int = 32, _ consume: @escaping @Sendable (_ next: () throws -> Item?) throws -> Result) {
        self.capacity = capacity
        let thread = Thread { [self] in
            let result = Swift.Result { try consume { try self.next() } }
            condition.lock()
            outcome = result
            chunks.removeAll()
            condition.broadcast()
            condition.unlock()
        }
        thread.stackSize = 1 << 20
        thread.start()
    }

    private func next() throws -> Item? {
        condition.lock()
        defer { condition.unlock() }
        while chunks.isEmpty && !closed && !abandoned { condition.wait() }
        if abandoned { throw Abandoned() }
        if chunks.isEmpty { return nil }
        condition.signal()
        return chunks.removeFirst()
    }

    /// Queues an item; throws the consumer's error if it already failed.
    func put(_ chunk: Item) throws {
        condition.lock()
        defer { condition.unlock() }
        while chunks.count >= capacity && outcome == nil { condition.wait() }
        if case .failure(let error) = outcome { throw error }
        chunks.append(chunk)
        condition.signal()
    }

    /// Ends the stream and waits for the consumer's result.
    func finish() throws -> Result {
        condition.lock()
        closed = true
        condition.broadcast()
        while outcome == nil { condition.wait() }
        let result = outcome
        condition.unlock()
        guard let result else { throw Abandoned() }
        return try result.get()
    }

    /// Makes the consumer fail and waits for it (when the producer gives up).
    func abandon() {
        condition.lock()
        abandoned = true
        condition.broadcast()
        while outcome == nil { condition.wait() }
        condition.unlock()
    }
}

/// Serves a ``BackgroundSink``'s chunks as a pull stream.
final class ChunkStream: ObjectInputStream {
    private let next: () throws -> [UInt8]?
    private var current: [UInt8] = []
    private var offset = 0

    init(_ next: @escaping () throws -> [UInt8]?) { self.next = next }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while offset == current.count {
            guard let chunk = try next() else { return 0 }
            current = chunk
            offset = 0
        }
        let count = min(buffer.count, current.count - offset)
        current.withUnsafeBytes { raw in
            if let source = raw.baseAddress, let target = buffer.baseAddress {
                target.copyMemory(from: source + offset, byteCount: count)
            }
        }
        offset += count
        return count
    }
}
