/// An error raised by drctl: what failed, on which input, and what to do next.
///
/// Modelled on swift-nio's `FileSystemError`: a stable ``Code`` that maps to an exit
/// code, a human message, an optional underlying cause, and the source location that
/// raised it (for `--verbose` reports, never shown by default).
public struct DRError: Error, Sendable, CustomStringConvertible {
    /// The category of failure. Each maps to one documented exit code (docs/CLI.md).
    public enum Code: String, Sendable, CaseIterable {
        /// A backup, check or other operation did not succeed.
        case failed
        /// The configuration file is malformed or inconsistent.
        case config
        /// A snapshot, source or file named by the user does not exist.
        case notFound
        /// Stored data is corrupt, truncated or fails verification.
        case dataCorrupt
        /// A required external tool (git, age …) is missing.
        case missingTool
        /// A remote (repository URL, server) cannot be reached.
        case unreachable
        /// drctl refused to act because acting could lose or overwrite data.
        case refused
        /// An operating-system call failed (permissions, disk full …).
        case io
        /// Decryption failed or a key is missing or wrong.
        case crypto

        /// The process exit code for this category (frozen in docs/CLI.md).
        public var exitCode: Int32 {
            switch self {
            case .failed: 1
            case .config: 3
            case .notFound: 4
            case .dataCorrupt: 5
            case .missingTool: 6
            case .unreachable: 7
            case .refused: 8
            case .io: 9
            case .crypto: 10
            }
        }
    }

    /// Where an error was raised in drctl's own source.
    public struct Location: Sendable, CustomStringConvertible {
        public var function: String
        public var file: String
        public var line: Int
        public var description: String { "\(file):\(line) (\(function))" }
    }

    public var code: Code
    public var message: String
    /// A hint on what to do next, printed after the message.
    public var hint: String?
    public var cause: (any Error)?
    public var location: Location

    public init(
        _ code: Code, _ message: String, hint: String? = nil, cause: (any Error)? = nil,
        function: String = #function, file: String = #fileID, line: Int = #line
    ) {
        self.code = code
        self.message = message
        self.hint = hint
        self.cause = cause
        self.location = Location(function: function, file: file, line: line)
    }

    public var description: String {
        var text = message
        if let cause { text += ": \(DRError.describe(cause))" }
        if let hint { text += "\n  hint: \(hint)" }
        return text
    }

    /// Wraps any error as a `DRError`, keeping `DRError`s (and convertible errors) as they are.
    public static func wrap(_ error: any Error, code: Code = .failed, _ message: String? = nil) -> DRError {
        if let error = error as? DRError {
            guard let message else { return error }
            var copy = error
            copy.message = "\(message): \(error.message)"
            return copy
        }
        if let convertible = error as? any DRErrorConvertible {
            let converted = convertible.drError
            guard let message else { return converted }
            var copy = converted
            copy.message = "\(message): \(converted.message)"
            return copy
        }
        return DRError(code, message ?? "operation failed", cause: error)
    }

    /// A one-line description of any error, preferring drctl's own wording.
    public static func describe(_ error: any Error) -> String {
        if let error = error as? DRError { return error.description }
        if let convertible = error as? any DRErrorConvertible { return convertible.drError.description }
        return String(describing: error)
    }
}

/// Errors of a narrower kind (config, age …) that know their ``DRError`` category.
public protocol DRErrorConvertible: Error {
    var drError: DRError { get }
}
