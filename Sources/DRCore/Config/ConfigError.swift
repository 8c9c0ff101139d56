/// A problem in a configuration file: where it is, which key, what is wrong and what is expected.
///
/// Reads like `/etc/drctl/drctl.yaml:12:5: sources[1].repo: expected a string (a local path
/// or a git URL), found a list`.
public struct ConfigError: Error, Sendable, CustomStringConvertible, DRErrorConvertible {
    /// Path of the configuration file.
    public var file: String
    /// 1-based line of the problem, when known.
    public var line: Int?
    /// 1-based column of the problem, when known.
    public var column: Int?
    /// Dotted path of the offending key, like `sources[1].repo`; empty for whole-file problems.
    public var field: String
    /// What is wrong and what is expected.
    public var message: String

    /// Creates a configuration error.
    public init(file: String, line: Int? = nil, column: Int? = nil, field: String, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.field = field
        self.message = message
    }

    /// `file:line:column: field: message`, leaving out the parts that are unknown.
    public var description: String {
        var text = file
        if let line {
            text += ":\(line)"
            if let column { text += ":\(column)" }
        }
        text += ": "
        if !field.isEmpty { text += "\(field): " }
        return text + message
    }

    /// This error as a ``DRError`` with code ``DRError/Code/config``.
    public var drError: DRError { DRError(.config, description) }
}
