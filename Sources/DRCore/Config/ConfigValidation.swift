/// Validation rules for individual values. Each returns an error reason, or `nil` when valid.

/// Checks an age recipient. For now only the shape (`age1` prefix, lowercase, 62 characters);
/// to be replaced by a real bech32 decoder.
func validateRecipient(_ s: String) -> String? {
    guard s.hasPrefix("age1") else {
        return "expected an age recipient starting with `age1`"
    }
    guard s == s.lowercased() else {
        return "expected an age recipient in lowercase"
    }
    guard s.count == 62 else {
        return "expected an age recipient of 62 characters, found \(s.count)"
    }
    do {
        _ = try AgeRecipient(parsing: s)
    } catch {
        return "`\(s)` is not a valid age recipient (\(DRError.describe(error))); copy it again from `drctl keygen` or `age-keygen -y`"
    }
    return nil
}

/// Checks a source name against `^[a-z0-9][a-z0-9._-]{0,62}$`.
func validateSourceName(_ s: String) -> String? {
    let scalars = Array(s.unicodeScalars)
    func isAlnum(_ c: Unicode.Scalar) -> Bool { ("a"..."z").contains(c) || ("0"..."9").contains(c) }
    guard let first = scalars.first, isAlnum(first), scalars.count <= 63,
          scalars.allSatisfy({ isAlnum($0) || $0 == "." || $0 == "_" || $0 == "-" })
    else {
        return "invalid name `\(s)`: expected 1 to 63 characters of a-z, 0-9, `.`, `_`, `-`, starting with a letter or digit"
    }
    return nil
}

/// The schedule macros accepted in place of a 5-field cron line.
let scheduleMacros = ["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"]

/// Checks the shape of a schedule: a known macro or 5 fields of `[0-9A-Za-z*/,-]`.
func validateScheduleShape(_ s: String) -> String? {
    let expected = "expected a 5-field cron line like \"0 */6 * * *\" or one of \(scheduleMacros.joined(separator: " "))"
    if s.hasPrefix("@") {
        return scheduleMacros.contains(s) ? nil : "unknown schedule macro `\(s)`; \(expected)"
    }
    let fields = s.split(whereSeparator: { $0 == " " || $0 == "\t" })
    guard fields.count == 5 else {
        return "found \(fields.count) field\(fields.count == 1 ? "" : "s"); \(expected)"
    }
    for field in fields {
        let ok = field.unicodeScalars.allSatisfy {
            ("0"..."9").contains($0) || ("a"..."z").contains($0) || ("A"..."Z").contains($0)
                || $0 == "*" || $0 == "/" || $0 == "," || $0 == "-"
        }
        if !ok { return "invalid characters in field `\(field)`; \(expected)" }
    }
    return nil
}

/// Classifies a git repository string: a URL when it contains `://` or is scp-like
/// (`user@host:path`, `host:path` with no `/` before the first `:`), otherwise a local path.
func isGitURL(_ s: String) -> Bool {
    if s.contains("://") { return true }
    guard let colon = s.firstIndex(of: ":") else { return false }
    let head = s[..<colon]
    return !head.isEmpty && !head.contains("/")
}

/// Levenshtein distance between two strings.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            let cost = a[i - 1] == b[j - 1] ? 0 : 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}

/// The candidate closest to `word` when it is close enough to be a likely typo.
func closestMatch(to word: String, in candidates: [String]) -> String? {
    func normalized(_ s: String) -> String { s.lowercased().filter { $0 != "_" && $0 != "-" } }
    if let same = candidates.first(where: { normalized($0) == normalized(word) }) { return same }
    let scored = candidates.map { ($0, editDistance(word.lowercased(), $0)) }
    guard let best = scored.min(by: { $0.1 < $1.1 }) else { return nil }
    let limit = max(1, min(3, max(word.count, best.0.count) / 3))
    return best.1 <= limit ? best.0 : nil
}

/// "Did you mean" matching, shared by the configuration and runbook parsers.
public enum NameSuggestion {
    /// The candidate closest to `word` when it is close enough to be a likely typo.
    public static func closest(to word: String, in candidates: [String]) -> String? {
        closestMatch(to: word, in: candidates)
    }
}
