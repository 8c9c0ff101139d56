public import DRCore
import Foundation

/// A Kubernetes label selector (`app=web,tier!=cache,env in (a,b),!legacy`), for
/// filtering objects read from a file; the API server filters cluster reads itself.
public struct LabelSelector: Sendable, Equatable {
    enum Requirement: Sendable, Equatable {
        case equals(String, String)
        case notEquals(String, String)
        case isIn(String, [String])
        case notIn(String, [String])
        case exists(String)
        case doesNotExist(String)
    }

    var requirements: [Requirement]

    /// Parses selector text; throws a config-style error naming the bad part.
    public init(parsing text: String) throws {
        requirements = []
        for part in Self.splitTopLevel(text) {
            let term = part.trimmingWhitespace()
            if term.isEmpty { continue }
            requirements.append(try Self.requirement(term, in: text))
        }
    }

    /// Whether an object's `metadata.labels` satisfy every requirement.
    public func matches(_ object: JSONValue) -> Bool {
        let labels = object[path: ["metadata", "labels"]]?.objectValue ?? [:]
        func value(_ key: String) -> String? { labels[key]?.stringValue }
        return requirements.allSatisfy { requirement in
            switch requirement {
            case .equals(let key, let wanted): value(key) == wanted
            case .notEquals(let key, let unwanted): value(key) != unwanted
            case .isIn(let key, let set): value(key).map(set.contains) ?? false
            case .notIn(let key, let set): !(value(key).map(set.contains) ?? false)
            case .exists(let key): value(key) != nil
            case .doesNotExist(let key): value(key) == nil
            }
        }
    }

    /// Splits on commas outside parentheses.
    static func splitTopLevel(_ text: String) -> [String] {
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

    static func requirement(_ term: String, in text: String) throws -> Requirement {
        func bad() -> DRError {
            DRError(.config, "label selector `\(text)`: cannot parse `\(term)`",
                    hint: "use key=value, key!=value, key in (a,b), key notin (a,b), key or !key")
        }
        if term.hasPrefix("!") {
            let key = String(term.dropFirst()).trimmingWhitespace()
            guard !key.isEmpty else { throw bad() }
            return .doesNotExist(key)
        }
        for (op, make) in [("!=", Requirement.notEquals), ("==", Requirement.equals), ("=", Requirement.equals)] {
            if let range = term.range(of: op) {
                let key = String(term[..<range.lowerBound]).trimmingWhitespace()
                let value = String(term[range.upperBound...]).trimmingWhitespace()
                guard !key.isEmpty else { throw bad() }
                return make(key, value)
            }
        }
        let words = term.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true).map(String.init)
        if words.count == 1 { return .exists(words[0]) }
        guard words.count == 3, words[1] == "in" || words[1] == "notin",
              words[2].hasPrefix("("), words[2].hasSuffix(")") else { throw bad() }
        let set = words[2].dropFirst().dropLast().split(separator: ",").map { String($0).trimmingWhitespace() }
        return words[1] == "in" ? .isIn(words[0], set) : .notIn(words[0], set)
    }
}
