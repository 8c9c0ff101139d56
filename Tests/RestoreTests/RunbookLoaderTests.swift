import DRCore
import Foundation
import Restore
import Testing
import TestSupport

@Suite("runbook loading")
struct RunbookLoaderTests {
    func config(in dir: String, runbooksDir: String? = nil, params: [String: [String: String]] = [:]) -> DRConfig {
        DRConfig(file: "\(dir)/drctl.yaml", repositories: [], catalog: "\(dir)/catalog.db", dataDir: dir,
                 sources: [], runbooksDir: runbooksDir, runbookParams: params)
    }

    @Test("without runbooks_dir the built-in copies load, with the config's parameter overrides applied")
    func builtin() throws {
        try withTemporaryDirectory { dir in
            let runbook = try RunbookLoader.load(name: "corrupted-repo", config: config(in: dir))
            #expect(runbook.origin == "builtin:corrupted-repo.md")
            #expect(runbook.isBuiltin && runbook.directory == nil)
            #expect(runbook.params["git_namespace"] == "gitops-system")
            let text = try String(contentsOfFile: "\(runbooksFolder)/corrupted-repo.md", encoding: .utf8)
            #expect(runbook.contentHash == RunbookParser.contentHash(of: Data(text.utf8)))

            let overridden = try RunbookLoader.load(
                name: "corrupted-repo.md",
                config: config(in: dir, params: ["corrupted-repo": ["git_namespace": "git", "apps": "one,two"],
                                                 "cluster-loss": ["git_namespace": "other"]]))
            #expect(overridden.params["git_namespace"] == "git")
            #expect(overridden.params["apps"] == "one,two")
            #expect(overridden.params["git_daemon"] == "gitops-git-daemon")
            let restart = try #require(try overridden.substitutingParams().steps.first { $0.id == "restart-daemon" })
            #expect(restart.body == .action(name: "k8s.rollout-restart",
                                            arguments: .object(["deployment": .string("git/gitops-git-daemon")])))
        }
    }

    @Test("a copy in runbooks_dir wins over the built-in one; new runbooks there are listed")
    func precedence() throws {
        try withTemporaryDirectory { dir in
            let runbooks = "\(dir)/runbooks"
            try FileManager.default.createDirectory(atPath: runbooks, withIntermediateDirectories: true)
            let edited = "---\nparams:\n  apps: mine\n---\n# Edited corrupted repo\n```sh {id=only}\necho {{apps}}\n```\n"
            try edited.write(toFile: "\(runbooks)/corrupted-repo.md", atomically: true, encoding: .utf8)
            try "# Drill\n```sh {id=drill}\ntrue\n```\n".write(toFile: "\(runbooks)/drill.md", atomically: true, encoding: .utf8)
            try "# Broken\n```sh {id=x timout=1}\ntrue\n```\n".write(toFile: "\(runbooks)/broken.md", atomically: true, encoding: .utf8)
            try "# Not a runbook".write(toFile: "\(runbooks)/README.md", atomically: true, encoding: .utf8)
            let cfg = config(in: dir, runbooksDir: runbooks, params: ["corrupted-repo": ["apps": "theirs"]])

            let runbook = try RunbookLoader.load(name: "corrupted-repo", config: cfg)
            #expect(runbook.title == "Edited corrupted repo")
            #expect(runbook.origin == "\(runbooks)/corrupted-repo.md")
            #expect(runbook.params == ["apps": "theirs"])
            #expect(runbook.contentHash == RunbookParser.contentHash(of: Data(edited.utf8)))
            #expect(runbook.directory == runbooks && !runbook.isBuiltin)
            #expect(try RunbookLoader.load(name: "argocd-crash", config: cfg).origin == "builtin:argocd-crash.md")

            let listing = try RunbookLoader.list(config: cfg)
            #expect(listing.map(\.name) == ["argocd-crash", "broken", "cluster-loss", "corrupted-repo", "drill"])
            #expect(listing.first { $0.name == "corrupted-repo" }?.origin == "\(runbooks)/corrupted-repo.md")
            #expect(listing.first { $0.name == "cluster-loss" }?.title == "Complete cluster loss")
            let broken = try #require(listing.first { $0.name == "broken" })
            #expect(broken.problem?.contains("broken.md:2: unknown step attribute `timout`") == true)

            let error = try #require(throws: DRError.self) { try RunbookLoader.load(name: "broken", config: cfg) }
            #expect(error.code == .config)
        }
    }

    @Test("an unknown name lists the known runbooks; an override of an undeclared parameter is an error")
    func errors() throws {
        try withTemporaryDirectory { dir in
            let unknown = try #require(throws: DRError.self) {
                try RunbookLoader.load(name: "corupted-repo", config: config(in: dir))
            }
            #expect(unknown.code == .notFound)
            #expect(unknown.message == "no runbook named `corupted-repo`; did you mean `corrupted-repo`?; known runbooks: argocd-crash, cluster-loss, corrupted-repo")
            let traversal = try #require(throws: DRError.self) { try RunbookLoader.load(name: "../etc/passwd", config: config(in: dir)) }
            #expect(traversal.code == .notFound)

            let typo = try #require(throws: DRError.self) {
                try RunbookLoader.load(name: "corrupted-repo", config: config(in: dir, params: ["corrupted-repo": ["git_sorce": "x"]]))
            }
            #expect(typo.code == .config)
            #expect(typo.message.hasPrefix("\(dir)/drctl.yaml: runbook_params.corrupted-repo.git_sorce: runbook `corrupted-repo` (builtin:corrupted-repo.md) has no parameter `git_sorce`; did you mean `git_source`?"))

            let misspelt = try #require(throws: DRError.self) {
                try RunbookLoader.load(name: "argocd-crash", config: config(in: dir, params: ["corupted-repo": ["apps": "x"]]))
            }
            #expect(misspelt.code == .config)
            #expect(misspelt.message == "\(dir)/drctl.yaml: runbook_params.corupted-repo: no runbook named `corupted-repo`; did you mean `corrupted-repo`?; known runbooks: argocd-crash, cluster-loss, corrupted-repo")

            let missing = try #require(throws: DRError.self) {
                try RunbookLoader.load(name: "corrupted-repo", config: config(in: dir, runbooksDir: "\(dir)/nope"))
            }
            #expect(missing.code == .config)
            #expect(missing.message.contains("runbooks_dir: \(dir)/nope is not a folder"))
        }
    }
}

