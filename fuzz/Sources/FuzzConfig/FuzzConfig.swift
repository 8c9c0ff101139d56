import DRCore

/// One libFuzzer input: the bytes of a drctl.yaml. Any error is fine; a crash, a hang or a
/// memory blow-up is a finding. Errors must be ConfigErrors naming the file.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    do {
        _ = try DRConfig.parse(text: text, path: "/fuzz/drctl.yaml", environment: ["HOME": "/home/fuzz"])
    } catch let error as ConfigError {
        precondition(error.file == "/fuzz/drctl.yaml", "error without the file: \(error)")
    } catch {
        preconditionFailure("not a ConfigError: \(error)")
    }
    return 0
}
