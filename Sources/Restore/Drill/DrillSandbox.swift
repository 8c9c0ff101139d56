import DRCore
public import Foundation

/// A fresh folder that one drill restores into: repositories under `git/`, volumes under
/// `volumes/`, decrypted exports under `exports/`. Nothing outside it is written.
public struct DrillSandbox: Sendable, Hashable {
    /// The sandbox folder (absolute, standardized).
    public let root: String

    /// A sandbox at `root` (not created).
    public init(root: String) {
        self.root = URL(fileURLWithPath: root).standardizedFileURL.path
    }

    /// Creates a new, empty sandbox (mode 0700) under `parent`.
    public static func create(in parent: String, now: Date) throws -> DrillSandbox {
        try FileIO.createDirectory(parent, mode: 0o700)
        let stamp = ActionFormat.fileStamp(now)
        let sandbox = DrillSandbox(root: "\(parent)/drill-\(stamp)-\(FileIO.randomHex(4))")
        guard !FileIO.exists(sandbox.root) else {
            throw DRError(.io, "drill sandbox \(sandbox.root) already exists")
        }
        try FileIO.createDirectory(sandbox.root, mode: 0o700)
        return sandbox
    }

    /// Where a git-bundle source is restored in the drill.
    public func git(_ source: String) -> String { "\(root)/git/\(source)" }

    /// Where a pvc-archive source is restored in the drill.
    public func volume(_ source: String) -> String { "\(root)/volumes/\(source)" }

    /// Where an export snapshot of a source is decrypted for verification.
    public func export(_ source: String) -> String { "\(root)/exports/\(source).yaml" }

    /// True when `path` is inside the sandbox (after `..` and `.` are resolved).
    public func contains(_ path: String) -> Bool {
        let standardized = URL(fileURLWithPath: path).standardizedFileURL.path
        return standardized.hasPrefix(root + "/")
    }

    /// Deletes the sandbox and everything in it.
    public func remove() {
        FileIO.remove(root)
    }
}
