public import DRCore
internal import Foundation

/// Finds runbooks: edited copies in `runbooks_dir:` first, then the copies built into drctl.
public enum RunbookLoader {
    /// One runbook `drctl restore --list` shows.
    public struct Listing: Sendable, Equatable {
        /// The name `drctl restore NAME` takes.
        public var name: String
        /// The runbook's `# ` title; empty when it does not parse.
        public var title: String
        /// A path, or `builtin:NAME.md`.
        public var origin: String
        /// Why the runbook does not parse, if it does not.
        public var problem: String?

        public init(name: String, title: String, origin: String, problem: String? = nil) {
            self.name = name
            self.title = title
            self.origin = origin
            self.problem = problem
        }
    }

    /// Loads runbook `name` (`corrupted-repo`; a trailing `.md` is ignored) with the
    /// parameter overrides of `runbook_params:` applied.
    ///
    /// - Throws: ``DRError`` `.notFound` listing the known runbooks; `.config` for a
    ///   runbook that does not parse, a missing `runbooks_dir`, or an override of a
    ///   parameter the runbook does not declare.
    public static func load(name: String, config: DRConfig) throws -> Runbook {
        let name = name.hasSuffix(".md") ? String(name.dropLast(3)) : name
        guard isValidName(name) else {
            throw DRError(.notFound, "`\(name)` is not a runbook name (a file name without `.md`: a-z, 0-9, `.`, `_`, `-`)",
                          hint: "run `drctl restore --list` to see the runbooks")
        }
        let directory = try runbooksDirectory(config)
        let files = directory.map(fileNames(in:)) ?? [:]
        let known = Set(files.keys).union(EmbeddedRunbooks.files.keys.map { String($0.dropLast(3)) }).sorted()
        try checkOverrideNames(config, known: known)
        var runbook: Runbook
        if let path = files[name] {
            let data: Data
            do {
                // At most one byte past the limit: a runbook that is a link to /dev/zero is not read forever.
                let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
                defer { try? handle.close() }
                data = try handle.read(upToCount: RunbookParser.maximumSize + 1) ?? Data()
            } catch {
                throw DRError(.io, "cannot read runbook \(path)", cause: error)
            }
            runbook = try RunbookParser.parse(data: data, name: name, origin: path)
        } else if let text = EmbeddedRunbooks.files[name + ".md"] {
            runbook = try RunbookParser.parse(text: text, name: name, origin: "builtin:\(name).md")
        } else {
            var message = "no runbook named `\(name)`"
            if let match = RunbookSuggestion.closest(to: name, in: known) { message += "; did you mean `\(match)`?" }
            throw DRError(.notFound, message + "; known runbooks: \(known.joined(separator: ", "))",
                          hint: config.runbooksDir.map { "edited runbooks are read from \($0) (runbooks_dir) as NAME.md" })
        }
        try applyOverrides(config.runbookParams[name] ?? [:], to: &runbook, config: config)
        return runbook
    }

    /// Every runbook, by name: those in `runbooks_dir` replace built-in ones of the same name.
    public static func list(config: DRConfig) throws -> [Listing] {
        var listings: [String: Listing] = [:]
        for (file, text) in EmbeddedRunbooks.files {
            let name = String(file.dropLast(3))
            listings[name] = listing(name: name, origin: "builtin:\(file)") {
                try RunbookParser.parse(text: text, name: name, origin: "builtin:\(file)")
            }
        }
        if let directory = try runbooksDirectory(config) {
            for (name, path) in fileNames(in: directory) {
                listings[name] = listing(name: name, origin: path) {
                    try RunbookParser.parse(data: try Data(contentsOf: URL(fileURLWithPath: path)), name: name, origin: path)
                }
            }
        }
        return listings.values.sorted { $0.name < $1.name }
    }

    private static func listing(name: String, origin: String, parse: () throws -> Runbook) -> Listing {
        do {
            return Listing(name: name, title: try parse().title, origin: origin)
        } catch {
            return Listing(name: name, title: "", origin: origin, problem: DRError.describe(error))
        }
    }

    /// The configured `runbooks_dir`, which must be a folder when set.
    private static func runbooksDirectory(_ config: DRConfig) throws -> String? {
        guard let directory = config.runbooksDir else { return nil }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw DRError(.config, "\(config.file): runbooks_dir: \(directory) is not a folder",
                          hint: "create it, or remove `runbooks_dir:` to use the runbooks built into drctl")
        }
        return directory
    }

    /// `NAME.md` files of a folder (not README.md), by name.
    private static func fileNames(in directory: String) -> [String: String] {
        var result: [String: String] = [:]
        for file in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] {
            guard file.hasSuffix(".md"), file != "README.md" else { continue }
            let name = String(file.dropLast(3))
            guard isValidName(name) else { continue }
            result[name] = directory + "/" + file
        }
        return result
    }

    /// `[a-z0-9][a-z0-9._-]*`, at most 100 characters (as `runbook_params:` keys).
    static func isValidName(_ name: String) -> Bool {
        let scalars = Array(name.unicodeScalars)
        func alnum(_ c: Unicode.Scalar) -> Bool { ("a"..."z").contains(c) || ("0"..."9").contains(c) }
        guard let first = scalars.first, alnum(first), scalars.count <= 100 else { return false }
        return scalars.allSatisfy { alnum($0) || $0 == "." || $0 == "_" || $0 == "-" }
    }

    /// Every runbook named in `runbook_params:` must exist: overrides for a misspelt name
    /// would otherwise be ignored silently, in the middle of an incident.
    private static func checkOverrideNames(_ config: DRConfig, known: [String]) throws {
        for name in config.runbookParams.keys.sorted() where !known.contains(name) {
            var message = "\(config.file): runbook_params.\(name): no runbook named `\(name)`"
            if let match = RunbookSuggestion.closest(to: name, in: known) { message += "; did you mean `\(match)`?" }
            throw DRError(.config, message + "; known runbooks: \(known.joined(separator: ", "))")
        }
    }

    /// Applies `runbook_params:` values; each must be a parameter the runbook declares.
    private static func applyOverrides(_ overrides: [String: String], to runbook: inout Runbook, config: DRConfig) throws {
        let declared = runbook.params.keys.sorted()
        for (key, value) in overrides.sorted(by: { $0.key < $1.key }) {
            guard runbook.params[key] != nil else {
                var message = "\(config.file): runbook_params.\(runbook.name).\(key): runbook `\(runbook.name)` (\(runbook.origin)) has no parameter `\(key)`"
                if let match = RunbookSuggestion.closest(to: key, in: declared) { message += "; did you mean `\(match)`?" }
                message += declared.isEmpty ? "; it declares none" : "; it declares: \(declared.joined(separator: ", "))"
                throw DRError(.config, message)
            }
            runbook.params[key] = value
        }
    }
}

extension Runbook {
    /// True for the copy compiled into drctl (origin `builtin:NAME.md`).
    public var isBuiltin: Bool { origin.hasPrefix("builtin:") }

    /// The folder of the runbook file, against which relative paths in its arguments
    /// resolve; nil for a built-in runbook.
    public var directory: String? {
        guard !isBuiltin, let slash = origin.lastIndex(of: "/") else { return nil }
        return slash == origin.startIndex ? "/" : String(origin[..<slash])
    }
}
