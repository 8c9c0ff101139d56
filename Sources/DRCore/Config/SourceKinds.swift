internal import Yams
import Foundation

// Adding a source kind: one `SourceKind` case, one `SourceSpec` case, one spec struct with
// its `keys` and `parse(_:)`, and one arm in each switch below.

extension SourceKind {
    /// The keys a source of this kind accepts besides the common `name`, `kind`, `schedule`.
    var specKeys: [String] {
        switch self {
        case .gitBundle: GitBundleSourceConfig.keys
        case .pvcArchive: PVCArchiveSourceConfig.keys
        case .secrets: SecretsSourceConfig.keys
        case .argocdState: ArgoStateSourceConfig.keys
        }
    }

    /// Parses the kind-specific keys of one `sources[i]` mapping.
    func parseSpec(_ reader: MappingReader) throws(ConfigError) -> SourceSpec {
        switch self {
        case .gitBundle: .gitBundle(try GitBundleSourceConfig.parse(reader))
        case .pvcArchive: .pvcArchive(try PVCArchiveSourceConfig.parse(reader))
        case .secrets: .secrets(try SecretsSourceConfig.parse(reader))
        case .argocdState: .argocdState(try ArgoStateSourceConfig.parse(reader))
        }
    }
}

extension GitBundleSourceConfig {
    static let keys = ["repo", "restore_path", "full_every"]

    static func parse(_ reader: MappingReader) throws(ConfigError) -> GitBundleSourceConfig {
        let expected = "a string (a local path or a git URL)"
        let raw = try reader.requiredString("repo", expected: expected)
        let repo: GitLocation
        if isGitURL(raw) {
            repo = .url(raw)
        } else {
            repo = .path(try resolvePath(raw, field: reader.field("repo"), mark: reader.entry("repo")?.value.mark, ctx: reader.ctx))
        }
        let restorePath = try reader.path("restore_path", required: false)
        var config = GitBundleSourceConfig(repo: repo, restorePath: restorePath)
        config.fullEvery = try parseFullEvery(reader)
        return config
    }
}

extension PVCArchiveSourceConfig {
    static let keys = ["path", "exclude", "hooks", "full_every", "content_hash"]

    static func parse(_ reader: MappingReader) throws(ConfigError) -> PVCArchiveSourceConfig {
        let path = try reader.requiredPath("path", expected: "a string (the mounted volume's path)")
        var exclude: [String] = []
        for (index, node) in (try reader.sequence("exclude", required: false, expected: "a list of glob patterns") ?? []).enumerated() {
            let field = "\(reader.field("exclude"))[\(index)]"
            let pattern = try scalarText(node, field: field, typeMark: node.mark, expected: "a string (a glob pattern)", ctx: reader.ctx)
            if pattern.hasPrefix("/") {
                throw reader.ctx.error(node.mark, field, "patterns are relative to the volume; remove the leading `/`")
            }
            exclude.append(pattern)
        }
        var hooks = Hooks()
        if let hooksReader = try reader.mapping("hooks", expected: "a mapping with `pre:` and/or `post:` lists") {
            try hooksReader.checkKeys(["pre", "post"])
            hooks.pre = try parseHooks(hooksReader, "pre")
            hooks.post = try parseHooks(hooksReader, "post")
        }
        let fullEvery = try parseFullEvery(reader)
        var contentHash = ContentHash.blake3
        let names = ContentHash.allCases.map(\.rawValue).joined(separator: " or ")
        if let name = try reader.string("content_hash", required: false, expected: names) {
            guard let algorithm = ContentHash(rawValue: name) else {
                throw reader.ctx.error(reader.entry("content_hash")?.value.mark, reader.field("content_hash"),
                                       "expected \(names), found `\(name)`")
            }
            contentHash = algorithm
        }
        return PVCArchiveSourceConfig(path: path, exclude: exclude, hooks: hooks, fullEvery: fullEvery, contentHash: contentHash)
    }

    static func parseHooks(_ reader: MappingReader, _ key: String) throws(ConfigError) -> [HookCommand] {
        let expected = "a list of commands (strings, or mappings with `run:` and `timeout:`)"
        var hooks: [HookCommand] = []
        for (index, node) in (try reader.sequence(key, required: false, expected: expected) ?? []).enumerated() {
            let field = "\(reader.field(key))[\(index)]"
            if case .mapping = node {
                let hook = try MappingReader(node, path: field, typeMark: node.mark, expected: expected, ctx: reader.ctx)
                try hook.checkKeys(["run", "timeout"])
                let run = try hook.requiredString("run", expected: "a string (a shell command)")
                var timeout = HookCommand.defaultTimeoutSeconds
                if let text = try hook.string("timeout", required: false, expected: "a duration such as 30s, 10m or 1h") {
                    guard let seconds = parseDuration(text), seconds > 0 else {
                        throw reader.ctx.error(hook.entry("timeout")?.value.mark, hook.field("timeout"),
                                               "expected a duration such as 30s, 10m or 1h, found `\(text)`")
                    }
                    timeout = seconds
                }
                hooks.append(HookCommand(run: run, timeoutSeconds: timeout))
            } else {
                let run = try scalarText(node, field: field, typeMark: node.mark, expected: expected, ctx: reader.ctx)
                hooks.append(HookCommand(run: run))
            }
        }
        return hooks
    }
}

