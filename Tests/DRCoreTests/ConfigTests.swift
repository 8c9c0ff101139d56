import Foundation
import Testing
@testable import DRCore

/// A fresh directory under the system temp dir, removed after `body`.
@discardableResult
private func withTempDir<T>(_ body: (String) throws -> T) throws -> T {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("configkit-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: url) }
    return try body(url.path)
}

private func write(_ text: String, to path: String) throws {
    let dir = (path as NSString).deletingLastPathComponent
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    try Data(text.utf8).write(to: URL(fileURLWithPath: path))
}

private let recipient1 = "age1acskxfhhuwgr70kkyux7avvq6ejg0axfq7arazlxvye2fqlx7d5qv6s3nv"
private let recipient2 = "age1emtycc99um0mnlczst8jg0gummjm4qj4qwx52xc8tgpps025pgcsdf6y3x"

/// Loads `yaml` from a temp file and returns the ConfigError it raises.
private func configError(_ yaml: String, environment: [String: String] = ["HOME": "/home/test"]) throws -> ConfigError {
    try withTempDir { dir in
        let file = dir + "/drctl.yaml"
        try write(yaml, to: file)
        do {
            let config = try DRConfig.load(path: file, environment: environment)
            Issue.record("expected an error, got \(config)")
            return ConfigError(file: "", field: "", message: "")
        } catch let error as ConfigError {
            #expect(error.file == file)
            return error
        }
    }
}

private let minimal = """
repository: ./repo
catalog: ./catalog.db
sources: []

"""

// MARK: - Valid files

@Test func fullValidFile() throws {
    try withTempDir { dir in
        let file = dir + "/etc/drctl.yaml"
        try write("""
        # drctl configuration
        repository: ./repository
        catalog: ../state/catalog.db
        data_dir: ./data/./work/..
        encryption:
          recipients: [\(recipient1), "\(recipient2)"]
          identity: ~/keys/identity.txt
        cluster:
          kubeconfig: ~/.kube/config
          context: prod
        sources:
          - name: gitops
            kind: git-bundle
            repo: /srv/git/gitops.git
            restore_path: ./restore/gitops.git
            schedule: "0 */6 * * *"
          - name: infra.repo_2
            kind: git-bundle
            repo: git@github.com:org/infra.git
            schedule: "@daily"
          - name: local
            kind: git-bundle
            repo: mirrors/local.git

        """, to: file)
        let config = try DRConfig.load(path: file, environment: ["HOME": "/home/fake"])
        #expect(config.file == file)
        #expect(config.repositories.count == 1)
        #expect(config.repositories[0].name == "default")
        #expect(config.repositories[0].location == .local(path: dir + "/etc/repository"))
        #expect(config.catalog == dir + "/state/catalog.db")
        #expect(config.dataDir == dir + "/etc/data")
        #expect(config.encryption?.recipients == [recipient1, recipient2])
        #expect(config.encryption?.identity == "/home/fake/keys/identity.txt")
        #expect(config.cluster?.kubeconfig == "/home/fake/.kube/config")
        #expect(config.cluster?.context == "prod")
        #expect(config.sources.map(\.name) == ["gitops", "infra.repo_2", "local"])
        #expect(config.sources.map(\.line) == [12, 17, 21])
        #expect(config.sources.allSatisfy { $0.kind == .gitBundle })
        #expect(config.sources[0].schedule == "0 */6 * * *")
        #expect(config.sources[1].schedule == "@daily")
        #expect(config.sources[2].schedule == nil)
        guard case .gitBundle(let first) = config.sources[0].spec,
              case .gitBundle(let second) = config.sources[1].spec,
              case .gitBundle(let third) = config.sources[2].spec
        else { Issue.record("wrong spec kind"); return }
        #expect(first == GitBundleSourceConfig(repo: .path("/srv/git/gitops.git"), restorePath: dir + "/etc/restore/gitops.git"))
        #expect(second == GitBundleSourceConfig(repo: .url("git@github.com:org/infra.git"), restorePath: nil))
        #expect(third.repo == .path(dir + "/etc/mirrors/local.git"))
        #expect(config.source(named: "local")?.line == 21)
        #expect(config.source(named: "missing") == nil)
    }
}

@Test func minimalFile() throws {
    try withTempDir { dir in
        let file = dir + "/drctl.yaml"
        try write(minimal, to: file)
        let config = try DRConfig.load(path: file, environment: [:])
        #expect(config.repositories.map(\.location) == [.local(path: dir + "/repo")])
        #expect(config.catalog == dir + "/catalog.db")
        #expect(config.dataDir == dir)
        #expect(config.encryption == nil)
        #expect(config.cluster == nil)
        #expect(config.sources.isEmpty)
    }
}

@Test func emptyRecipientsAndTildeAlone() throws {
    let config = try DRConfig.parse(text: """
        repository: "~"
        catalog: "~/db/catalog.db"
        encryption:
          recipients: []
        sources: []
        """, path: "/etc/drctl/drctl.yaml", environment: ["HOME": "/home/u"])
    #expect(config.file == "/etc/drctl/drctl.yaml")
    #expect(config.repositories[0].location == .local(path: "/home/u"))
    #expect(config.encryption?.recipients == [])
    #expect(config.catalog == "/home/u/db/catalog.db")
    #expect(config.dataDir == "/home/u/db")
}

// MARK: - Errors

struct ConfigErrorCase: Sendable, CustomTestStringConvertible {
    let label: String
    let yaml: String
    let line: Int
    let field: String
    let fragments: [String]
    var testDescription: String { label }
}

private let head = "repository: ./repo\ncatalog: ./catalog.db\n"

private let errorCases: [ConfigErrorCase] = [
    ConfigErrorCase(label: "unknown top-level key with suggestion",
              yaml: head + "data-dir: ./d\nsources: []\n", line: 3, field: "data-dir",
              fragments: ["unknown key `data-dir`", "did you mean `data_dir`?"]),
    ConfigErrorCase(label: "unknown top-level key without suggestion",
              yaml: head + "sources: []\nwhatever: 1\n", line: 4, field: "whatever",
              fragments: ["unknown key `whatever`", "expected one of: repository, catalog"]),
    ConfigErrorCase(label: "unknown nested key",
              yaml: head + "encryption:\n  recipient: []\nsources: []\n", line: 4, field: "encryption.recipient",
              fragments: ["did you mean `recipients`?"]),
    ConfigErrorCase(label: "unknown cluster key",
              yaml: head + "cluster:\n  kubecfg: ~/k\nsources: []\n", line: 4, field: "cluster.kubecfg",
              fragments: ["did you mean `kubeconfig`?"]),
    ConfigErrorCase(label: "unknown source key",
              yaml: head + "sources:\n  - name: a\n    kind: git-bundle\n    repo: /r\n    restorepath: /x\n",
              line: 7, field: "sources[0].restorepath", fragments: ["did you mean `restore_path`?"]),
    ConfigErrorCase(label: "duplicate top-level key",
              yaml: head + "sources: []\ncatalog: ./other.db\n", line: 4, field: "catalog",
              fragments: ["duplicate key `catalog`", "first defined on line 2"]),
    ConfigErrorCase(label: "duplicate key inside a source",
              yaml: head + "sources:\n  - name: a\n    kind: git-bundle\n  - name: b\n    kind: git-bundle\n    repo: /r\n    \"repo\": /s\n",
              line: 9, field: "sources[1].repo", fragments: ["duplicate key `repo`", "first defined on line 8"]),
    ConfigErrorCase(label: "wrong type: list for repo",
              yaml: head + "sources:\n  - name: a\n    kind: git-bundle\n    repo:\n      - /x\n",
              line: 6, field: "sources[0].repo",
              fragments: ["expected a string (a local path or a git URL), found a list"]),
    ConfigErrorCase(label: "wrong type: mapping for catalog",
              yaml: "repository: ./r\ncatalog:\n  path: x\nsources: []\n", line: 2, field: "catalog",
              fragments: ["found a mapping"]),
    ConfigErrorCase(label: "wrong type: sources is a mapping",
              yaml: head + "sources:\n  name: a\n", line: 3, field: "sources",
              fragments: ["expected a list of sources", "found a mapping"]),
    ConfigErrorCase(label: "wrong type: encryption is a string",
              yaml: head + "encryption: yes-please\nsources: []\n", line: 3, field: "encryption",
              fragments: ["expected a mapping", "found a string"]),
    ConfigErrorCase(label: "wrong type: source entry is a string",
              yaml: head + "sources:\n  - gitops\n", line: 4, field: "sources[0]",
              fragments: ["expected a mapping", "found a string"]),
    ConfigErrorCase(label: "wrong type: boolean",
              yaml: head + "cluster:\n  context: true\nsources: []\n", line: 4, field: "cluster.context",
              fragments: ["found a boolean"]),
    ConfigErrorCase(label: "wrong type: recipient is a list",
              yaml: head + "encryption:\n  recipients:\n    - [a]\nsources: []\n", line: 5, field: "encryption.recipients[0]",
              fragments: ["expected a string (an age recipient", "found a list"]),
    ConfigErrorCase(label: "missing required top-level key",
              yaml: "# comment\nrepository: ./r\nsources: []\n", line: 2, field: "catalog",
              fragments: ["missing required key `catalog`"]),
    ConfigErrorCase(label: "missing sources",
              yaml: head, line: 1, field: "sources", fragments: ["missing required key `sources`"]),
    ConfigErrorCase(label: "missing recipients",
              yaml: head + "encryption:\n  identity: ./id\nsources: []\n", line: 4, field: "encryption.recipients",
              fragments: ["missing required key `recipients` in `encryption`"]),
    ConfigErrorCase(label: "missing repo points at the source",
              yaml: head + "sources:\n  - name: a\n    kind: git-bundle\n    repo: /r\n  - name: b\n    kind: git-bundle\n",
              line: 7, field: "sources[1].repo", fragments: ["missing required key `repo` in `sources[1]`", "a local path or a git URL"]),
    ConfigErrorCase(label: "missing kind",
              yaml: head + "sources:\n  - name: a\n    repo: /r\n", line: 4, field: "sources[0].kind",
              fragments: ["missing required key `kind`", "git-bundle"]),
    ConfigErrorCase(label: "empty string",
              yaml: head + "sources:\n  - name: \"\"\n    kind: git-bundle\n    repo: /r\n", line: 4, field: "sources[0].name",
              fragments: ["must not be empty"]),
    ConfigErrorCase(label: "null value",
              yaml: "repository:\ncatalog: ./c\nsources: []\n", line: 1, field: "repository",
              fragments: ["expected a local directory path", "found an empty value"]),
    ConfigErrorCase(label: "bare tilde",
              yaml: "repository: ~\ncatalog: ./c\nsources: []\n", line: 1, field: "repository",
              fragments: ["bare `~` is null"]),
    ConfigErrorCase(label: "unknown kind lists known kinds",
              yaml: head + "sources:\n  - name: a\n    kind: git-bundel\n    repo: /r\n", line: 5, field: "sources[0].kind",
              fragments: ["unknown source kind `git-bundel`", "did you mean `git-bundle`?", "known kinds: git-bundle"]),
    ConfigErrorCase(label: "unknown kind without suggestion",
              yaml: head + "sources:\n  - name: a\n    kind: svn\n", line: 5, field: "sources[0].kind",
              fragments: ["unknown source kind `svn`; known kinds: git-bundle"]),
    ConfigErrorCase(label: "duplicate source names",
              yaml: head + "sources:\n  - name: a\n    kind: git-bundle\n    repo: /r\n\n  - kind: git-bundle\n    name: a\n    repo: /s\n",
              line: 9, field: "sources[1].name", fragments: ["duplicate source name `a`", "first used on line 4"]),
    ConfigErrorCase(label: "invalid name: uppercase",
              yaml: head + "sources:\n  - name: GitOps\n    kind: git-bundle\n    repo: /r\n", line: 4, field: "sources[0].name",
              fragments: ["invalid name `GitOps`"]),
    ConfigErrorCase(label: "invalid name: leading dash",
              yaml: head + "sources:\n  - name: -a\n    kind: git-bundle\n    repo: /r\n", line: 4, field: "sources[0].name",
              fragments: ["invalid name `-a`"]),
    ConfigErrorCase(label: "invalid name: too long",
              yaml: head + "sources:\n  - name: \(String(repeating: "a", count: 64))\n    kind: git-bundle\n    repo: /r\n",
              line: 4, field: "sources[0].name", fragments: ["1 to 63 characters"]),
    ConfigErrorCase(label: "unknown content hash",
              yaml: head + "sources:\n  - name: a\n    kind: pvc-archive\n    path: /v\n    content_hash: md5\n",
              line: 7, field: "sources[0].content_hash", fragments: ["expected sha256 or blake3, found `md5`"]),
    ConfigErrorCase(label: "bad schedule: 4 fields",
              yaml: head + "sources:\n  - name: a\n    kind: git-bundle\n    repo: /r\n    schedule: \"0 * * *\"\n",
              line: 7, field: "sources[0].schedule", fragments: ["found 4 fields", "5-field cron line"]),
    ConfigErrorCase(label: "bad schedule: unknown macro",
              yaml: head + "sources:\n  - name: a\n    kind: git-bundle\n    repo: /r\n    schedule: \"@often\"\n",
              line: 7, field: "sources[0].schedule", fragments: ["unknown schedule macro `@often`", "@hourly"]),
    ConfigErrorCase(label: "bad schedule: characters",
              yaml: head + "sources:\n  - name: a\n    kind: git-bundle\n    repo: /r\n    schedule: \"0 ? * * *\"\n",
              line: 7, field: "sources[0].schedule", fragments: ["invalid characters in field `?`"]),
    ConfigErrorCase(label: "bad recipient: prefix",
              yaml: head + "encryption:\n  recipients:\n    - \(recipient1)\n    - ssh-ed25519 AAAA\nsources: []\n",
              line: 6, field: "encryption.recipients[1]", fragments: ["starting with `age1`"]),
    ConfigErrorCase(label: "bad recipient: uppercase",
              yaml: head + "encryption:\n  recipients: [\(recipient1.uppercased().replacingOccurrences(of: "AGE1", with: "age1"))]\nsources: []\n",
              line: 4, field: "encryption.recipients[0]", fragments: ["lowercase"]),
    ConfigErrorCase(label: "bad recipient: length",
              yaml: head + "encryption:\n  recipients: [age1abc]\nsources: []\n",
              line: 4, field: "encryption.recipients[0]", fragments: ["62 characters, found 7"]),
    ConfigErrorCase(label: "bad recipient: checksum typo",
              yaml: head + "encryption:\n  recipients: [\(String(recipient1.dropLast()) + (recipient1.hasSuffix("q") ? "p" : "q"))]\nsources: []\n",
              line: 4, field: "encryption.recipients[0]", fragments: ["is not a valid age recipient"]),
    ConfigErrorCase(label: "user home paths",
              yaml: "repository: ~bob/repo\ncatalog: ./c\nsources: []\n", line: 1, field: "repository",
              fragments: ["`~bob` paths are not supported"]),
    ConfigErrorCase(label: "unsupported repository URL",
              yaml: "repository: ftp://bucket/x\ncatalog: ./c\nsources: []\n", line: 1, field: "repository",
              fragments: ["unsupported repository URL"]),
    ConfigErrorCase(label: "top level is a list",
              yaml: "\n- a\n- b\n", line: 2, field: "",
              fragments: ["expected a mapping of settings at the top level, found a list"]),
    ConfigErrorCase(label: "YAML syntax error",
              yaml: head + "sources:\n  - name: a\n   kind: [git-bundle\n", line: 5, field: "",
              fragments: ["invalid YAML"]),
    ConfigErrorCase(label: "several YAML documents",
              yaml: head + "sources: []\n---\nx: 1\n", line: 4, field: "",
              fragments: ["invalid YAML: expected a single document"]),
    ConfigErrorCase(label: "duplicate key in a flow mapping",
              yaml: head + "sources:\n - {name: a, kind: git-bundle, repo: /x, name: b}\n", line: 4, field: "sources[0].name",
              fragments: ["duplicate key `name` (first defined on line 4)"]),
    ConfigErrorCase(label: "YAML unclosed quote",
              yaml: head + "sources: []\ncluster:\n  context: \"prod\n", line: 6, field: "",
              fragments: ["invalid YAML"]),
]

@Test(arguments: errorCases)
func configErrors(_ errorCase: ConfigErrorCase) throws {
    let error = try configError(errorCase.yaml)
    #expect(error.line == errorCase.line, "\(error)")
    #expect(error.field == errorCase.field, "\(error)")
    for fragment in errorCase.fragments {
        #expect(error.message.contains(fragment), "\(error)")
    }
    #expect(error.drError.code == .config)
    #expect(!error.description.contains("\n"))
}

@Test func errorDescriptionFormat() throws {
    let text = """
    repository: ./repo
    catalog: ./catalog.db
    sources:
      - name: a
        kind: git-bundle
        repo: /srv/a
      - name: b
        kind: git-bundle
        repo:
          - /srv/b
    """
    #expect {
        try DRConfig.parse(text: text, path: "/etc/drctl/drctl.yaml", environment: [:])
    } throws: { error in
        guard let error = error as? ConfigError else { return false }
        #expect(error.description
            == "/etc/drctl/drctl.yaml:9:5: sources[1].repo: expected a string (a local path or a git URL), found a list")
        #expect(error.column == 5)
        let converted = DRError.wrap(error)
        #expect(converted.code == .config)
        #expect(converted.code.exitCode == 3)
        #expect(converted.message == error.description)
        return true
    }
}

