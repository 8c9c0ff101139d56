public import DRCore
import Foundation

/// `{{param}}` substitution in step bodies and probes.
///
/// Kept apart so the runbook loader's own substitution can replace it. Only
/// `{{ name }}` with a parameter-like name (`[A-Za-z_][A-Za-z0-9_.-]*`) is substituted;
/// other braces (Go templates such as `{{.metadata.name}}`) are left alone.
public enum ParamSubstitution {
    /// `text` with every `{{name}}` replaced by its parameter value; an unknown name is an error.
    public static func substitute(_ text: String, params: [String: String]) throws -> String {
        var result = ""
        var rest = Substring(text)
        while let open = rest.range(of: "{{") {
            result += rest[..<open.lowerBound]
            let after = rest[open.upperBound...]
            guard let close = after.range(of: "}}") else {
                result += rest[open.lowerBound...]
                return result
            }
            let name = after[..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            if isParameterName(name) {
                guard let value = params[name] else {
                    let known = params.keys.sorted().joined(separator: ", ")
                    throw DRError(.config, "unknown parameter {{\(name)}}",
                                  hint: known.isEmpty ? "the runbook declares no params" : "known params: \(known)")
                }
                result += value
            } else {
                result += rest[open.lowerBound..<close.upperBound]
            }
            rest = after[close.upperBound...]
        }
        result += rest
        return result
    }

    /// `value` with every string (not keys) substituted.
    public static func substitute(_ value: JSONValue, params: [String: String]) throws -> JSONValue {
        switch value {
        case .string(let text): return .string(try substitute(text, params: params))
        case .array(let items): return .array(try items.map { try substitute($0, params: params) })
        case .object(let members): return .object(try members.mapValues { try substitute($0, params: params) })
        case .null, .bool, .int, .double: return value
        }
    }

    private static func isParameterName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first == "_" || first.isASCIILetter else { return false }
        return name.unicodeScalars.allSatisfy { $0.isASCIILetter || ("0"..."9").contains($0) || "_.-".unicodeScalars.contains($0) }
    }
}

extension Unicode.Scalar {
    fileprivate var isASCIILetter: Bool { ("a"..."z").contains(self) || ("A"..."Z").contains(self) }
}