@Suite("runbook config keys")
struct RunbookConfigTests {
    func parse(_ yaml: String, in dir: String) throws -> DRConfig {
        try DRConfig.parse(text: "repository: ./repo\ncatalog: ./catalog.db\nsources: []\n" + yaml,
                           path: "\(dir)/drctl.yaml", environment: ["HOME": "/home/test"])
    }

    func configError(_ yaml: String, in dir: String) throws -> ConfigError {
        try #require(throws: ConfigError.self) { try parse(yaml, in: dir) }
    }

    @Test("runbooks_dir is a path resolved against the config's folder; runbook_params maps names to values")
    func valid() throws {
        try withTemporaryDirectory { dir in
            let config = try parse("""
            runbooks_dir: ./runbooks
            runbook_params:
              corrupted-repo:
                git_source: gitops
                apps: [wordpress, plugin-deployer]
                replicas: 2
              cluster-loss: {}

            """, in: dir)
            #expect(config.runbooksDir == "\(dir)/runbooks")
            #expect(config.runbookParams == ["corrupted-repo": ["git_source": "gitops", "apps": "wordpress,plugin-deployer", "replicas": "2"],
                                             "cluster-loss": [:]])
            let bare = try parse("", in: dir)
            #expect(bare.runbooksDir == nil && bare.runbookParams.isEmpty)
            #expect(try parse("runbooks_dir: ~/rb\n", in: dir).runbooksDir == "/home/test/rb")
        }
    }

    @Test("errors carry file:line:column and a did-you-mean")
    func errors() throws {
        try withTemporaryDirectory { (dir: String) throws in
            let file = "\(dir)/drctl.yaml"
            #expect(try configError("runbook_dir: ./x\n", in: dir).description
                    == "\(file):4:1: runbook_dir: unknown key `runbook_dir`; did you mean `runbooks_dir`?")
            #expect(try configError("runbook-params: {}\n", in: dir).description.hasSuffix("did you mean `runbook_params`?"))
            #expect(try configError("runbooks_dir: [a]\n", in: dir).description
                    == "\(file):4:1: runbooks_dir: expected a string (a folder of runbook files), found a list")
            #expect(try configError("runbook_params: [a]\n", in: dir).description.hasPrefix("\(file):4:1: runbook_params: expected a mapping"))
            #expect(try configError("runbook_params:\n  Bad/Name: {}\n", in: dir).description
                    .hasPrefix("\(file):5:3: runbook_params.Bad/Name: invalid runbook name `Bad/Name`"))
            #expect(try configError("runbook_params:\n  corrupted-repo: x\n", in: dir).description
                    .hasPrefix("\(file):5:3: runbook_params.corrupted-repo: expected a mapping of parameter names to values, found a string"))
            #expect(try configError("runbook_params:\n  corrupted-repo:\n    9x: a\n", in: dir).description
                    .hasPrefix("\(file):6:5: runbook_params.corrupted-repo.9x: invalid parameter name `9x`"))
            #expect(try configError("runbook_params:\n  corrupted-repo:\n    apps: {a: b}\n", in: dir).description
                    .hasPrefix("\(file):6:5: runbook_params.corrupted-repo.apps: expected a string, or a list of strings"))
            #expect(try configError("runbook_params:\n  corrupted-repo:\n    apps: [a, \"b,c\"]\n", in: dir).description
                    .hasPrefix("\(file):6:15: runbook_params.corrupted-repo.apps[1]: list items are joined with commas"))
            #expect(try configError("runbook_params:\n  corrupted-repo:\n    force: true\n", in: dir).description
                    .contains("found a boolean (quote it if you mean the text)"))
        }
    }
}