@Test func emptyFileIsAnError() throws {
    let error = try configError("# nothing here\n")
    #expect(error.line == nil)
    #expect(error.message.contains("the file is empty"))
}

@Test func errorsDoNotEchoTheDocument() throws {
    let secretish = "SHOULD-NOT-APPEAR-\(UUID().uuidString)"
    let error = try configError(head + "sources: []\n# \(secretish)\ncatalog: ./x\n")
    #expect(!error.description.contains(secretish))
    let syntax = try configError(head + "sources: [\n# \(secretish)\n")
    #expect(!syntax.description.contains(secretish))
}

// MARK: - Reading the file

@Test func invalidUTF8() throws {
    try withTempDir { dir in
        let file = dir + "/drctl.yaml"
        var bytes = Array(head.utf8)
        bytes += Array("cluster:\n  context: pr".utf8) + [0xC3, 0x28] + Array("d\nsources: []\n".utf8)
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        #expect {
            try DRConfig.load(path: file, environment: [:])
        } throws: { error in
            guard let error = error as? ConfigError else { return false }
            return error.line == 4 && error.message.contains("not valid UTF-8")
        }
    }
}

@Test func fileOverOneMebibyte() throws {
    try withTempDir { dir in
        let file = dir + "/drctl.yaml"
        let padding = String(repeating: "# padding padding padding padding padding padding padding\n", count: 20_000)
        try write(minimal + padding, to: file)
        #expect(FileManager.default.contents(atPath: file)!.count > 1 << 20)
        #expect {
            try DRConfig.load(path: file, environment: [:])
        } throws: { error in
            (error as? ConfigError)?.message.contains("larger than 1 MiB") == true
        }
        #expect(throws: ConfigError.self) {
            try DRConfig.parse(text: minimal + padding, path: file, environment: [:])
        }
    }
}

