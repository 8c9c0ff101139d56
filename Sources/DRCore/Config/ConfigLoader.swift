internal import Foundation
internal import Yams

extension DRConfig {
    /// The largest configuration file accepted, in bytes (1 MiB).
    public static let maximumFileSize = 1 << 20

    /// The keys allowed at the top level of `drctl.yaml`.
    static let topLevelKeys = ["repository", "catalog", "data_dir", "encryption", "cluster", "sources",
                               "runbooks_dir", "runbook_params", "metrics_file", "notify", "on_locked", "drills", "verify",
                               "catalog_copies", "repositories"]

    /// Reads and parses the configuration file at `path`.
    ///
    /// - Parameters:
    ///   - path: The file to read; relative paths are taken from the process's current directory.
    ///   - environment: Supplies `HOME` for `~` expansion.
    /// - Throws: ``ConfigError`` for a file that is too large, not UTF-8 or invalid;
    ///   ``DRError`` (`.notFound`, `.io`) when it cannot be read.
    public static func load(path: String, environment: [String: String]) throws -> DRConfig {
        let file = absoluteFile(path)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: file, isDirectory: &isDirectory) else {
            throw DRError(.notFound, "configuration file \(file) does not exist",
                          hint: "run `drctl init` to create one, or pass --config PATH")
        }
        if isDirectory.boolValue {
            throw DRError(.config, "configuration path \(file) is a directory, expected a YAML file")
        }
        let data: Data
        do {
            let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: file))
            defer { try? handle.close() }
            data = try handle.read(upToCount: maximumFileSize + 1) ?? Data()
        } catch {
            throw DRError(.io, "cannot read configuration file \(file)", cause: error)
        }
        if data.count > maximumFileSize {
            throw ConfigError(file: file, field: "",
                              message: "file is larger than 1 MiB; expected a small YAML configuration file")
        }
        let text = try decodeUTF8(data, file: file)
        return try parse(text: text, path: file, environment: environment)
    }

    /// Parses configuration text as if read from `path`.
    ///
    /// - Parameters:
    ///   - text: The YAML document.
    ///   - path: Where the text came from: shown in errors and the base for relative paths.
    ///   - environment: Supplies `HOME` for `~` expansion.
    /// - Throws: ``ConfigError`` describing the first problem found.
    public static func parse(text: String, path: String, environment: [String: String]) throws -> DRConfig {
        // Some editors start UTF-8 files with a byte order mark, which libyaml reads as content.
        var text = text
        if text.unicodeScalars.first == "\u{FEFF}" { text.unicodeScalars.removeFirst() }
        let file = absoluteFile(path)
        if text.utf8.count > maximumFileSize {
            throw ConfigError(file: file, field: "",
                              message: "file is larger than 1 MiB; expected a small YAML configuration file")
        }
        let ctx = ParseContext(file: file, baseDirectory: ConfigPaths.directory(of: file), environment: environment)
        let root: Node?
        do {
            try YAMLAliasGuard.check(text)
            root = try Yams.compose(yaml: text)
        } catch let violation as YAMLAliasGuard.Violation {
            throw ConfigError(file: file, line: violation.line, field: "", message: violation.message)
        } catch let error as YamlError {
            throw yamlError(error, text: text, ctx: ctx)
        }
        guard let root else {
            throw ctx.error(nil, "", "the file is empty; expected a mapping with at least `repository`, `catalog` and `sources`")
        }
        return try parseDocument(root, file: file, ctx: ctx)
    }

    private static func absoluteFile(_ path: String) -> String {
        if path.hasPrefix("/") { return ConfigPaths.standardize(path) }
        return ConfigPaths.standardize(FileManager.default.currentDirectoryPath + "/" + path)
    }

    private static func parseDocument(_ root: Node, file: String, ctx: ParseContext) throws(ConfigError) -> DRConfig {
        let top = try MappingReader(root, path: "", typeMark: root.mark,
                                    expected: "a mapping of settings at the top level", ctx: ctx)
        try top.checkKeys(topLevelKeys)

        let repositories = try parseRepositories(top)
        let catalog = try top.requiredPath("catalog", expected: "a string (the SQLite catalog file path)")
        let dataDir = try top.path("data_dir", required: false, expected: "a string (a directory path)")
            ?? ConfigPaths.directory(of: catalog)

        var encryption: EncryptionConfig?
        if let section = try top.mapping("encryption", expected: "a mapping with `recipients` and optional `identity`") {
            encryption = try parseEncryption(section)
        }
        var cluster: ClusterConfig?
        if let section = try top.mapping("cluster", expected: "a mapping with optional `kubeconfig` and `context`") {
            try section.checkKeys(["kubeconfig", "context"])
            cluster = ClusterConfig(
                kubeconfig: try section.path("kubeconfig", required: false),
                context: try section.string("context", required: false, expected: "a string (a kubeconfig context name)"))
        }

        let sourceNodes = try top.requiredSequence("sources", expected: "a list of sources (may be empty: `sources: []`)")
        var sources: [SourceConfig] = []
        var firstLine: [String: Int] = [:]
        for (index, node) in sourceNodes.enumerated() {
            let source = try parseSource(node, index: index, ctx: ctx)
            if let line = firstLine[source.name] {
                let mark = try? MappingReader(node, path: "", typeMark: nil, expected: "", ctx: ctx).entry("name")?.value.mark
                throw ctx.error(mark ?? node.mark, "sources[\(index)].name",
                                "duplicate source name `\(source.name)` (first used on line \(line)); source names must be unique")
            }
            firstLine[source.name] = source.line
            sources.append(source)
        }
        for (index, source) in sources.enumerated() {
            for name in source.copyTo ?? [] where !repositories.contains(where: { $0.name == name }) {
                throw ConfigError(file: file, line: source.copyToLine, column: nil, field: "sources[\(index)].copy_to",
                                  message: "no repository named `\(name)`; configured: \(repositories.map(\.name).joined(separator: ", "))")
            }
        }
        // Secrets are never stored in plain text: refuse the config rather than the backup at 3 a.m.
        if encryption?.recipients.isEmpty ?? true,
           let index = sources.firstIndex(where: { $0.kind.holdsKubernetesObjects }) {
            throw ctx.error(sourceNodes[index].mark, "sources[\(index)]",
                            "source `\(sources[index].name)` of kind `\(sources[index].kind.rawValue)` holds Secrets, which drctl always encrypts, but `encryption.recipients` is empty; add a recipient (`drctl keygen` prints one)")
        }
        let runbooksDir = try top.path("runbooks_dir", required: false, expected: "a string (a folder of runbook files)")
        let runbookParams = try parseRunbookParams(top)
        var config = DRConfig(file: file, repositories: repositories, catalog: catalog, dataDir: dataDir,
                              encryption: encryption, cluster: cluster, sources: sources,
                              runbooksDir: runbooksDir, runbookParams: runbookParams)
        config.metricsFile = try top.path("metrics_file", required: false, expected: "a string (a .prom file for node_exporter's textfile collector)")
        if let section = try top.mapping("notify", expected: "a mapping with `webhook` and optional `on`") {
            try section.checkKeys(["webhook", "on"])
            let webhook = try section.requiredString("webhook", expected: "a string (an http:// or https:// URL)")
            guard webhook.hasPrefix("https://") || webhook.hasPrefix("http://") else {
                throw section.ctx.error(section.entry("webhook")?.value.mark, section.field("webhook"), "expected an http:// or https:// URL")
            }
            var events = NotifyConfig.Event.allCases
            if section.entry("on") != nil {
                let known = NotifyConfig.Event.allCases.map(\.rawValue)
                events = []
                for (index, name) in try section.strings("on", expected: "a list of events").enumerated() {
                    guard let event = NotifyConfig.Event(rawValue: name) else {
                        throw section.ctx.error(section.entry("on")?.value.mark, "\(section.field("on"))[\(index)]",
                                                "unknown event `\(name)`; known events: \(known.joined(separator: ", "))")
                    }
                    events.append(event)
                }
            }
            config.notify = NotifyConfig(webhook: webhook, on: events)
        }
        if let text = try top.string("on_locked", required: false, expected: "`skip` or `wait`") {
            guard let policy = LockPolicy(rawValue: text) else {
                throw top.ctx.error(top.entry("on_locked")?.value.mark, "on_locked", "expected `skip` or `wait`, found `\(text)`")
            }
            config.onLocked = policy
        }
        if let copies = try top.bool("catalog_copies") { config.catalogCopies = copies }
        if let section = try top.mapping("verify", expected: "a mapping with `schedule` and optional `timezone`, `read_data` or `read_data_subset`") {
            config.verify = try parseVerify(section)
        }
        if let section = try top.mapping("drills", expected: "a mapping with optional `cluster`, `sandbox_dir`, `namespace_suffix` and `runbooks`") {
            config.drills = try parseDrills(section, production: cluster, dataDir: dataDir)
        }
        return config
    }

    /// `verify:`: a schedule and how deep each scheduled verification reads.
    private static func parseVerify(_ section: MappingReader) throws(ConfigError) -> VerifyScheduleConfig {
        try section.checkKeys(["schedule", "timezone", "read_data", "read_data_subset"])
        let schedule = try section.requiredString("schedule", expected: "a string (a cron line or a macro like @weekly)")
        if let reason = validateScheduleShape(schedule) {
            throw section.ctx.error(section.entry("schedule")?.value.mark, section.field("schedule"), reason)
        }
        var config = VerifyScheduleConfig(schedule: schedule, line: section.mark?.line ?? 0)
        if let zone = try section.string("timezone", required: false, expected: "an IANA time zone name such as Europe/Warsaw") {
            guard TimeZone(identifier: zone) != nil else {
                throw section.ctx.error(section.entry("timezone")?.value.mark, section.field("timezone"),
                                        "unknown time zone `\(zone)`; expected an IANA name such as UTC, Europe/Warsaw or America/New_York")
            }
            config.timeZone = zone
        }
        config.readData = try section.bool("read_data") ?? false
        if let text = try section.string("read_data_subset", required: false, expected: "a percentage such as 10%") {
            let number = text.hasSuffix("%") ? String(text.dropLast()) : text
            guard let value = Double(number), value > 0, value <= 100 else {
                throw section.ctx.error(section.entry("read_data_subset")?.value.mark, section.field("read_data_subset"),
                                        "expected a percentage between 0 and 100 such as 10%, found `\(text)`")
            }
            guard !config.readData else {
                throw section.ctx.error(section.entry("read_data_subset")?.value.mark, section.field("read_data_subset"),
                                        "give `read_data: true` or `read_data_subset`, not both")
            }
            config.subsetPercent = value
        }
        return config
    }

    /// `drills:`; a drill cluster that is the production one (same kubeconfig and context) is refused.
    private static func parseDrills(_ section: MappingReader, production: ClusterConfig?, dataDir: String) throws(ConfigError) -> DrillsConfig {
        try section.checkKeys(["cluster", "sandbox_dir", "namespace_suffix", "runbooks"])
        var drills = DrillsConfig(
            sandboxDir: try section.path("sandbox_dir", required: false, expected: "a string (a folder for drill sandboxes)")
                ?? "\(dataDir)/drills")
        if let suffix = try section.string("namespace_suffix", required: false, expected: "a string (e.g. `-drill`)") {
            guard !suffix.isEmpty else {
                throw section.ctx.error(section.entry("namespace_suffix")?.value.mark, section.field("namespace_suffix"),
                                        "must not be empty: drill namespaces must differ from production ones")
            }
            guard suffix.count <= 20, suffix.allSatisfy({ ($0.isASCII && ($0.isLowercase || $0.isNumber)) || $0 == "-" }),
                  suffix.last != "-" else {
                throw section.ctx.error(section.entry("namespace_suffix")?.value.mark, section.field("namespace_suffix"),
                                        "`\(suffix)` cannot end a namespace name: use at most 20 lowercase letters, digits and `-`, not ending in `-` (e.g. `-drill`)")
            }
            drills.namespaceSuffix = suffix
        }
        if let reader = try section.mapping("cluster", expected: "a mapping with `kubeconfig` and optional `context`") {
            try reader.checkKeys(["kubeconfig", "context"])
            let cluster = ClusterConfig(
                kubeconfig: try reader.path("kubeconfig", required: false),
                context: try reader.string("context", required: false, expected: "a string (a kubeconfig context name)"))
            let environment = section.ctx.environment
            func effective(_ path: String?) -> String? {
                path ?? environment["KUBECONFIG"] ?? environment["HOME"].map { "\($0)/.kube/config" }
            }
            if effective(cluster.kubeconfig) == effective(production?.kubeconfig), cluster.context == production?.context {
                throw reader.ctx.error(section.entry("cluster")?.value.mark, reader.path,
                                       "the drill cluster is the production cluster (same kubeconfig and context); a drill must never touch production: point it at another kubeconfig or context")
            }
            drills.cluster = cluster
        }
        let expected = "a list of mappings with `runbook` and optional `schedule`, `timezone` and `rto_target`"
        for (index, node) in (try section.sequence("runbooks", required: false, expected: expected) ?? []).enumerated() {
            let reader = try MappingReader(node, path: "\(section.field("runbooks"))[\(index)]", typeMark: node.mark,
                                           expected: "a mapping with `runbook` and optional `schedule`, `timezone` and `rto_target`",
                                           ctx: section.ctx)
            try reader.checkKeys(["runbook", "schedule", "timezone", "rto_target"])
            var entry = DrillRunbookConfig(
                runbook: try reader.requiredString("runbook", expected: "a runbook name such as corrupted-repo"),
                line: reader.mark?.line ?? node.mark?.line ?? 0)
            if drills.runbooks.contains(where: { $0.runbook == entry.runbook }) {
                throw reader.ctx.error(reader.entry("runbook")?.value.mark, reader.field("runbook"),
                                       "runbook `\(entry.runbook)` is listed twice")
            }
            if let schedule = try reader.string("schedule", required: false, expected: "a string (a cron line or a macro like @monthly)") {
                if let reason = validateScheduleShape(schedule) {
                    throw reader.ctx.error(reader.entry("schedule")?.value.mark, reader.field("schedule"), reason)
                }
                entry.schedule = schedule
            }
            if let zone = try reader.string("timezone", required: false, expected: "an IANA time zone name such as Europe/Warsaw") {
                guard TimeZone(identifier: zone) != nil else {
                    throw reader.ctx.error(reader.entry("timezone")?.value.mark, reader.field("timezone"),
                                           "unknown time zone `\(zone)`; expected an IANA name such as UTC, Europe/Warsaw or America/New_York")
                }
                entry.timeZone = zone
            }
            entry.rtoTargetSeconds = try reader.duration("rto_target")
            drills.runbooks.append(entry)
        }
        return drills
    }

    private static func parseEncryption(_ section: MappingReader) throws(ConfigError) -> EncryptionConfig {
        try section.checkKeys(["recipients", "identity"])
        let nodes = try section.requiredSequence("recipients", expected: "a list of age recipients (may be empty: `recipients: []`)")
        var recipients: [String] = []
        for (index, node) in nodes.enumerated() {
            let field = "\(section.field("recipients"))[\(index)]"
            let value = try scalarText(node, field: field, typeMark: node.mark,
                                       expected: "a string (an age recipient `age1…`)", ctx: section.ctx)
            if let reason = validateRecipient(value) {
                throw section.ctx.error(node.mark, field, reason)
            }
            recipients.append(value)
        }
        let identity = try section.path("identity", required: false, expected: "a string (the age identity file path)")
        return EncryptionConfig(recipients: recipients, identity: identity)
    }

    /// Decodes strictly as UTF-8, reporting the line of the first invalid byte.
    static func decodeUTF8(_ data: Data, file: String) throws(ConfigError) -> String {
        let bytes = [UInt8](data)
        if let text = String(validating: bytes, as: UTF8.self) { return text }
        var iterator = bytes.makeIterator()
        var parser = Unicode.UTF8.ForwardParser()
        var offset = 0
        var line = 1
        loop: while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let encoded):
                if encoded.count == 1 && encoded.first == UInt8(ascii: "\n") { line += 1 }
                offset += encoded.count
            case .error:
                break loop
            case .emptyInput:
                break loop
            }
        }
        throw ConfigError(file: file, line: line, field: "",
                          message: "file is not valid UTF-8 (invalid byte at offset \(offset)); expected UTF-8 text")
    }

    /// Turns a Yams error into a ``ConfigError`` without echoing the document.
    private static func yamlError(_ error: YamlError, text: String, ctx: ParseContext) -> ConfigError {
        func contextText(_ context: YamlError.Context?) -> String {
            guard let context else { return "" }
            return "\(context.text) at line \(context.mark.line), column \(context.mark.column): "
        }
        switch error {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _),
             let .composer(context, problem, mark, _):
            return ctx.error(mark, "", "invalid YAML: \(contextText(context))\(problem)")
        case let .reader(problem, offset, _, _):
            var line: Int?
            if let offset { line = text.prefix(offset).filter { $0 == "\n" }.count + 1 }
            return ConfigError(file: ctx.file, line: line, field: "", message: "invalid YAML input: \(problem)")
        case let .duplicatedKeysInMapping(duplicates, context):
            return duplicateKeyError(name: duplicates.first ?? "?", firstMark: context.mark, text: text, ctx: ctx)
        default:
            return ctx.error(nil, "", "invalid YAML")
        }
    }

    /// Yams reports a duplicate key with the mark of its first occurrence only. To find the
    /// second occurrence and the key's field path, rename the first occurrence and compose again.
    private static func duplicateKeyError(name: String, firstMark: Mark, text: String, ctx: ParseContext) -> ConfigError {
        let fallback = ctx.error(firstMark, name, "duplicate key `\(name)`; each key may appear only once in a mapping")
        let marker = "__drctl_duplicate__"
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let lineIndex = firstMark.line - 1
        guard lines.indices.contains(lineIndex) else { return fallback }
        var scalars = Array(lines[lineIndex].unicodeScalars)
        var offset = firstMark.column - 1
        guard offset >= 0, offset < scalars.count else { return fallback }
        if scalars[offset] == "\"" || scalars[offset] == "'" { offset += 1 }
        scalars.insert(contentsOf: marker.unicodeScalars, at: offset)
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        lines[lineIndex] = String(view)
        guard let root = try? Yams.compose(yaml: lines.joined(separator: "\n")),
              let (path, mark) = findDuplicate(in: root, path: "", renamed: marker + name, name: name)
        else { return fallback }
        return ctx.error(mark, fieldPath(path, name),
                         "duplicate key `\(name)` (first defined on line \(firstMark.line)); each key may appear only once in a mapping")
    }

    private static func findDuplicate(in node: Node, path: String, renamed: String, name: String) -> (String, Mark?)? {
        switch node {
        case .mapping(let mapping):
            if mapping.contains(where: { $0.key.string == renamed }),
               let other = mapping.first(where: { $0.key.string == name }) {
                return (path, other.key.mark)
            }
            for (key, value) in mapping {
                if let found = findDuplicate(in: value, path: fieldPath(path, key.string ?? "?"), renamed: renamed, name: name) {
                    return found
                }
            }
        case .sequence(let sequence):
            for (index, value) in sequence.enumerated() {
                if let found = findDuplicate(in: value, path: "\(path)[\(index)]", renamed: renamed, name: name) {
                    return found
                }
            }
        default:
            break
        }
        return nil
    }
}
