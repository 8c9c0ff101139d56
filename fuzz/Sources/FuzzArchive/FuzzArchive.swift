import DRCore
import Foundation
import Snapshots

/// Reads bytes as an object stream.
final class BytesStream: ObjectInputStream {
    let bytes: [UInt8]
    var offset = 0
    init(_ bytes: [UInt8]) { self.bytes = bytes }
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let count = min(buffer.count, bytes.count - offset)
        guard count > 0 else { return 0 }
        bytes.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[offset..<offset + count])) }
        offset += count
        return count
    }
}

/// A private folder per process: `target` is extracted into; `outside` must stay untouched.
let scratch: String = {
    let path = "\(NSTemporaryDirectory())/drctl-fuzz-archive-\(getpid())"
    try? FileManager.default.createDirectory(atPath: "\(path)/outside", withIntermediateDirectories: true)
    return path
}()

/// One libFuzzer input: a (zstd-compressed or plain) tar stream extracted by `SecureExtractor`.
/// Anything written outside the target folder is a finding (the process aborts).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzArchive(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let target = "\(scratch)/target"
    try? FileManager.default.removeItem(atPath: target)
    try? FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
    do {
        _ = try SecureExtractor.extract(BytesStream(Array(UnsafeBufferPointer(start: data, count: size))), into: target)
    } catch {
        // Refusals and corrupt streams are expected.
    }
    let outside = (try? FileManager.default.contentsOfDirectory(atPath: "\(scratch)/outside")) ?? []
    let siblings = (try? FileManager.default.contentsOfDirectory(atPath: scratch)) ?? []
    precondition(outside.isEmpty && Set(siblings) == ["outside", "target"], "written outside the target: \(siblings) \(outside)")
    return 0
}