@Test func missingFileIsNotFound() throws {
    try withTempDir { dir in
        #expect {
            try DRConfig.load(path: dir + "/nope.yaml", environment: [:])
        } throws: { error in
            (error as? DRError)?.code == .notFound
        }
    }
}

// MARK: - Git locations and paths

@Test(arguments: [
    ("git://h/x.git", GitLocation.url("git://h/x.git")),
    ("file:///x", .url("file:///x")),
    ("ssh://git@host:22/o/r.git", .url("ssh://git@host:22/o/r.git")),
    ("https://example.com/o/r.git", .url("https://example.com/o/r.git")),
    ("git@github.com:o/r.git", .url("git@github.com:o/r.git")),
    ("host:repo.git", .url("host:repo.git")),
    ("/srv/x", .path("/srv/x")),
    ("./x", .path("/etc/drctl/x")),
    ("x", .path("/etc/drctl/x")),
    ("./dir:with/colon", .path("/etc/drctl/dir:with/colon")),
    ("~/repos/x.git", .path("/home/u/repos/x.git")),
])
func gitLocationClassification(_ raw: String, _ expected: GitLocation) throws {
    let config = try DRConfig.parse(text: head + """
        sources:
          - name: s
            kind: git-bundle
            repo: "\(raw)"
        """, path: "/etc/drctl/drctl.yaml", environment: ["HOME": "/home/u"])
    guard case .gitBundle(let spec) = config.sources[0].spec else { Issue.record("wrong kind"); return }
    #expect(spec.repo == expected)
}

