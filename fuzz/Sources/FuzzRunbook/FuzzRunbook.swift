import DRCore
import Foundation
import Restore

/// One libFuzzer input: the bytes of a runbook. Parsing and parameter substitution may fail
/// with config errors only.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRunbook(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Data(UnsafeBufferPointer(start: data, count: size))
    do {
        let runbook = try RunbookParser.parse(data: bytes, name: "fuzz", origin: "fuzz.md")
        _ = try runbook.substitutingParams()
    } catch let error as DRError {
        precondition(error.code == .config, "unexpected error code: \(error)")
    } catch {
        preconditionFailure("not a DRError: \(error)")
    }
    return 0
}
