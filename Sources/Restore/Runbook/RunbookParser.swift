internal import DRCore
public import Foundation
internal import Crypto

/// Reads executable Markdown into a ``Runbook`` (`Runbooks/README.md` documents the format).
///
/// Every problem is a ``DRError`` with code `.config` reading `FILE:LINE: message`, where
/// FILE is the runbook's origin and LINE the offending fence, attribute or YAML line.
public enum RunbookParser {
    /// The largest runbook accepted, in bytes (1 MiB; the shipped ones are under 10 KiB).
    public static let maximumSize = 1 << 20

    /// Parses a runbook from the file's bytes (the content hash is taken over them).
    ///
    /// - Parameters:
    ///   - data: The file's exact bytes (UTF-8).
    ///   - name: The runbook's name (the file stem).
    ///   - origin: Where it was read from, used in messages: a path or `builtin:NAME.md`.
    public static func parse(data: Data, name: String, origin: String) throws -> Runbook {
        guard data.count <= maximumSize else {
            throw DRError(.config, "\(origin): the runbook is larger than 1 MiB; expected a Markdown runbook")
        }
        guard let text = String(validating: [UInt8](data), as: UTF8.self) else {
            throw DRError(.config, "\(origin): the runbook is not valid UTF-8 text")
        }
        return try parse(text: text, hashing: data, name: name, origin: origin)
    }

    /// Parses a runbook from text (the content hash is taken over its UTF-8 bytes).
    public static func parse(text: String, name: String, origin: String) throws -> Runbook {
        guard text.utf8.count <= maximumSize else {
            throw DRError(.config, "\(origin): the runbook is larger than 1 MiB; expected a Markdown runbook")
        }
        return try parse(text: text, hashing: Data(text.utf8), name: name, origin: origin)
    }

    /// SHA-256 of `data`, lowercase hex: a runbook's ``Runbook/contentHash``.
    public static func contentHash(of data: Data) -> String {
        SHA256.hash(data: data).hexString
    }

    private static func parse(text: String, hashing data: Data, name: String, origin: String) throws -> Runbook {
        func error(_ line: Int, _ message: String) -> DRError {
            DRError(.config, "\(origin):\(line): \(message)")
        }
        var body = Substring(text)
        if body.hasPrefix("\u{FEFF}") { body = body.dropFirst() }
        // "\r\n" is one Character in Swift.
        let lines = body.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" }

        // Front matter.
        var frontMatter = RunbookFrontMatter()
        var markdownStart = 0
        if let first = lines.first, MarkdownScanner.trim(first) == "---" {
            guard let end = lines.indices.dropFirst().first(where: { ["---", "..."].contains(MarkdownScanner.trim(lines[$0])) }) else {
                throw error(1, "the front matter is not closed: add a `---` line after its last key")
            }
            do throws(RunbookFrontMatter.Problem) {
                frontMatter = try RunbookFrontMatter(yaml: lines[1..<end].joined(separator: "\n"))
            } catch let problem {
                throw error((problem.line ?? 0) + 1, "front matter: \(problem.message)")
            }
            markdownStart = end + 1
        }

        let document: MarkdownScanner
        do throws(MarkdownScanner.Unterminated) {
            document = try MarkdownScanner(lines: Array(lines[markdownStart...]), firstLine: markdownStart + 1)
        } catch let unterminated {
            throw error(unterminated.line, "this \(unterminated.fence) fence is never closed; close it with a line of at least \(unterminated.fence.count) `\(unterminated.fence.prefix(1))` characters")
        }
        guard let title = document.headings.first(where: { $0.level == 1 }) else {
            throw error(markdownStart + 1, "the runbook has no title; start it with a `# Title` heading")
        }

        var steps: [RunbookStep] = []
        var firstLine: [String: Int] = [:]
        for fence in document.fences {
            guard let step = try step(fence, defaultTitle: title.text, error: error) else { continue }
            if let line = firstLine[step.id] {
                throw error(fence.line, "duplicate step id `\(step.id)` (first used on line \(line)); step ids must be unique")
            }
            firstLine[step.id] = fence.line
            // Every placeholder must name a declared parameter, and sit where quoting works.
            _ = try step.substituting(params: frontMatter.params, origin: origin)
            steps.append(step)
        }
        guard !steps.isEmpty else {
            throw error(title.line, "the runbook has no steps; a step is a ```sh or ```drctl block whose info string has `{id=…}`")
        }
        return Runbook(name: name, title: title.text, origin: origin, contentHash: contentHash(of: data),
                       requires: frontMatter.requires, params: frontMatter.params, steps: steps)
    }

