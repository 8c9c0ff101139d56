internal import Yams

extension DRConfig {
    static let repositoryKeys = ["name", "path", "url", "endpoint", "region", "credentials_file", "profile", "path_style"]
    private static let repositoryExpected = "a local directory path, an `s3://bucket/prefix` URL, or a mapping with `path` or `url`"

    /// Reads `repository:` (a path, an `s3://` URL, or a mapping; named `default`) or
    /// `repositories:` (a list of named mappings). Exactly one of them must be present.
    static func parseRepositories(_ top: MappingReader) throws(ConfigError) -> [RepositoryConfig] {
        let single = top.entry("repository")
        let list = top.entry("repositories")
        if let single, let list {
            let line = single.keyMark.map { " (line \($0.line))" } ?? ""
            throw top.ctx.error(list.keyMark, "repositories",
                                "both `repository`\(line) and `repositories` are set; use one (`repository:` is the shorthand for a single repository)")
        }
        if let single {
            return [try parseRepository(single.value, field: "repository", typeMark: single.keyMark, named: false, ctx: top.ctx)]
        }
        guard let nodes = try top.sequence("repositories", required: false, expected: "a list of repositories") else {
            throw top.missing("repository", expected: repositoryExpected)
        }
        guard !nodes.isEmpty else {
            throw top.ctx.error(list?.keyMark, "repositories", "must list at least one repository")
        }
        var result: [RepositoryConfig] = []
        var lines: [String: Int] = [:]
        for (index, node) in nodes.enumerated() {
            let field = "repositories[\(index)]"
            let repository = try parseRepository(node, field: field, typeMark: node.mark, named: true, ctx: top.ctx)
            if let line = lines[repository.name] {
                throw top.ctx.error(node.mark, "\(field).name",
                                    "duplicate repository name `\(repository.name)` (first used on line \(line)); names must be unique")
            }
            lines[repository.name] = node.mark?.line ?? 0
            result.append(repository)
        }
        return result
    }

    private static func parseRepository(
        _ node: Node, field: String, typeMark: Mark?, named: Bool, ctx: ParseContext
    ) throws(ConfigError) -> RepositoryConfig {
        if case .scalar = node, !named {
            let raw = try scalarText(node, field: field, typeMark: typeMark, expected: repositoryExpected, ctx: ctx)
            return RepositoryConfig(name: "default", location: try location(raw: raw, field: field, mark: node.mark, ctx: ctx))
        }
        let reader = try MappingReader(node, path: field, typeMark: typeMark,
                                       expected: named ? "a mapping with `name` and `path` or `url`" : repositoryExpected, ctx: ctx)
        try reader.checkKeys(repositoryKeys, what: "a repository")
        var name = "default"
        if named {
            name = try reader.requiredString("name", expected: "a string (the repository's name, e.g. `offsite`)")
            guard name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else {
                throw ctx.error(reader.entry("name")?.value.mark, reader.field("name"),
                                "`\(name)` is not a valid repository name; use letters, digits, `-` and `_`")
            }
        } else if reader.entry("name") != nil {
            throw ctx.error(reader.entry("name")?.keyMark, reader.field("name"),
                            "the `repository:` shorthand is always named `default`; use `repositories:` to name repositories")
        }
        let path = reader.entry("path")
        let url = reader.entry("url")
        switch (path, url) {
        case (.some, .some):
            throw ctx.error(url?.keyMark, reader.field("url"), "set either `path` (a local folder) or `url` (s3://…), not both")
        case (nil, nil):
            throw reader.missing("path", expected: "`path` (a local folder) or `url` (s3://bucket/prefix)")
        case (.some, nil):
            let s3Keys = repositoryKeys.filter { !["name", "path"].contains($0) }
            if let extra = reader.entries.first(where: { s3Keys.contains($0.key) }) {
                throw ctx.error(extra.keyMark, reader.field(extra.key), "`\(extra.key)` applies to S3 repositories (`url: s3://…`), not to a local `path`")
            }
            let raw = try reader.requiredString("path", expected: "a string (a local directory path)")
            if raw.contains("://") {
                throw ctx.error(path?.value.mark, reader.field("path"), "`path` is a local folder; write S3 repositories as `url: s3://bucket/prefix`")
            }
            return RepositoryConfig(name: name, location: .local(path: try resolvePath(raw, field: reader.field("path"), mark: path?.value.mark, ctx: ctx)))
        case (nil, .some):
            let raw = try reader.requiredString("url", expected: "an `s3://bucket/prefix` URL")
            guard case .s3(var s3) = try location(raw: raw, field: reader.field("url"), mark: url?.value.mark, ctx: ctx) else {
                throw ctx.error(url?.value.mark, reader.field("url"), "expected an `s3://bucket/prefix` URL, found `\(raw)`; local repositories use `path:`")
            }
            if let endpoint = try reader.string("endpoint", required: false, expected: "an http:// or https:// URL") {
                guard endpoint.hasPrefix("http://") || endpoint.hasPrefix("https://"), endpoint.count > 8 else {
                    throw ctx.error(reader.entry("endpoint")?.value.mark, reader.field("endpoint"),
                                    "expected an http:// or https:// URL (e.g. http://127.0.0.1:9000 for MinIO), found `\(endpoint)`")
                }
                s3.endpoint = endpoint
            }
            s3.region = try reader.string("region", required: false, expected: "a string (an AWS region such as eu-central-1)")
            s3.credentialsFile = try reader.path("credentials_file", required: false, expected: "a string (a ~/.aws/credentials-style file)")
            s3.profile = try reader.string("profile", required: false, expected: "a string (a profile in the credentials file)")
            s3.pathStyle = try reader.bool("path_style")
            return RepositoryConfig(name: name, location: .s3(s3))
        }
    }

    /// A repository location written as one string: `s3://…` or a local path.
    private static func location(raw: String, field: String, mark: Mark?, ctx: ParseContext) throws(ConfigError) -> RepositoryConfig.Location {
        if raw.hasPrefix("s3://") {
            guard let (bucket, prefix) = S3RepositoryConfig.parse(url: raw) else {
                throw ctx.error(mark, field, "`\(raw)` is not a valid S3 URL; expected s3://bucket/prefix (bucket: 3-63 characters of a-z, 0-9, `.` and `-`)")
            }
            return .s3(S3RepositoryConfig(bucket: bucket, prefix: prefix))
        }
        if raw.contains("://") {
            throw ctx.error(mark, field, "unsupported repository URL `\(raw)`; expected a local directory path or s3://bucket/prefix")
        }
        return .local(path: try resolvePath(raw, field: field, mark: mark, ctx: ctx))
    }
}