@Test func pathStandardization() throws {
    #expect(ConfigPaths.standardize("/a/./b/../c//d/") == "/a/c/d")
    #expect(ConfigPaths.standardize("/../x") == "/x")
    #expect(try ConfigPaths.resolve("../up", relativeTo: "/etc/drctl", environment: [:]) == "/etc/up")
    #expect(try ConfigPaths.resolve("~", relativeTo: "/", environment: ["HOME": "/home/me/"]) == "/home/me")
    #expect(ConfigPaths.directory(of: "/catalog.db") == "/")
    let relative = try DRConfig.parse(text: minimal, path: "/srv/conf/../drctl/./drctl.yaml", environment: [:])
    #expect(relative.file == "/srv/drctl/drctl.yaml")
    #expect(relative.catalog == "/srv/drctl/catalog.db")
}

@Test func tildeWithoutHomeIsAnError() throws {
    let error = try configError("repository: ~/r\ncatalog: ./c\nsources: []\n", environment: [:])
    #expect(error.line == 1)
    #expect(error.field == "repository")
    #expect(error.message.contains("HOME is not set"))
}

@Test func recipientValidation() {
    #expect(validateRecipient(recipient1) == nil)
    #expect(validateRecipient("AGE1" + String(repeating: "q", count: 58)) != nil)
    #expect(validateRecipient("age1q") != nil)
}

