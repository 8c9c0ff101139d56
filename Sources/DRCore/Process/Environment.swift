/// The process environment drctl passes to child processes and reads settings from.
///
/// Library code never reads or changes the real process environment: it takes an
/// `Environment` value, so tests run in parallel with their own variables.
public struct Environment: Sendable {
    public var variables: [String: String]

    public init(_ variables: [String: String]) { self.variables = variables }

    /// The environment of the running process.
    public static var current: Environment {
        var result: [String: String] = [:]
        var pointer = environ
        while let entry = pointer.pointee {
            let text = String(cString: entry)
            if let eq = text.firstIndex(of: "=") {
                result[String(text[..<eq])] = String(text[text.index(after: eq)...])
            }
            pointer = pointer.advanced(by: 1)
        }
        return Environment(result)
    }

    public subscript(name: String) -> String? {
        get { variables[name] }
        set { variables[name] = newValue }
    }

    /// The absolute path of `tool` found on `PATH`, or nil.
    public func which(_ tool: String) -> String? {
        if tool.contains("/") { return access(tool, X_OK) == 0 ? tool : nil }
        let path = variables["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for dir in path.split(separator: ":", omittingEmptySubsequences: true) {
            let candidate = "\(dir)/\(tool)"
            var info = stat()
            if stat(candidate, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, access(candidate, X_OK) == 0 {
                return candidate
            }
        }
        return nil
    }

    /// Like ``which(_:)`` but throws a ``DRError/Code/missingTool`` error naming the package to install.
    public func require(_ tool: String, package: String? = nil, purpose: String) throws -> String {
        if let found = which(tool) { return found }
        throw DRError(
            .missingTool, "`\(tool)` is not installed or not on PATH; drctl needs it to \(purpose)",
            hint: "install it (Debian: apt-get install \(package ?? tool)) or fix PATH")
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
