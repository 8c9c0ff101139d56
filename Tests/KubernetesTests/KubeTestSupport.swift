import DRCore
import Foundation
import Logging

/// Writes `text` to `path`, creating parent folders. Uses drctl's close-on-exec atomic write:
/// a descriptor leaked into a child that another test spawns meanwhile would make running
/// this file as a script fail with "Text file busy".
func writeFile(_ path: String, _ text: String, mode: UInt32 = 0o644) throws {
    let dir = (path as NSString).deletingLastPathComponent
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    try FileIO.atomicWrite(Array(text.utf8), to: path, mode: mode)
}

/// The `DRError` a throwing call raised, or nil.
func drError(_ body: () throws -> Void) -> DRError? {
    do {
        try body()
        return nil
    } catch {
        return DRError.wrap(error)
    }
}
