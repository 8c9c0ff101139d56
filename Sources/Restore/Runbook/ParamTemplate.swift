/// `{{ name }}` placeholders in runbook text.
///
/// A placeholder is `{{`, optional spaces, a name (`[A-Za-z_][A-Za-z0-9_]*`), optional spaces
/// and `}}`. Anything else between braces (`{{.metadata.name}}` in a kubectl go-template) is
/// left as written.
enum ParamTemplate {
    /// One placeholder: its character offset and length in the text, and the parameter name.
    struct Placeholder: Equatable {
        var offset: Int
        var length: Int
        var name: String
    }

    /// A placeholder naming a parameter that has no value.
    struct Unknown: Error {
        var name: String
    }

    /// The placeholders in `text`, in order.
    static func placeholders(in text: String) -> [Placeholder] {
        let chars = Array(text)
        var result: [Placeholder] = []
        var index = 0
        while index + 1 < chars.count {
            guard chars[index] == "{", chars[index + 1] == "{" else {
                index += 1
                continue
            }
            var cursor = index + 2
            while cursor < chars.count, chars[cursor] == " " { cursor += 1 }
            var name = ""
            while cursor < chars.count, chars[cursor].isASCII, chars[cursor].isLetter || chars[cursor].isNumber || chars[cursor] == "_" {
                name.append(chars[cursor])
                cursor += 1
            }
            while cursor < chars.count, chars[cursor] == " " { cursor += 1 }
            if isName(name), cursor + 1 < chars.count, chars[cursor] == "}", chars[cursor + 1] == "}" {
                result.append(Placeholder(offset: index, length: cursor + 2 - index, name: name))
                index = cursor + 2
            } else {
                index += 1
            }
        }
        return result
    }

    /// `text` with every placeholder replaced by `transform(value)`.
    static func substitute(_ text: String, params: [String: String],
                           transform: (String) -> String = { $0 }) throws(Unknown) -> String {
        let found = placeholders(in: text)
        guard !found.isEmpty else { return text }
        let chars = Array(text)
        var result = ""
        var position = 0
        for placeholder in found {
            guard let value = params[placeholder.name] else { throw Unknown(name: placeholder.name) }
            result.append(contentsOf: chars[position..<placeholder.offset])
            result += transform(value)
            position = placeholder.offset + placeholder.length
        }
        result.append(contentsOf: chars[position...])
        return result
    }

    /// `[A-Za-z_][A-Za-z0-9_]*`.
    static func isName(_ name: String) -> Bool {
        guard let first = name.first, first.isASCII, first.isLetter || first == "_" else { return false }
        return name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
    }
}
