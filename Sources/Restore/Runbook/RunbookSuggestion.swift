internal import DRCore

/// "Did you mean" suggestions for runbook keys, attributes and names.
enum RunbookSuggestion {
    /// `; did you mean `x`?` when a candidate is close to `word`, else `; expected one of: …`.
    static func hint(for word: String, in candidates: [String]) -> String {
        if let match = closest(to: word, in: candidates) { return "; did you mean `\(match)`?" }
        return "; expected one of: \(candidates.joined(separator: ", "))"
    }

    /// The candidate closest to `word` when it is close enough to be a likely typo.
    static func closest(to word: String, in candidates: [String]) -> String? {
        NameSuggestion.closest(to: word, in: candidates)
    }
}
