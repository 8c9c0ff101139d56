/// The info string of a fence: its language and its `{…}` step attributes.
///
/// `sh {id=restore-repo timeout=2m retries=2 delay=10s confirm on_failure=continue check="git -C {{repo}} fsck"}`:
/// `key=value` pairs separated by spaces; a value may be double-quoted, with `\"` and `\\`
/// as escapes; `confirm` may stand alone (true).
struct InfoString {
    /// One `key=value` (or bare `key`).
    struct Attribute {
        var key: String
        var value: String?
    }

    /// A malformed attribute list.
    struct Malformed: Error {
        var message: String
    }

    /// The attribute names a step accepts.
    static let keys = ["id", "timeout", "retries", "delay", "confirm", "on_failure", "check", "drill"]

    /// The first word: `sh`, `drctl`, `yaml` …
    var language: String
    /// The `{…}` attributes in order; nil when there are none.
    var attributes: [Attribute]?

    /// Splits an info string. Returns the attributes only when the `{…}` part parses;
    /// `Malformed` is thrown only when it looks like it was meant as step attributes.
    init(_ info: String) throws(Malformed) {
        let language = info.prefix { $0 != " " && $0 != "\t" && $0 != "{" }
        self.language = String(language)
        let rest = info.dropFirst(language.count)
        guard let open = rest.firstIndex(of: "{") else {
            attributes = nil
            return
        }
        do throws(Malformed) {
            attributes = try Self.parseAttributes(rest[rest.index(after: open)...])
        } catch {
            // `{.class}` and other Markdown attribute syntaxes are prose; a broken `{id=…}` is not.
            if rest.contains("id=") { throw error }
            attributes = nil
        }
    }

    private static func parseAttributes(_ text: Substring) throws(Malformed) -> [Attribute] {
        var result: [Attribute] = []
        var rest = text
        func skipSpaces() { rest = rest.drop { $0 == " " || $0 == "\t" } }
        while true {
            skipSpaces()
            guard let first = rest.first else {
                throw Malformed(message: "the attribute list is not closed with `}`")
            }
            if first == "}" {
                let after = rest.dropFirst()
                guard after.allSatisfy({ $0 == " " || $0 == "\t" }) else {
                    throw Malformed(message: "unexpected text after the attribute list: `\(MarkdownScanner.trim(after))`")
                }
                return result
            }
            let key = rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }
            guard !key.isEmpty else {
                throw Malformed(message: "expected an attribute name (`key=value`), found `\(rest.prefix(20))`")
            }
            rest = rest.dropFirst(key.count)
            guard rest.first == "=" else {
                result.append(Attribute(key: String(key), value: nil))
                continue
            }
            rest = rest.dropFirst()
            if rest.first == "\"" {
                rest = rest.dropFirst()
                var value = ""
                var closed = false
                while let char = rest.first {
                    rest = rest.dropFirst()
                    if char == "\\", let next = rest.first, next == "\"" || next == "\\" {
                        value.append(next)
                        rest = rest.dropFirst()
                    } else if char == "\"" {
                        closed = true
                        break
                    } else {
                        value.append(char)
                    }
                }
                guard closed else { throw Malformed(message: "the quoted value of `\(key)` is not closed with `\"`") }
                guard rest.first.map({ $0 == " " || $0 == "\t" || $0 == "}" }) ?? true else {
                    throw Malformed(message: "expected a space or `}` after the quoted value of `\(key)`")
                }
                result.append(Attribute(key: String(key), value: value))
            } else {
                let value = rest.prefix { $0 != " " && $0 != "\t" && $0 != "}" }
                if value.contains("\"") {
                    throw Malformed(message: "the value of `\(key)` contains `\"`; quote the whole value: \(key)=\"…\"")
                }
                rest = rest.dropFirst(value.count)
                result.append(Attribute(key: String(key), value: String(value)))
            }
        }
    }
}

/// Step settings from the info string or a `drctl` block's YAML, before they become a ``RunbookStep``.
struct StepSettings {
    var id: String?
    var timeout: Duration?
    var retries: Int?
    var delay: Duration?
    var confirm: Bool?
    var onFailure: RunbookStep.OnFailure?
    var check: String?
    var drillSafe: Bool?

    /// Sets `key` from its text; returns an error message when the value is invalid.
    /// `value` is nil for a bare attribute.
    mutating func set(_ key: String, _ value: String?) -> String? {
        switch key {
        case "confirm":
            guard let value else { confirm = true; return nil }
            switch value {
            case "true", "yes": confirm = true
            case "false", "no": confirm = false
            default: return "`confirm` takes true or false (or stands alone for true), found `\(value)`"
            }
            return nil
        default:
            break
        }
        guard let value else {
            return "attribute `\(key)` needs a value: \(key)=…"
        }
        switch key {
        case "id":
            guard Self.isValidID(value) else {
                return "invalid step id `\(value)`: expected a-z, 0-9 and `-`, starting with a letter or digit"
            }
            id = value
        case "timeout":
            guard let duration = RunbookDuration.parse(value), duration > .zero else {
                return "invalid timeout `\(value)`: expected \(RunbookDuration.expected), more than zero"
            }
            timeout = duration
        case "delay":
            guard let duration = RunbookDuration.parse(value) else {
                return "invalid delay `\(value)`: expected \(RunbookDuration.expected)"
            }
            delay = duration
        case "retries":
            guard value.allSatisfy({ $0.isASCII && $0.isNumber }), let count = Int(value), count <= 100 else {
                return "invalid retries `\(value)`: expected a whole number from 0 to 100 (attempts after the first)"
            }
            retries = count
        case "on_failure":
            guard let mode = RunbookStep.OnFailure(rawValue: value) else {
                return "invalid on_failure `\(value)`: expected `stop` or `continue`"
            }
            onFailure = mode
        case "check":
            guard !value.allSatisfy(\.isWhitespace) else { return "`check` must not be empty; expected a shell command" }
            check = value
        case "drill":
            guard value == "run" else { return "invalid drill `\(value)`: expected `run` (the step is safe to run in a drill)" }
            drillSafe = true
        default:
            return "unknown step attribute `\(key)`" + RunbookSuggestion.hint(for: key, in: InfoString.keys)
        }
        return nil
    }

    /// `[a-z0-9][a-z0-9-]*`, at most 63 characters.
    static func isValidID(_ id: String) -> Bool {
        let scalars = Array(id.unicodeScalars)
        func alnum(_ c: Unicode.Scalar) -> Bool { ("a"..."z").contains(c) || ("0"..."9").contains(c) }
        guard let first = scalars.first, alnum(first), scalars.count <= 63 else { return false }
        return scalars.allSatisfy { alnum($0) || $0 == "-" }
    }
}
