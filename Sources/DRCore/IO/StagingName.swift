#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Names of work-in-progress folders (extract staging, restore staging, scratch space)
/// that carry the writing process's id: `<base>.drctl-<pid>-<random>`. A later drctl
/// removes the ones whose process is gone — left by a `kill -9` or a crash — and never
/// touches a live process's work.
public enum StagingName {
    static let marker = ".drctl-"

    /// A fresh name `<folder>/<base>.drctl-<pid>-<random>` (nothing is created).
    public static func make(in folder: String, base: String) -> String {
        "\(folder)/\(base)\(marker)\(getpid())-\(FileIO.randomHex(4))"
    }

    /// A staging sibling of `target` for `purpose`: `<parent>/.<name>.<purpose>.drctl-<pid>-<random>`.
    public static func sibling(of target: String, purpose: String) -> String {
        let (parent, name) = split(target)
        return make(in: parent, base: ".\(name).\(purpose)")
    }

    /// Removes the staging siblings of `target` (of any purpose, nested ones included)
    /// whose process is gone, and returns their paths.
    @discardableResult
    public static func removeStaleSiblings(of target: String) -> [String] {
        let (parent, name) = split(target)
        var removed: [String] = []
        for entry in FileIO.list(parent) where entry.hasPrefix(".") && entry.contains(".\(name).") && isStale(entry) {
            FileIO.removeTree("\(parent)/\(entry)")
            removed.append("\(parent)/\(entry)")
        }
        return removed
    }

    /// True when `name` was made by ``make(in:base:)`` for a process that no longer exists.
    public static func isStale(_ name: String) -> Bool {
        guard let pid = pid(in: name) else { return false }
        if pid == getpid() { return false }
        return kill(pid, 0) != 0 && errno == ESRCH
    }

    /// The process id in a name made by ``make(in:base:)``.
    static func pid(in name: String) -> Int32? {
        guard let range = name.range(of: marker, options: .backwards) else { return nil }
        let parts = name[range.upperBound...].split(separator: "-")
        guard parts.count == 2, parts[1].count == 8, parts[1].allSatisfy(\.isHexDigit) else { return nil }
        return Int32(parts[0])
    }

    private static func split(_ path: String) -> (parent: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let parent = String(path[..<slash])
        return (parent.isEmpty ? "/" : parent, String(path[path.index(after: slash)...]))
    }
}