extension SecretsSourceConfig {
    static let keys = ["namespaces", "selector", "exclude_types", "exclude_helm_releases", "file"]

    static func parse(_ reader: MappingReader) throws(ConfigError) -> SecretsSourceConfig {
        var config = SecretsSourceConfig()
        if let file = try reader.string("file", required: false, expected: "a string (a `kubectl get secrets -o yaml` file, or `-` for standard input)") {
            config.input = file == "-" ? .file("-") : .file(try resolvePath(file, field: reader.field("file"), mark: reader.entry("file")?.value.mark, ctx: reader.ctx))
        }
        config.namespaces = try reader.strings("namespaces", expected: "a list of namespace names")
        for (index, name) in config.namespaces.enumerated() where !isDNSLabel(name) {
            throw reader.ctx.error(reader.entry("namespaces")?.value.mark, "\(reader.field("namespaces"))[\(index)]",
                                   "`\(name)` is not a namespace name (lowercase letters, digits and `-`, at most 63)")
        }
        config.selector = try reader.string("selector", required: false, expected: "a string (a label selector such as `app=web`)")
        if reader.entry("exclude_types") != nil {
            config.excludeTypes = try reader.strings("exclude_types", expected: "a list of Secret types")
        }
        if try reader.bool("exclude_helm_releases") == true, !config.excludeTypes.contains(SecretsSourceConfig.helmReleaseType) {
            config.excludeTypes.append(SecretsSourceConfig.helmReleaseType)
        }
        return config
    }
}

extension ArgoStateSourceConfig {
    static let keys = ["namespace"]

    static func parse(_ reader: MappingReader) throws(ConfigError) -> ArgoStateSourceConfig {
        let namespace = try reader.string("namespace", required: false, expected: "a string (ArgoCD's namespace)") ?? "argocd"
        guard isDNSLabel(namespace) else {
            throw reader.ctx.error(reader.entry("namespace")?.value.mark, reader.field("namespace"),
                                   "`\(namespace)` is not a namespace name (lowercase letters, digits and `-`, at most 63)")
        }
        return ArgoStateSourceConfig(namespace: namespace)
    }
}

/// `full_every:` — a number of incrementals (`7`) or of days (`30d`); nil when absent.
func parseFullEvery(_ reader: MappingReader) throws(ConfigError) -> FullEvery? {
    guard let text = try reader.string("full_every", required: false, expected: "a number of incrementals (7) or of days (30d)") else {
        return nil
    }
    if text.hasSuffix("d"), let days = Int(text.dropLast()), days > 0 { return .days(days) }
    if let count = Int(text), count > 0 { return .incrementals(count) }
    throw reader.ctx.error(reader.entry("full_every")?.value.mark, reader.field("full_every"),
                           "expected a positive number of incrementals (`7`) or of days (`30d`), found `\(text)`")
}

/// An RFC 1123 label: what Kubernetes accepts as a namespace name.
func isDNSLabel(_ s: String) -> Bool {
    let scalars = Array(s.unicodeScalars)
    func alnum(_ c: Unicode.Scalar) -> Bool { ("a"..."z").contains(c) || ("0"..."9").contains(c) }
    guard let first = scalars.first, let last = scalars.last, scalars.count <= 63, alnum(first), alnum(last) else { return false }
    return scalars.allSatisfy { alnum($0) || $0 == "-" }
}

