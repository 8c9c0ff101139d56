internal import Foundation

/// Shell quoting of parameter values, and where a `{{param}}` sits in a script.
enum ShellQuoting {
    /// `value` as one single-quoted shell word: nothing in it is expanded (`'` becomes `'\''`).
    static func quote(_ value: String) -> String {
        "'" + value.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
    }

    /// The lexical context of a position in a shell script.
    enum Context: Equatable {
        case unquoted
        case singleQuoted
        case doubleQuoted
        case hereDocument
        case comment
    }

    /// The context at each of `offsets` (character offsets, ascending) in `script`.
    ///
    /// A small POSIX-shell lexer: quotes, backslashes, `$(…)` and `(…)` nesting, comments
    /// and here-documents. It only needs to tell whether a placeholder is inside quotes,
    /// where inserting an already-quoted value would put literal `'` characters in the text.
    static func contexts(in script: String, at offsets: [Int]) -> [Context] {
        let chars = Array(script)
        var result: [Context] = []
        var pending = offsets[...]
        // A stack: command substitutions and subshells inside double quotes start unquoted again.
        var stack: [Context] = [.unquoted]
        var hereDelimiters: [(word: String, stripTabs: Bool)] = []
        var index = 0
        var atWordStart = true

        func record(upTo end: Int, _ context: Context) {
            while let next = pending.first, next < end {
                result.append(context)
                pending = pending.dropFirst()
            }
        }

        while index < chars.count {
            let state = stack.last ?? .unquoted
            record(upTo: index + 1, state)
            let char = chars[index]
            switch state {
            case .singleQuoted:
                if char == "'" { stack.removeLast() }
                index += 1
                continue
            case .doubleQuoted:
                if char == "\\" {
                    index += 2
                } else if char == "\"" {
                    stack.removeLast()
                    index += 1
                } else if char == "$" && index + 1 < chars.count && chars[index + 1] == "(" {
                    stack.append(.unquoted)
                    index += 2
                } else {
                    index += 1
                }
                continue
            default:
                break
            }
            // Unquoted.
            switch char {
            case "\\":
                index += 2
                atWordStart = false
            case "'":
                stack.append(.singleQuoted)
                index += 1
                atWordStart = false
            case "\"":
                stack.append(.doubleQuoted)
                index += 1
                atWordStart = false
            case "(":
                stack.append(.unquoted)
                index += 1
                atWordStart = true
            case ")":
                if stack.count > 1 { stack.removeLast() }
                index += 1
                atWordStart = true
            case "#" where atWordStart:
                let end = chars[index...].firstIndex(of: "\n") ?? chars.count
                record(upTo: end, .comment)
                index = end
            case "<" where index + 1 < chars.count && chars[index + 1] == "<"
                && !(index + 2 < chars.count && chars[index + 2] == "<"):
                index += 2
                var stripTabs = false
                if index < chars.count && chars[index] == "-" {
                    stripTabs = true
                    index += 1
                }
                while index < chars.count && (chars[index] == " " || chars[index] == "\t") { index += 1 }
                var word = ""
                while index < chars.count, !" \t\n;&|<>()".contains(chars[index]) {
                    if chars[index] != "'" && chars[index] != "\"" && chars[index] != "\\" { word.append(chars[index]) }
                    index += 1
                }
                if !word.isEmpty { hereDelimiters.append((word, stripTabs)) }
                atWordStart = false
            case "\n":
                index += 1
                atWordStart = true
                // Here-document bodies start on the next line.
                for (word, stripTabs) in hereDelimiters {
                    while index < chars.count {
                        let end = chars[index...].firstIndex(of: "\n") ?? chars.count
                        var line = chars[index..<end]
                        if stripTabs { line = line.drop { $0 == "\t" } }
                        record(upTo: end, .hereDocument)
                        index = min(end + 1, chars.count)
                        if String(line) == word { break }
                    }
                }
                hereDelimiters = []
            case " ", "\t", ";", "&", "|":
                index += 1
                atWordStart = true
            default:
                index += 1
                atWordStart = false
            }
        }
        record(upTo: Int.max, stack.last ?? .unquoted)
        return result
    }
}
