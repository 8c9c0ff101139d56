/// The parts of a Markdown document a runbook needs: ATX headings and fenced code blocks.
///
/// Fences follow CommonMark: three or more backticks or tildes, closed by a line of the
/// same character at least as long. Unlike CommonMark, a fence may be indented any
/// amount (so a step inside a list item still runs) and an unclosed fence is an error
/// (so a forgotten closing fence cannot silently turn the rest of the runbook into prose).
struct MarkdownScanner {
    /// A `#` heading outside fences.
    struct Heading {
        var level: Int
        var text: String
        var line: Int
    }

    /// A fenced code block.
    struct Fence {
        /// Line of the opening fence.
        var line: Int
        /// Text after the opening fence, trimmed.
        var info: String
        /// The content, with the opening fence's indentation removed from each line.
        var body: String
        /// Line of the first content line.
        var bodyLine: Int
        /// The nearest heading above the fence.
        var heading: Heading?
    }

    /// A fence that is never closed.
    struct Unterminated: Error {
        var line: Int
        var fence: String
    }

    var headings: [Heading] = []
    var fences: [Fence] = []

    /// Scans `lines`; `firstLine` is the file line number of `lines[0]`.
    init(lines: [Substring], firstLine: Int) throws(Unterminated) {
        var index = 0
        var lastHeading: Heading?
        while index < lines.count {
            let line = lines[index]
            let number = firstLine + index
            if let opening = Self.opening(line) {
                var body: [Substring] = []
                var closed = false
                index += 1
                while index < lines.count {
                    if Self.closes(lines[index], char: opening.char, count: opening.count) {
                        closed = true
                        break
                    }
                    body.append(Self.dropIndent(lines[index], upTo: opening.indent))
                    index += 1
                }
                guard closed else {
                    throw Unterminated(line: number, fence: String(repeating: opening.char, count: opening.count))
                }
                fences.append(Fence(line: number, info: opening.info, body: body.joined(separator: "\n"),
                                    bodyLine: number + 1, heading: lastHeading))
            } else if let heading = Self.heading(line, number: number) {
                headings.append(heading)
                lastHeading = heading
            }
            index += 1
        }
    }

    private struct Opening {
        var indent: Int
        var char: Character
        var count: Int
        var info: String
    }

    private static func opening(_ line: Substring) -> Opening? {
        let indent = line.prefix { $0 == " " || $0 == "\t" }.count
        let rest = line.dropFirst(indent)
        guard let char = rest.first, char == "`" || char == "~" else { return nil }
        let count = rest.prefix { $0 == char }.count
        guard count >= 3 else { return nil }
        let info = trim(rest.dropFirst(count))
        // CommonMark: a backtick fence's info string cannot contain a backtick (inline code).
        if char == "`" && info.contains("`") { return nil }
        return Opening(indent: indent, char: char, count: count, info: info)
    }

    private static func closes(_ line: Substring, char: Character, count: Int) -> Bool {
        let rest = line.drop { $0 == " " || $0 == "\t" }
        let run = rest.prefix { $0 == char }.count
        return run >= count && rest.dropFirst(run).allSatisfy { $0 == " " || $0 == "\t" }
    }

    private static func dropIndent(_ line: Substring, upTo indent: Int) -> Substring {
        var result = line
        var removed = 0
        while removed < indent, let first = result.first, first == " " || first == "\t" {
            result = result.dropFirst()
            removed += 1
        }
        return result
    }

    private static func heading(_ line: Substring, number: Int) -> Heading? {
        let indent = line.prefix { $0 == " " }.count
        guard indent <= 3 else { return nil }
        let rest = line.dropFirst(indent)
        let level = rest.prefix { $0 == "#" }.count
        guard (1...6).contains(level) else { return nil }
        let after = rest.dropFirst(level)
        guard after.isEmpty || after.first == " " || after.first == "\t" else { return nil }
        var text = trim(after)
        // An optional closing sequence of `#`s, preceded by a space.
        let closing = text.reversed().prefix { $0 == "#" }.count
        if closing > 0 {
            let stripped = text.dropLast(closing)
            if stripped.isEmpty || stripped.last == " " || stripped.last == "\t" { text = trim(stripped) }
        }
        return Heading(level: level, text: text, line: number)
    }

    static func trim(_ text: Substring) -> String {
        String(text.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