/// Seconds in `90`, `30s`, `10m`, `2h`, `1d`, `2w` or `1y` (365 days); nil when malformed.
public func parseDuration(_ text: String) -> Int? {
    let units: [Character: Int] = ["s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "y": 365 * 86400]
    if let last = text.last, let unit = units[last], let value = Int(text.dropLast()) { return value * unit }
    return Int(text)
}

/// Parses one `sources[i]` entry (duplicate names are checked by the caller).
func parseSource(_ node: Node, index: Int, ctx: ParseContext) throws(ConfigError) -> SourceConfig {
    let path = "sources[\(index)]"
    let reader = try MappingReader(node, path: path, typeMark: node.mark, expected: "a mapping (a source with name and kind)", ctx: ctx)
    let common = ["name", "kind", "schedule", "timezone", "starting_deadline", "rpo_target", "retention", "copy_to"]
    let everyKey = common + SourceKind.allCases.flatMap(\.specKeys)
    try reader.checkKeys(everyKey.reduce(into: []) { if !$0.contains($1) { $0.append($1) } })

    let name = try reader.requiredString("name", expected: "a string (the source name)")
    if let reason = validateSourceName(name) {
        throw ctx.error(reader.entry("name")?.value.mark, reader.field("name"), reason)
    }

    let knownKinds = SourceKind.allCases.map(\.rawValue)
    let kindText = try reader.requiredString("kind", expected: "a string (one of: \(knownKinds.joined(separator: ", ")))")
    guard let kind = SourceKind(rawValue: kindText) else {
        var message = "unknown source kind `\(kindText)`"
        if let suggestion = closestMatch(to: kindText, in: knownKinds) { message += "; did you mean `\(suggestion)`?" }
        message += "; known kinds: \(knownKinds.joined(separator: ", "))"
        throw ctx.error(reader.entry("kind")?.value.mark, reader.field("kind"), message)
    }
    try reader.checkKeys(common + kind.specKeys, what: "kind `\(kind.rawValue)`")

    let schedule = try reader.string("schedule", required: false, expected: "a string (a cron line or a macro like @daily)")
        .map { $0.trimmed(of: " \t") }
    if let schedule, let reason = validateScheduleShape(schedule) {
        throw ctx.error(reader.entry("schedule")?.value.mark, reader.field("schedule"), reason)
    }

    let spec = try kind.parseSpec(reader)
    var source = SourceConfig(name: name, schedule: schedule, line: reader.mark?.line ?? node.mark?.line ?? 0, spec: spec)
    source.scheduling = try parseScheduling(reader)
    if reader.entry("copy_to") != nil {
        source.copyTo = try reader.strings("copy_to", expected: "a list of repository names")
        source.copyToLine = reader.entry("copy_to")?.value.mark?.line
    }
    return source
}

/// `timezone`, `starting_deadline`, `rpo_target` and `retention` of one source.
func parseScheduling(_ reader: MappingReader) throws(ConfigError) -> SourceScheduling {
    var scheduling = SourceScheduling()
    if let zone = try reader.string("timezone", required: false, expected: "an IANA time zone name such as Europe/Warsaw") {
        guard TimeZone(identifier: zone) != nil else {
            throw reader.ctx.error(reader.entry("timezone")?.value.mark, reader.field("timezone"),
                                   "unknown time zone `\(zone)`; expected an IANA name such as UTC, Europe/Warsaw or America/New_York")
        }
        scheduling.timeZone = zone
    }
    scheduling.startingDeadlineSeconds = try reader.duration("starting_deadline")
    scheduling.rpoTargetSeconds = try reader.duration("rpo_target")
    if let section = try reader.mapping("retention", expected: "a mapping of keep_* rules") {
        let counts = ["keep_last", "keep_hourly", "keep_daily", "keep_weekly", "keep_monthly", "keep_yearly"]
        try section.checkKeys(counts + ["keep_within"])
        var values: [String: Int] = [:]
        for key in counts {
            guard let text = try section.string(key, required: false, expected: "a number of snapshots") else { continue }
            guard let value = Int(text), value > 0 else {
                throw section.ctx.error(section.entry(key)?.value.mark, section.field(key), "expected a positive number of snapshots, found `\(text)`")
            }
            values[key] = value
        }
        let policy = RetentionPolicy(
            keepLast: values["keep_last"], keepHourly: values["keep_hourly"], keepDaily: values["keep_daily"],
            keepWeekly: values["keep_weekly"], keepMonthly: values["keep_monthly"], keepYearly: values["keep_yearly"],
            keepWithinSeconds: try section.duration("keep_within"))
        guard policy != RetentionPolicy() else {
            throw section.ctx.error(reader.entry("retention")?.value.mark, reader.field("retention"),
                                    "an empty retention policy would keep nothing; give at least one keep_* rule, or remove `retention:` to keep everything")
        }
        scheduling.retention = policy
    }
    return scheduling
}

extension String {
    /// Drops leading and trailing characters found in `set` (Foundation-free).
    func trimmed(of set: String) -> String {
        var slice = self[...]
        while let first = slice.first, set.contains(first) { slice.removeFirst() }
        while let last = slice.last, set.contains(last) { slice.removeLast() }
        return String(slice)
    }
}