@Test func schedulesAccepted() throws {
    for schedule in ["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly",
                     "*/5 * * * *", "0 3 * * MON-FRI", "15,45 1-3 1 jan,jul 0"] {
        #expect(validateScheduleShape(schedule) == nil, "\(schedule)")
    }
}

@Test func suggestions() {
    #expect(closestMatch(to: "restorePath", in: ["repo", "restore_path"]) == "restore_path")
    #expect(closestMatch(to: "catalgo", in: DRConfig.topLevelKeys) == "catalog")
    #expect(closestMatch(to: "zzz", in: DRConfig.topLevelKeys) == nil)
    #expect(editDistance("kitten", "sitting") == 3)
}

// MARK: - Discovery

@Test func discoveryOrder() throws {
    try withTempDir { dir in
        let cwd = dir + "/cwd"
        let home = dir + "/home"
        let xdg = dir + "/xdg"
        let explicit = dir + "/explicit.yaml"
        let fromVariable = dir + "/variable.yaml"
        for file in [explicit, fromVariable, cwd + "/drctl.yaml", xdg + "/drctl/drctl.yaml", home + "/.config/drctl/drctl.yaml"] {
            try write(minimal, to: file)
        }
        var env = ["HOME": home, "XDG_CONFIG_HOME": xdg, "DRCTL_CONFIG": fromVariable]
        #expect(try ConfigLocator.locate(explicit: explicit, environment: env, currentDirectory: cwd) == explicit)
        #expect(try ConfigLocator.locate(explicit: "../explicit.yaml", environment: env, currentDirectory: cwd) == explicit)
        #expect(try ConfigLocator.locate(explicit: nil, environment: env, currentDirectory: cwd) == fromVariable)
        env["DRCTL_CONFIG"] = nil
        #expect(try ConfigLocator.locate(explicit: nil, environment: env, currentDirectory: cwd) == cwd + "/drctl.yaml")
        try FileManager.default.removeItem(atPath: cwd + "/drctl.yaml")
        #expect(try ConfigLocator.locate(explicit: nil, environment: env, currentDirectory: cwd) == xdg + "/drctl/drctl.yaml")
        env["XDG_CONFIG_HOME"] = nil
        #expect(try ConfigLocator.locate(explicit: nil, environment: env, currentDirectory: cwd)
            == home + "/.config/drctl/drctl.yaml")
        env["DRCTL_CONFIG"] = "~/.config/drctl/drctl.yaml"
        #expect(try ConfigLocator.locate(explicit: nil, environment: env, currentDirectory: cwd)
            == home + "/.config/drctl/drctl.yaml")
    }
}

