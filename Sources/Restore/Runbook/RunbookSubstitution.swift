internal import DRCore

extension RunbookStep {
    /// This step with its `{{name}}` placeholders replaced by `params`.
    ///
    /// In `sh` scripts and `check` probes the value is inserted as one single-quoted shell
    /// word, so `'`, `$(…)` and spaces stay literal; a placeholder inside quotes or a
    /// here-document is an error. In `drctl` blocks the value is inserted verbatim into the
    /// YAML string values, after the YAML was parsed, so a value cannot change its structure.
    ///
    /// - Parameter origin: The runbook's file, for messages (`FILE:LINE: …`).
    /// - Throws: ``DRError`` `.config` naming the step, its line and the unknown parameter.
    public func substituting(params: [String: String], origin: String? = nil) throws -> RunbookStep {
        var step = self
        switch body {
        case .shell(let script):
            step.body = .shell(try substituteShell(script, params: params, what: "script", origin: origin))
        case .action(let name, let arguments):
            step.body = .action(name: name, arguments: try substituteValues(arguments, params: params, origin: origin))
        }
        if let check {
            step.check = try substituteShell(check, params: params, what: "check", origin: origin)
        }
        return step
    }

    private func error(_ message: String, origin: String?) -> DRError {
        let place = origin.map { "\($0):\(line)" } ?? "line \(line)"
        return DRError(.config, "\(place): step `\(id)`: \(message)")
    }

    private func unknown(_ name: String, params: [String: String], origin: String?) -> DRError {
        let known = params.keys.sorted()
        var message = "unknown parameter `{{\(name)}}`"
        if let match = RunbookSuggestion.closest(to: name, in: known) { message += "; did you mean `{{\(match)}}`?" }
        message += known.isEmpty ? "; the runbook declares no parameters (add them under `params:` in the front matter)"
            : "; known parameters: \(known.joined(separator: ", "))"
        return error(message, origin: origin)
    }

    private func substituteShell(_ script: String, params: [String: String], what: String, origin: String?) throws -> String {
        let placeholders = ParamTemplate.placeholders(in: script)
        let contexts = ShellQuoting.contexts(in: script, at: placeholders.map(\.offset))
        for (placeholder, context) in zip(placeholders, contexts) {
            let token = "{{\(placeholder.name)}}"
            switch context {
            case .singleQuoted, .doubleQuoted:
                throw error("`\(token)` in the \(what) is inside quotes; drctl inserts parameter values already single-quoted, so write it without quotes (`\(token)`, not `\"\(token)\"`)", origin: origin)
            case .hereDocument:
                throw error("`\(token)` in the \(what) is inside a here-document, where quoting does not apply; assign it to a variable first (`name=\(token)`) and use \"$name\"", origin: origin)
            case .unquoted, .comment:
                break
            }
        }
        do throws(ParamTemplate.Unknown) {
            return try ParamTemplate.substitute(script, params: params, transform: ShellQuoting.quote)
        } catch {
            throw unknown(error.name, params: params, origin: origin)
        }
    }

    private func substituteValues(_ value: JSONValue, params: [String: String], origin: String?) throws -> JSONValue {
        switch value {
        case .string(let text):
            do throws(ParamTemplate.Unknown) {
                return .string(try ParamTemplate.substitute(text, params: params))
            } catch {
                throw unknown(error.name, params: params, origin: origin)
            }
        case .array(let items):
            return .array(try items.map { try substituteValues($0, params: params, origin: origin) })
        case .object(let members):
            var result: [String: JSONValue] = [:]
            for (key, member) in members { result[key] = try substituteValues(member, params: params, origin: origin) }
            return .object(result)
        case .null, .bool, .int, .double:
            return value
        }
    }
}

extension Runbook {
    /// The runbook with every step's placeholders replaced by ``params``
    /// (see ``RunbookStep/substituting(params:origin:)``).
    public func substitutingParams() throws -> Runbook {
        var result = self
        result.steps = try steps.map { try $0.substituting(params: params, origin: origin) }
        return result
    }

    /// The names of the parameters the steps use, sorted.
    public var usedParams: [String] {
        var names = Set<String>()
        func collect(_ text: String) { for placeholder in ParamTemplate.placeholders(in: text) { names.insert(placeholder.name) } }
        func collect(_ value: JSONValue) {
            switch value {
            case .string(let text): collect(text)
            case .array(let items): items.forEach(collect)
            case .object(let members): members.values.forEach(collect)
            case .null, .bool, .int, .double: break
            }
        }
        for step in steps {
            switch step.body {
            case .shell(let script): collect(script)
            case .action(_, let arguments): collect(arguments)
            }
            if let check = step.check { collect(check) }
        }
        return names.sorted()
    }
}
