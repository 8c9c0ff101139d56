internal import Yams

// The `runbook_params:` section: parameter overrides for runbooks, by runbook name.
//
//     runbook_params:
//       corrupted-repo:
//         git_source: gitops
//         apps: [wordpress, plugin-deployer]   # a list is joined with commas
//
// Whether each runbook declares the parameters is checked when the runbook is loaded
// (the configuration does not know the runbooks).

extension DRConfig {
    /// Parses `runbook_params:`; empty when absent.
    static func parseRunbookParams(_ top: MappingReader) throws(ConfigError) -> [String: [String: String]] {
        let expected = "a mapping of runbook names to mappings of parameter values"
        guard let section = try top.mapping("runbook_params", expected: expected) else { return [:] }
        var result: [String: [String: String]] = [:]
        for entry in section.entries {
            if let reason = validateRunbookName(entry.key) {
                throw section.ctx.error(entry.keyMark, section.field(entry.key), reason)
            }
            let params = try MappingReader(entry.value, path: section.field(entry.key), typeMark: entry.keyMark,
                                           expected: "a mapping of parameter names to values", ctx: section.ctx)
            var values: [String: String] = [:]
            for param in params.entries {
                let field = params.field(param.key)
                if let reason = validateRunbookParamName(param.key) {
                    throw params.ctx.error(param.keyMark, field, reason)
                }
                values[param.key] = try runbookParamValue(param.value, field: field, keyMark: param.keyMark, ctx: params.ctx)
            }
            result[entry.key] = values
        }
        return result
    }

    /// A parameter value: a string (numbers as their text), or a list of strings joined with commas.
    private static func runbookParamValue(_ node: Node, field: String, keyMark: Mark?, ctx: ParseContext) throws(ConfigError) -> String {
        let expected = "a string, or a list of strings (joined with commas)"
        guard case .sequence(let items) = node else {
            return try scalarText(node, field: field, typeMark: keyMark, expected: expected, ctx: ctx, allowEmpty: true)
        }
        var parts: [String] = []
        for (index, item) in items.enumerated() {
            let itemField = "\(field)[\(index)]"
            let text = try scalarText(item, field: itemField, typeMark: item.mark, expected: "a string", ctx: ctx)
            if text.contains(",") {
                throw ctx.error(item.mark, itemField, "list items are joined with commas, so an item must not contain one; write a single string instead")
            }
            parts.append(text)
        }
        return parts.joined(separator: ",")
    }
}

/// Checks a runbook name (a file stem): `^[a-z0-9][a-z0-9._-]*$`, at most 100 characters.
func validateRunbookName(_ s: String) -> String? {
    let scalars = Array(s.unicodeScalars)
    func isAlnum(_ c: Unicode.Scalar) -> Bool { ("a"..."z").contains(c) || ("0"..."9").contains(c) }
    guard let first = scalars.first, isAlnum(first), scalars.count <= 100,
          scalars.allSatisfy({ isAlnum($0) || $0 == "." || $0 == "_" || $0 == "-" })
    else {
        return "invalid runbook name `\(s)`: expected the file name without `.md`: a-z, 0-9, `.`, `_`, `-`, starting with a letter or digit"
    }
    return nil
}

/// Checks a runbook parameter name: `^[A-Za-z_][A-Za-z0-9_]*$`.
func validateRunbookParamName(_ s: String) -> String? {
    let scalars = Array(s.unicodeScalars)
    func isLetter(_ c: Unicode.Scalar) -> Bool { ("a"..."z").contains(c) || ("A"..."Z").contains(c) || c == "_" }
    guard let first = scalars.first, isLetter(first), scalars.allSatisfy({ isLetter($0) || ("0"..."9").contains($0) }) else {
        return "invalid parameter name `\(s)`: expected letters, digits and `_`, not starting with a digit"
    }
    return nil
}