@Test func explicitAndVariablePathsDoNotFallThrough() throws {
    try withTempDir { dir in
        try write(minimal, to: dir + "/drctl.yaml")
        #expect {
            try ConfigLocator.locate(explicit: dir + "/missing.yaml", environment: [:], currentDirectory: dir)
        } throws: { error in
            guard let error = error as? DRError else { return false }
            return error.code == .notFound && error.message.contains("missing.yaml") && error.message.contains("--config")
        }
        #expect {
            try ConfigLocator.locate(explicit: nil, environment: ["DRCTL_CONFIG": dir + "/gone.yaml"], currentDirectory: dir)
        } throws: { error in
            guard let error = error as? DRError else { return false }
            return error.code == .notFound && error.message.contains("gone.yaml") && error.message.contains("DRCTL_CONFIG")
        }
    }
}

@Test func notFoundListsEverySearchedPlace() throws {
    try withTempDir { dir in
        for env in [["HOME": dir + "/home"], ["HOME": dir + "/home", "XDG_CONFIG_HOME": dir + "/xdg"]] {
            #expect {
                try ConfigLocator.locate(explicit: nil, environment: env, currentDirectory: dir + "/cwd")
            } throws: { error in
                guard let error = error as? DRError, error.code == .notFound else { return false }
                let text = error.description
                #expect(text.contains(dir + "/cwd/drctl.yaml"))
                if let xdg = env["XDG_CONFIG_HOME"] {
                    #expect(text.contains(xdg + "/drctl/drctl.yaml"))
                } else {
                    #expect(text.contains(dir + "/home/.config/drctl/drctl.yaml"))
                }
                #expect(text.contains("drctl init"))
                return true
            }
        }
    }
}

