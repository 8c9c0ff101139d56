internal import Yams

// Adding a source kind: one `SourceKind` case, one `SourceSpec` case, one spec struct with
// its `keys` and `parse(_:)`, and one arm in each switch below.

extension SourceKind {
    /// The keys a source of this kind accepts besides the common `name`, `kind`, `schedule`.
    var specKeys: [String] {
        switch self {
        case .gitBundle: GitBundleSourceConfig.keys
        }
    }

    /// Parses the kind-specific keys of one `sources[i]` mapping.
    func parseSpec(_ reader: MappingReader) throws(ConfigError) -> SourceSpec {
        switch self {
        case .gitBundle: .gitBundle(try GitBundleSourceConfig.parse(reader))
        }
    }
}

extension GitBundleSourceConfig {
    static let keys = ["repo", "restore_path"]

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
        return GitBundleSourceConfig(repo: repo, restorePath: restorePath)
    }
}

/// Parses one `sources[i]` entry (duplicate names are checked by the caller).
func parseSource(_ node: Node, index: Int, ctx: ParseContext) throws(ConfigError) -> SourceConfig {
    let path = "sources[\(index)]"
    let reader = try MappingReader(node, path: path, typeMark: node.mark, expected: "a mapping (a source with name and kind)", ctx: ctx)
    let common = ["name", "kind", "schedule"]
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
    return SourceConfig(name: name, schedule: schedule, line: reader.mark?.line ?? node.mark?.line ?? 0, spec: spec)
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
