/// Lexical path helpers used by the loader and locator (no file-system access, no symlink resolution).
enum ConfigPaths {
    /// Why a path could not be resolved.
    enum Failure: Error {
        case noHome
        case userHome(String)
    }

    /// Expands `~`/`~/x` with `HOME`, makes relative paths relative to `base`, and standardizes.
    static func resolve(_ raw: String, relativeTo base: String, environment: [String: String]) throws(Failure) -> String {
        var path = raw
        if path == "~" || path.hasPrefix("~/") {
            guard let home = environment["HOME"], !home.isEmpty else { throw .noHome }
            path = home + path.dropFirst()
        } else if path.hasPrefix("~") {
            throw .userHome(String(path.prefix { $0 != "/" }))
        }
        if !path.hasPrefix("/") { path = base + "/" + path }
        return standardize(path)
    }

    /// Removes empty and `.` components, resolves `..` lexically; result is absolute.
    static func standardize(_ path: String) -> String {
        var parts: [Substring] = []
        for component in path.split(separator: "/", omittingEmptySubsequences: true) {
            switch component {
            case ".": continue
            case "..": if !parts.isEmpty { parts.removeLast() }
            default: parts.append(component)
            }
        }
        return "/" + parts.joined(separator: "/")
    }

    /// The directory containing `path` (which must be absolute and standardized).
    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "/" }
        let dir = path[..<slash]
        return dir.isEmpty ? "/" : String(dir)
    }
}