@Test func locatedFileLoads() throws {
    try withTempDir { dir in
        try write(minimal, to: dir + "/drctl.yaml")
        let path = try ConfigLocator.locate(explicit: nil, environment: [:], currentDirectory: dir)
        let config = try DRConfig.load(path: path, environment: [:])
        #expect(config.file == dir + "/drctl.yaml")
    }
}

@Suite("scheduling keys")
struct SchedulingConfigTests {
    static let base = """
        repository: ./repo
        catalog: ./catalog.db
        metrics_file: ./drctl.prom
        on_locked: wait
        notify: {webhook: "http://127.0.0.1:9/hook", on: [failure, rpo-breach]}
        sources:
          - name: wp
            kind: pvc-archive
            path: /mnt/wp
            schedule: "30 2 * * *"
            timezone: Europe/Warsaw
            starting_deadline: 6h
            rpo_target: 1d
            retention: {keep_last: 3, keep_daily: 7, keep_within: 2w}

        """

    @Test("timezone, starting_deadline, rpo_target, retention, metrics_file, notify and on_locked parse")
    func parses() throws {
        try withTempDir { dir in
            try write(Self.base, to: dir + "/drctl.yaml")
            let config = try DRConfig.load(path: dir + "/drctl.yaml", environment: [:])
            let scheduling = try #require(config.sources.first?.scheduling)
            #expect(scheduling.timeZone == "Europe/Warsaw")
            #expect(scheduling.startingDeadlineSeconds == 6 * 3600)
            #expect(scheduling.rpoTargetSeconds == 86400)
            #expect(scheduling.retention == RetentionPolicy(keepLast: 3, keepDaily: 7, keepWithinSeconds: 14 * 86400))
            #expect(config.metricsFile == dir + "/drctl.prom")
            #expect(config.notify == NotifyConfig(webhook: "http://127.0.0.1:9/hook", on: [.failure, .rpoBreach]))
            #expect(config.onLocked == .wait)
        }
    }

    @Test("bad values name their field")
    func errors() throws {
        for (from, to, field) in [
            ("Europe/Warsaw", "Mars/Olympus", "sources[0].timezone"),
            ("keep_last: 3", "keep_last: 0", "sources[0].retention.keep_last"),
            ("keep_within: 2w", "keep_within: soon", "sources[0].retention.keep_within"),
            ("starting_deadline: 6h", "starting_deadline: -1", "sources[0].starting_deadline"),
            ("rpo-breach]", "rpo-breech]", "notify.on[1]"),
            ("on_locked: wait", "on_locked: queue", "on_locked"),
        ] {
            let error = try configError(Self.base.replacingOccurrences(of: from, with: to))
            #expect(error.field == field, "\(to): \(error)")
        }
    }
}

