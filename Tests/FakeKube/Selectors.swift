import DRCore
import Foundation

/// A parsed `labelSelector` (=, ==, !=, in, notin, exists, !exists).
struct LabelSelector: Sendable {
    enum Requirement: Sendable {
        case equals(String, String)
        case notEquals(String, String)
        case isIn(String, Set<String>)
        case notIn(String, Set<String>)
        case exists(String)
        case notExists(String)
    }

    var requirements: [Requirement] = []

    init(_ text: String) throws(APIError) {
        for term in Self.splitTopLevel(text) {
            let term = term.trimmingCharacters(in: .whitespaces)
            if term.isEmpty { continue }
            requirements.append(try Self.parse(term))
        }
    }

    /// Splits on commas outside parentheses.
    private static func splitTopLevel(_ text: String) -> [String] {
        var parts: [String] = []
        var current = ""
        var depth = 0
        for character in text {
            if character == "(" { depth += 1 }
            if character == ")" { depth -= 1 }
            if character == ",", depth == 0 {
                parts.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        parts.append(current)
        return parts
    }

    private static func parse(_ term: String) throws(APIError) -> Requirement {
        if term.hasPrefix("!") {
            return .notExists(term.dropFirst().trimmingCharacters(in: .whitespaces))
        }
        for (op, isEqual) in [("!=", false), ("==", true), ("=", true)] {
            if let range = term.range(of: op) {
                let key = term[..<range.lowerBound].trimmingCharacters(in: .whitespaces)
                let value = term[range.upperBound...].trimmingCharacters(in: .whitespaces)
                return isEqual ? .equals(key, value) : .notEquals(key, value)
            }
        }
        let words = term.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
        if words.count >= 2 {
            let key = String(words[0])
            let op = words[1].lowercased()
            let rest = words.count > 2 ? String(words[2]) : ""
            let inner = rest.trimmingCharacters(in: .whitespaces)
            guard inner.hasPrefix("("), inner.hasSuffix(")") else {
                throw APIError.badRequest("unable to parse requirement: \(term)")
            }
            let values = Set(inner.dropFirst().dropLast().split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
            if op == "in" { return .isIn(key, values) }
            if op == "notin" { return .notIn(key, values) }
            throw APIError.badRequest("unable to parse requirement: \(term)")
        }
        if term.contains("(") { throw APIError.badRequest("unable to parse requirement: \(term)") }
        return .exists(term)
    }

    func matches(_ labels: [String: String]) -> Bool {
        requirements.allSatisfy { requirement in
            switch requirement {
            case .equals(let key, let value): labels[key] == value
            case .notEquals(let key, let value): labels[key] != value
            case .isIn(let key, let values): labels[key].map(values.contains) ?? false
            case .notIn(let key, let values): labels[key].map { !values.contains($0) } ?? true
            case .exists(let key): labels[key] != nil
            case .notExists(let key): labels[key] == nil
            }
        }
    }
}

/// A parsed `fieldSelector`: `metadata.name`, `metadata.namespace`, and `type` for secrets
/// (plus any other dotted path), with `=`, `==` and `!=`.
struct FieldSelector: Sendable {
    var requirements: [(path: [String], value: String, equal: Bool)] = []

    init(_ text: String) throws(APIError) {
        for term in text.split(separator: ",") {
            let term = String(term)
            var parsed = false
            for (op, equal) in [("!=", false), ("==", true), ("=", true)] {
                if let range = term.range(of: op) {
                    let field = term[..<range.lowerBound].trimmingCharacters(in: .whitespaces)
                    let value = term[range.upperBound...].trimmingCharacters(in: .whitespaces)
                    requirements.append((field.split(separator: ".").map(String.init), value, equal))
                    parsed = true
                    break
                }
            }
            if !parsed { throw APIError.badRequest("invalid selector: '\(text)'; can't understand '\(term)'") }
        }
    }

    func matches(_ object: JSONValue) -> Bool {
        requirements.allSatisfy { requirement in
            let actual: String
            switch object[path: requirement.path] {
            case .string(let text): actual = text
            case .int(let number): actual = String(number)
            case .bool(let flag): actual = String(flag)
            default: actual = ""
            }
            return (actual == requirement.value) == requirement.equal
        }
    }
}
