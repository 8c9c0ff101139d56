import DRCore
import Foundation
import Testing
import TestSupport

/// End-to-end checks of the `drctl` binary: exit codes and messages from docs/CLI.md.
@Suite("drctl command line")
struct CLITests {
    func setUp(_ dir: String, sources: String) throws -> String {
        let result = try runDrctl(["init", "\(dir)/setup"])
        #expect(result.succeeded, "init failed: \(result.stderr)")
        let config = "\(dir)/setup/drctl.yaml"
        let text = try String(contentsOfFile: config, encoding: .utf8).replacingOccurrences(of: "sources: []", with: "sources:\n" + sources)
        try text.write(toFile: config, atomically: true, encoding: .utf8)
        return config
    }

    @Test("init, backup, list, show and extract through the binary")
    func happyPath() throws {
        let git = try GitFixture()
        try withTemporaryDirectory { dir in
            try git.makeGitOpsRepository(at: "\(dir)/gitops")
            let config = try setUp(dir, sources: "  - name: gitops\n    kind: git-bundle\n    repo: ../gitops\n")
            let identity = try FileManager.default.attributesOfItem(atPath: "\(dir)/setup/keys/identity.txt")
            #expect((identity[.posixPermissions] as? Int) == 0o600)

            let backup = try runDrctl(["backup", "--config", config])
            #expect(backup.status == 0, "\(backup.stderr)")
            #expect(backup.stdoutText.hasPrefix("gitops: ok snapshot "))

            let list = try runDrctl(["snapshots", "--config", config, "--json"])
            #expect(list.status == 0)
            let rows = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout)) as? [[String: Any]])
            #expect(rows.count == 1)
            let id = try #require(rows.first?["id"] as? String)

            let show = try runDrctl(["snapshots", "show", String(id.prefix(6)), "--config", config])
            #expect(show.status == 0)
            #expect(show.stdoutText.contains("refs/heads/main"))

            let extract = try runDrctl(["snapshots", "extract", id, "--to", "\(dir)/out", "--config", config])
            #expect(extract.status == 0, "\(extract.stderr)")
            #expect(try git.refs("\(dir)/out") == git.refs("\(dir)/gitops"))

            let again = try runDrctl(["snapshots", "extract", id, "--to", "\(dir)/out", "--config", config])
            #expect(again.status == DRError.Code.refused.exitCode)
            #expect(again.stderr.contains("not empty"))
        }
    }

    @Test("verify exits 0 when the repository is whole and 5 naming the snapshot when an object is gone")
    func verifyExitCodes() throws {
        let git = try GitFixture()
        try withTemporaryDirectory { dir in
            try git.makeGitOpsRepository(at: "\(dir)/gitops")
            let config = try setUp(dir, sources: "  - name: gitops\n    kind: git-bundle\n    repo: ../gitops\n")
            #expect(try runDrctl(["backup", "--config", config]).status == 0)
            let healthy = try runDrctl(["verify", "--read-data", "--config", config])
            #expect(healthy.status == 0, "\(healthy.stdoutText)\n\(healthy.stderr)")
            #expect(healthy.stdoutText.contains("all passed"))
            let objects = "\(dir)/setup/repository/objects"
            for folder in FileIO.list(objects) {
                for name in FileIO.list("\(objects)/\(folder)") { FileIO.remove("\(objects)/\(folder)/\(name)") }
            }
            let broken = try runDrctl(["verify", "--config", config])
            #expect(broken.status == DRError.Code.dataCorrupt.exitCode, "\(broken.stdoutText)\n\(broken.stderr)")
            #expect(broken.stdoutText.contains("FAILED"))
            #expect(broken.stdoutText.contains("missing from the repository"))
            let bad = try runDrctl(["verify", "--read-data-subset", "150%", "--config", config])
            #expect(bad.status == 64 || bad.status == 2, "\(bad.status)")
        }
    }

    @Test("a secrets source reads kubectl output from standard input (file: -); extract writes the List 0600")
    func secretsFromStandardInput() throws {
        try withTemporaryDirectory { dir in
            let config = try setUp(dir, sources: "  - name: secrets\n    kind: secrets\n    file: \"-\"\n")
            try SecretFixtures.kubectlList().write(toFile: "\(dir)/secrets.yaml", atomically: true, encoding: .utf8)
            var backup = Command(try drctlExecutable(), ["backup", "--config", config])
            backup.input = .file("\(dir)/secrets.yaml")
            let result = try backup.run()
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdoutText.contains("secrets: ok snapshot "), "\(result.stdoutText)")
            #expect(result.stdoutText.contains("4 objects"), "the service-account token is left out: \(result.stdoutText)")
            let id = try #require(result.stdoutText.split(separator: " ").dropFirst(3).first.map(String.init))

            let show = try runDrctl(["snapshots", "show", id, "--config", config])
            #expect(show.stdoutText.contains("wordpress-db") && show.stdoutText.contains("password,username"))
            for needle in SecretFixtures.values + SecretFixtures.base64Values {
                #expect(!show.stdoutText.contains(needle) && !result.stdoutText.contains(needle) && !result.stderr.contains(needle))
            }
            let extract = try runDrctl(["snapshots", "extract", id, "--to", "\(dir)/restored.yaml", "--config", config])
            #expect(extract.status == 0, "\(extract.stderr)")
            #expect(extract.stderr.contains("plain text"))
            let mode = try FileManager.default.attributesOfItem(atPath: "\(dir)/restored.yaml")[.posixPermissions] as? Int
            #expect(mode == 0o600)
        }
    }

    @Test("volume sources: backup, show --files, find and extract --include through the binary")
    func volumeCommands() throws {
        try withTemporaryDirectory { dir in
            try makeCorpus(["\(dir)/vol", "--mb", "1"])
            let config = try setUp(dir, sources: "  - name: wp\n    kind: pvc-archive\n    path: ../vol\n")
            let backup = try runDrctl(["backup", "--config", config])
            #expect(backup.status == 0, "\(backup.stderr)")
            #expect(backup.stdoutText.hasPrefix("wp: ok snapshot "))
            #expect(!backup.stderr.contains("ETA"), "no progress line without a terminal")
            let list = try JSONSerialization.jsonObject(with: Data(try runDrctl(["snapshots", "--json", "--config", config]).stdout)) as? [[String: Any]]
            let id = try #require(list?.first?["id"] as? String)

            let files = try runDrctl(["snapshots", "show", id, "--files", "--json", "--config", config])
            let rows = try #require(try JSONSerialization.jsonObject(with: Data(files.stdout)) as? [[String: Any]])
            let config_php = try #require(rows.first { $0["path"] as? String == "wp-config.php" })
            #expect(config_php["mode"] as? String == "600")
            // The content hash is named by its algorithm (BLAKE3 by default) and is what b3sum prints.
            #expect(config_php["sha256"] == nil)
            let b3sum = try Environment.current.require("b3sum", purpose: "cross-check content hashes")
            let printed = try Command(b3sum, ["--no-names", "\(dir)/vol/wp-config.php"]).run().stdoutText
            #expect((config_php["blake3"] as? String).map { printed.hasPrefix($0) } == true, "\(printed)")

            let found = try runDrctl(["snapshots", "find", "wp-config.php", "--config", config])
            #expect(found.status == 0)
            #expect(found.stdoutText.contains(String(id.prefix(8))))
            let missing = try runDrctl(["snapshots", "find", "no/such/file", "--config", config])
            #expect(missing.status == DRError.Code.notFound.exitCode)

            let extract = try runDrctl(["snapshots", "extract", id, "--to", "\(dir)/out", "--include", "mysql", "--config", config])
            #expect(extract.status == 0, "\(extract.stderr)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: "\(dir)/out") == ["mysql"])
        }
    }

    @Test("a config typo exits 3 naming file, line and field")
    func configTypo() throws {
        try withTemporaryDirectory { dir in
            let config = try setUp(dir, sources: "  - name: gitops\n    kind: git-bundle\n    rpo: /srv/gitops\n")
            let result = try runDrctl(["backup", "--config", config])
            #expect(result.status == DRError.Code.config.exitCode)
            #expect(result.stderr.contains("drctl.yaml:"))
            #expect(result.stderr.contains("rpo"))
        }
    }

    @Test("a missing git exits 6; an unknown snapshot exits 4; recovering over a catalog exits 8")
    func exitCodes() throws {
        let git = try GitFixture()
        try withTemporaryDirectory { dir in
            try git.makeGitOpsRepository(at: "\(dir)/gitops")
            let config = try setUp(dir, sources: "  - name: gitops\n    kind: git-bundle\n    repo: \(dir)/gitops\n")
            var noGit = Environment.current
            noGit["PATH"] = "\(dir)/empty"
            let missing = try runDrctl(["backup", "--config", config], environment: noGit)
            #expect(missing.status == DRError.Code.missingTool.exitCode)
            #expect(missing.stdoutText.contains("`git` is not installed"))

            let unknown = try runDrctl(["snapshots", "show", "deadbeef", "--config", config])
            #expect(unknown.status == DRError.Code.notFound.exitCode)

            // Recovery never overwrites a catalog that is there.
            let recover = try runDrctl(["catalog", "recover", "--from", "\(dir)/setup/repository",
                                        "--identity", "\(dir)/setup/keys/identity.txt", "--config", config])
            #expect(recover.status == DRError.Code.refused.exitCode, "\(recover.stderr)")
            #expect(recover.stderr.contains("never overwrites"))
        }
    }

    @Test("drctl drill without a drill cluster: exit 0 with a WARNINGS line, the sandbox removed, restore-tested listed")
    func drillWarnings() throws {
        let git = try GitFixture()
        try withTemporaryDirectory { dir in
            try git.makeGitOpsRepository(at: "\(dir)/gitops")
            let config = try setUp(dir, sources: "  - name: gitops\n    kind: git-bundle\n    repo: \(dir)/gitops\n")
            #expect(try runDrctl(["backup", "--config", config]).status == 0)
            let drill = try runDrctl(["drill", "corrupted-repo", "--yes", "--config", config])
            #expect(drill.status == 0, "\(drill.stdoutText)\n\(drill.stderr)")
            #expect(drill.stderr.contains("WARNINGS: not rehearsed: pause-autosync"))
            #expect(drill.stdoutText.contains("clone over git://"))
            let json = try runDrctl(["drill", "run", "corrupted-repo", "--yes", "--json", "--config", config])
            #expect(json.stdoutText.contains("\"result\" : \"WARNINGS\"") || json.stdoutText.contains("\"result\":\"WARNINGS\""), "\(json.stdoutText)")
            let listing = try runDrctl(["snapshots", "list", "--config", config])
            #expect(listing.stdoutText.contains("RESTORE-TESTED"))
            let listed = try runDrctl(["snapshots", "list", "--json", "--config", config])
            let rows = try #require(try JSONSerialization.jsonObject(with: Data(listed.stdoutText.utf8)) as? [[String: Any]])
            #expect(rows.count == 1)
            #expect(rows.first?["restoreTestedAt"] is String, "\(listed.stdoutText)")
            #expect((rows.first?["restoreTestExecution"] as? String)?.isEmpty == false)
            #expect(rows.first?["source"] as? String == "gitops")
        }
    }

    @Test("an unreachable repository URL exits 7 and names the URL")
    func unreachable() throws {
        try withTemporaryDirectory { dir in
            let config = try setUp(dir, sources: "  - name: remote\n    kind: git-bundle\n    repo: git://127.0.0.1:9/gitops.git\n")
            let result = try runDrctl(["backup", "--config", config])
            #expect(result.status == DRError.Code.unreachable.exitCode)
            #expect(result.stdoutText.contains("remote: FAILED"))
            #expect(result.stdoutText.contains("git://127.0.0.1:9/gitops.git"))
        }
    }

    @Test("no config anywhere is a not-found error that suggests drctl init")
    func noConfig() throws {
        try withTemporaryDirectory { dir in
            var environment = Environment.current
            environment["DRCTL_CONFIG"] = nil
            environment["HOME"] = dir
            environment["XDG_CONFIG_HOME"] = nil
            let result = try runDrctl(["snapshots"], environment: environment, cwd: dir)
            #expect(result.status == DRError.Code.notFound.exitCode)
            #expect(result.stderr.contains("drctl init"))
        }
    }
}