@Suite("Config: drills")
struct DrillsConfigTests {
    static let base = """
        repository: ./repo
        catalog: ./catalog.db
        drills:
          namespace_suffix: -rehearsal
          runbooks:
            - runbook: corrupted-repo
              schedule: "0 4 1 */6 *"
              timezone: Europe/Warsaw
              rto_target: 30m
            - runbook: argocd-crash
              rto_target: 10m
        sources:
          - name: gitops
            kind: git-bundle
            repo: /srv/gitops.git

        """

    @Test("drills.runbooks: schedules, time zones and RTO targets parse; sandbox_dir defaults under data_dir")
    func parses() throws {
        try withTempDir { dir in
            try write(Self.base, to: dir + "/drctl.yaml")
            let config = try DRConfig.load(path: dir + "/drctl.yaml", environment: [:])
            let drills = config.drillSettings
            #expect(drills.namespaceSuffix == "-rehearsal")
            #expect(drills.sandboxDir == config.dataDir + "/drills")
            #expect(drills.runbooks.map(\.runbook) == ["corrupted-repo", "argocd-crash"])
            #expect(drills.settings(for: "corrupted-repo")?.schedule == "0 4 1 */6 *")
            #expect(drills.settings(for: "corrupted-repo")?.timeZone == "Europe/Warsaw")
            #expect(drills.settings(for: "corrupted-repo")?.rtoTargetSeconds == 1800)
            #expect(drills.settings(for: "argocd-crash")?.schedule == nil)
            #expect(drills.settings(for: "cluster-loss") == nil)
        }
    }

    @Test("bad drill entries name their field")
    func errors() throws {
        for (from, to, field) in [
            ("rto_target: 30m", "rto_target: quickly", "drills.runbooks[0].rto_target"),
            ("Europe/Warsaw", "Mars/Olympus", "drills.runbooks[0].timezone"),
            ("\"0 4 1 */6 *\"", "\"0 4 1 */6\"", "drills.runbooks[0].schedule"),
            ("- runbook: argocd-crash", "- runbook: corrupted-repo", "drills.runbooks[1].runbook"),
            ("rto_target: 10m", "rto_targte: 10m", "drills.runbooks[1].rto_targte"),
            ("namespace_suffix: -rehearsal", "namespace_suffix: \"\"", "drills.namespace_suffix"),
            ("namespace_suffix: -rehearsal", "namespace_suffix: _Drill", "drills.namespace_suffix"),
        ] {
            let error = try configError(Self.base.replacingOccurrences(of: from, with: to))
            #expect(error.field == field, "\(to): \(error)")
        }
    }
}

@Suite("Config: verify")
struct VerifyConfigTests {
    static let base = """
        repository: ./repo
        catalog: ./catalog.db
        verify:
          schedule: "@weekly"
          timezone: Europe/Warsaw
          read_data_subset: 10%
        sources: []

        """

    @Test("verify: schedule, time zone and read depth parse; bad values name their field")
    func parses() throws {
        try withTempDir { dir in
            try write(Self.base, to: dir + "/drctl.yaml")
            let config = try DRConfig.load(path: dir + "/drctl.yaml", environment: [:])
            #expect(config.verify?.schedule == "@weekly")
            #expect(config.verify?.timeZone == "Europe/Warsaw")
            #expect(config.verify?.subsetPercent == 10)
            #expect(config.verify?.readData == false)
        }
        for (from, to, field) in [
            ("read_data_subset: 10%", "read_data_subset: 0%", "verify.read_data_subset"),
            ("read_data_subset: 10%", "read_data_subset: 10%\n  read_data: true", "verify.read_data_subset"),
            ("\"@weekly\"", "\"@fortnightly\"", "verify.schedule"),
            ("timezone: Europe/Warsaw", "timezone: Mars/Olympus", "verify.timezone"),
            ("read_data_subset: 10%", "read_data_subset: 10%\n  deep: yes", "verify.deep"),
        ] {
            let error = try configError(Self.base.replacingOccurrences(of: from, with: to))
            #expect(error.field == field, "\(to): \(error)")
        }
    }
}
