/// Glob patterns over path bytes, for `exclude:` and `--include`.
///
/// `*` matches any bytes except `/`, `**` matches any bytes including `/` (so `a/**`
/// matches everything below `a`), `?` one byte except `/`, `[abc]`, `[a-z]` and `[!a]`
/// one byte from (or not from) a set. A pattern without `/` matches the last component
/// of a path at any depth (`*.tmp`, `cache`); a pattern with `/` matches the whole path
/// relative to the volume root.
public struct Glob: Sendable, Hashable {
    public let pattern: String
    let bytes: [UInt8]
    let anchored: Bool

    public init(_ pattern: String) {
        self.pattern = pattern
        var bytes = Array(pattern.utf8)
        while bytes.first == UInt8(ascii: "/") { bytes.removeFirst() }
        while bytes.count > 1, bytes.last == UInt8(ascii: "/") { bytes.removeLast() }
        self.bytes = bytes
        anchored = bytes.contains(UInt8(ascii: "/"))
    }

    /// True when `path` (relative, `/`-separated bytes) matches.
    public func matches(_ path: [UInt8]) -> Bool {
        if anchored { return Self.match(bytes[...], path[...]) }
        let name = path.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true).last ?? []
        return Self.match(bytes[...], name[...])
    }

    static let slash = UInt8(ascii: "/")
    static let star = UInt8(ascii: "*")

    static func match(_ pattern: ArraySlice<UInt8>, _ text: ArraySlice<UInt8>) -> Bool {
        var p = pattern.startIndex
        var t = text.startIndex
        // Backtracking points for the last `*` (single component) seen.
        var starP: Int?
        var starT = 0
        while t < text.endIndex {
            if p < pattern.endIndex {
                let c = pattern[p]
                if c == star, p + 1 < pattern.endIndex, pattern[p + 1] == star {
                    // `**`: try every suffix, including across `/`.
                    var rest = p + 2
                    if rest < pattern.endIndex, pattern[rest] == slash { rest += 1 }
                    var i = t
                    while true {
                        if match(pattern[rest...], text[i...]) { return true }
                        // `a/**/b` also matches `a/b`: the slash after ** is optional at a component start.
                        if i == text.endIndex { return false }
                        i += 1
                    }
                }
                if c == star {
                    starP = p
                    starT = t
                    p += 1
                    continue
                }
                if c == UInt8(ascii: "?"), text[t] != slash {
                    p += 1
                    t += 1
                    continue
                }
                if c == UInt8(ascii: "["), let (matched, next) = matchClass(pattern, p, text[t]) {
                    if matched {
                        p = next
                        t += 1
                        continue
                    }
                } else if c == text[t] {
                    p += 1
                    t += 1
                    continue
                }
            }
            // Mismatch: extend the last `*` by one byte, never across `/`.
            if let sp = starP, text[starT] != slash {
                starT += 1
                t = starT
                p = sp + 1
                continue
            }
            return false
        }
        while p < pattern.endIndex, pattern[p] == star { p += 1 }
        return p == pattern.endIndex
    }

    /// Matches `[...]` at `start`; nil when the class is unterminated (then `[` is literal).
    static func matchClass(_ pattern: ArraySlice<UInt8>, _ start: Int, _ byte: UInt8) -> (Bool, Int)? {
        var i = start + 1
        var negate = false
        if i < pattern.endIndex, pattern[i] == UInt8(ascii: "!") || pattern[i] == UInt8(ascii: "^") {
            negate = true
            i += 1
        }
        var matched = false
        var first = true
        while i < pattern.endIndex {
            let c = pattern[i]
            if c == UInt8(ascii: "]"), !first { return (matched != negate && byte != slash, i + 1) }
            first = false
            if i + 2 < pattern.endIndex, pattern[i + 1] == UInt8(ascii: "-"), pattern[i + 2] != UInt8(ascii: "]") {
                if pattern[i] <= byte && byte <= pattern[i + 2] { matched = true }
                i += 3
            } else {
                if c == byte { matched = true }
                i += 1
            }
        }
        return nil
    }
}