    /// The step a fence defines, or nil for prose.
    private static func step(_ fence: MarkdownScanner.Fence, defaultTitle: String,
                             error: (Int, String) -> DRError) throws -> RunbookStep? {
        let info: InfoString
        do throws(InfoString.Malformed) {
            info = try InfoString(fence.info)
        } catch let malformed {
            throw error(fence.line, "step attributes: \(malformed.message)")
        }
        guard let attributes = info.attributes else { return nil }
        guard attributes.contains(where: { $0.key == "id" }) else {
            if let known = attributes.first(where: { InfoString.keys.contains($0.key) }) {
                throw error(fence.line, "this block has the step attribute `\(known.key)` but no `id=`; add an id to make it a step, or remove the attributes")
            }
            return nil
        }

        var settings = StepSettings()
        var seen: Set<String> = []
        for attribute in attributes {
            guard seen.insert(attribute.key).inserted else {
                throw error(fence.line, "step attribute `\(attribute.key)` is given twice")
            }
            if let message = settings.set(attribute.key, attribute.value) {
                throw error(fence.line, message)
            }
        }
        guard let id = settings.id else { return nil }

        let body: RunbookStep.Body
        switch info.language {
        case "sh":
            guard !fence.body.allSatisfy(\.isWhitespace) else {
                throw error(fence.line, "step `\(id)`: the sh block is empty; write the commands to run")
            }
            body = .shell(fence.body)
        case "drctl":
            let block: ActionBlock
            do throws(ActionBlock.Problem) {
                block = try ActionBlock(yaml: fence.body + "\n")
            } catch let problem {
                let line = problem.line.map { fence.bodyLine + $0 - 1 } ?? fence.line
                throw error(line, "drctl block `\(id)` (opened on line \(fence.line)): \(problem.message)")
            }
            for setting in block.settings {
                let line = setting.line.map { fence.bodyLine + $0 - 1 } ?? fence.line
                guard seen.insert(setting.key).inserted else {
                    throw error(line, "step `\(id)`: `\(setting.key)` is set both in the info string (line \(fence.line)) and in the YAML; keep one")
                }
                if let message = settings.set(setting.key, setting.value) {
                    throw error(line, "step `\(id)`: \(message)")
                }
            }
            body = .action(name: block.name, arguments: block.arguments)
        case "":
            throw error(fence.line, "step `\(id)` has no language; write ```sh for a shell step or ```drctl for a built-in action")
        default:
            var message = "step `\(id)` is a `\(info.language)` block; only `sh` (shell, run with /bin/sh -e) and `drctl` (a built-in action) blocks can be steps"
            if ["bash", "shell", "console", "zsh"].contains(info.language) { message += "; write ```sh" }
            throw error(fence.line, message)
        }

        var step = RunbookStep(id: id, title: fence.heading?.text ?? defaultTitle, line: fence.line, body: body)
        step.timeout = settings.timeout
        if let retries = settings.retries { step.retries = retries }
        if let delay = settings.delay { step.delay = delay }
        if let confirm = settings.confirm { step.confirm = confirm }
        if let onFailure = settings.onFailure { step.onFailure = onFailure }
        step.check = settings.check
        step.drillSafe = settings.drillSafe ?? false
        return step
    }
}
