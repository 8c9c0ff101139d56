import DRCore
import FakeKube
import Foundation
import Restore
import Scheduler
import Snapshots
import Testing
import TestSupport

/// The one place that proves secrets hygiene end to end (issue 9): after backups, an extract,
/// an incident restore, a drill, metrics and failing commands, no fixture Secret value, plain
/// or base64, is in the catalog (database, WAL, journal rows), the logs at debug level, the
/// metrics file, any command's output or error output, or any byte drctl wrote outside
/// encrypted objects. Other suites check their own command's output; this one checks everything.
@Suite("secrets hygiene")
struct SecretLeakTests {
    static let needles = SecretFixtures.values + SecretFixtures.base64Values

    func expectClean(_ text: String, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        for needle in Self.needles where text.contains(needle) {
            Issue.record("\(what) holds the secret value `\(needle.prefix(4))…`", sourceLocation: sourceLocation)
        }
    }

    @Test("no secret value, plain or base64, leaks into the catalog, journal, logs, metrics, error output or unencrypted repository bytes")
    func noSecretLeaksAnywhere() async throws {
        try await withActionFixture { fixture in
            let input = "\(fixture.dir)/input"
            let root = "\(fixture.dir)/drctl"
            try FileIO.createDirectory("\(input)/volume")
            let list = "\(input)/secrets.yaml"
            try FileIO.atomicWrite(Array(SecretFixtures.kubectlList().utf8), to: list)
            // Volume data may hold the same secret (wp-config.php): it must stay inside the encrypted archive.
            try FileIO.atomicWrite(Array("<?php define('DB_PASSWORD', '\(SecretFixtures.values[0])');\n".utf8), to: "\(input)/volume/wp-config.php")
            let capture = LogCapture()
            let base = try makeWorkspace(
                in: root,
                sourcesYAML: """
                      - name: data
                        kind: pvc-archive
                        path: \(input)/volume
                      - name: secrets
                        kind: secrets
                        file: \(list)
                        exclude_helm_releases: true

                    """,
                topLevelYAML: """
                    metrics_file: \(root)/metrics.prom
                    cluster:
                      kubeconfig: \(fixture.dir)/production.kubeconfig
                    drills:
                      cluster:
                        kubeconfig: \(fixture.kubeconfig)

                    """)
            let workspace = try Workspace.open(config: base.config, environment: .current, logger: capture.logger)
            var outputs: [(String, String)] = []

            // Backups, one of them over input that quotes a value in a syntax error.
            let snapshot = try fixture.backup(workspace, "secrets")
            _ = try fixture.backup(workspace, "data")
            try FileIO.atomicWrite(Array("apiVersion: v1\nkind: List\nitems:\n  - {data: {password: \(SecretFixtures.base64Values[0])}\n".utf8), to: list)
            let failed = try #require(try Backup.run(workspace, sources: ["secrets"]).outcomes.first)
            #expect(!failed.succeeded)
            outputs.append(("failed backup error", failed.error ?? ""))
            try FileIO.atomicWrite(Array(SecretFixtures.kubectlList().utf8), to: list)

            // Extract: the one place values appear, in a private file outside drctl's folders.
            try FileIO.createDirectory("\(fixture.dir)/extracted")
            let extracted = "\(fixture.dir)/extracted/secrets.yaml"
            _ = try Extract.snapshot(snapshot.id, to: extracted, in: workspace)
            #expect((try FileManager.default.attributesOfItem(atPath: extracted)[.posixPermissions] as? Int) == 0o600)
            #expect(try String(contentsOfFile: extracted, encoding: .utf8).contains(SecretFixtures.base64Values[0]))
            let again = try #require(throws: DRError.self) { try Extract.snapshot(snapshot.id, to: extracted, in: workspace) }
            outputs.append(("refused extract", again.message + (again.hint ?? "")))

            // A drill (restores the volume into a sandbox and the Secrets into the drill cluster).
            let runbook = try volumeAndExportRunbook(fixture, afterRestores: "echo restored")
            let drillOutput = OutputLog()
            let report = try await blocking { try Drill(workspace: workspace, output: { drillOutput.append($0) }).run(runbook) }
            #expect(report.result == .success, "\(report.problems)\n\(drillOutput.text)")
            outputs.append(("drill output", drillOutput.text))

            // An incident restore of the Secrets into the (fake) production cluster, journaled.
            let restoreOutput = OutputLog()
            let client = fixture.client
            let incident = try RunbookParser.parse(text: """
                # Secrets

                ```drctl {id=restore-secrets}
                action: secrets.restore
                source: secrets
                ```

                ```sh {id=fails on_failure=continue}
                echo "about to fail"; exit 3
                ```
                """, name: "secrets-only", origin: "\(fixture.dir)/secrets-only.md")
            let result = try await blocking {
                try Executor(workspace: workspace, confirmer: AssumeYes(), cluster: .some({ client }),
                             output: { restoreOutput.append($0) }).run(incident)
            }
            #expect(result.status == .succeeded, "\(result)")
            outputs.append(("restore output", restoreOutput.text))
            let restored = try #require(try fixture.object("v1", "Secret", "wordpress", "wordpress-db"))
            #expect(restored[path: ["data", "password"]]?.stringValue == SecretFixtures.base64Values[0])

            try Metrics.write(workspace)
            #expect(FileIO.exists("\(root)/metrics.prom"))

            // The binary, at debug level: a failing backup over input quoting values, a refused
            // extract, a show and a read-data verify.
            let config = workspace.config.file
            try FileIO.atomicWrite(Array("apiVersion: v1\nitems: [\n  \(SecretFixtures.values[1]): \(SecretFixtures.base64Values[2])\n".utf8), to: list)
            for arguments in [["backup", "secrets"], ["snapshots", "extract", snapshot.id, "--to", extracted],
                              ["snapshots", "show", snapshot.id], ["verify", "--read-data"]] {
                let run = try runDrctl(["-vv"] + arguments + ["--config", config])
                outputs.append(("drctl \(arguments.joined(separator: " ")) (exit \(run.status))", run.stdoutText + run.stderr))
            }
            #expect(outputs.contains { $0.0.hasPrefix("drctl backup secrets (exit") && !$0.0.hasSuffix("(exit 0)") })

            // Now search everything.
            let logs = capture.text
            #expect(logs.contains("debug"), "the capture saw no debug line")
            expectClean(logs, "the debug log")
            for (what, text) in outputs { expectClean(text, what) }

            let python = try Environment.current.require("python3", purpose: "dump the catalog")
            let dump = try Command(python, ["-c", "import sqlite3, sys; print('\\n'.join(sqlite3.connect(sys.argv[1]).iterdump()))",
                                            workspace.config.catalog]).run()
            #expect(dump.succeeded, "\(dump.stderr)")
            #expect(dump.stdoutText.contains("INSERT INTO \"execution_step\""), "the journal is empty")
            #expect(dump.stdoutText.contains("INSERT INTO \"kube_object\""))
            expectClean(dump.stdoutText, "the catalog (SQL dump, journal rows included)")

            // Every byte under drctl's folder: config, keys, catalog with its WAL, metrics,
            // scratch space and the repository.
            #expect(FileIO.exists("\(workspace.config.catalog)-wal"))
            let grep = try Command("/bin/grep", ["-r", "-l", "-a", "-F"] + Self.needles.flatMap { ["-e", $0] } + [root]).run()
            #expect(grep.status == 1 && grep.stdoutText.isEmpty, "values found in: \(grep.stdoutText) \(grep.stderr)")
            // The repository's only unencrypted bytes are its config: every object is age.
            let objects = "\(root)/repository"
            var checked = 0
            for folder in ["objects", "snapshots", "catalogs"] {
                guard let walker = FileManager.default.enumerator(atPath: "\(objects)/\(folder)") else { continue }
                while let path = walker.nextObject() as? String {
                    let full = "\(objects)/\(folder)/\(path)"
                    guard !FileIO.isDirectory(full) else { continue }
                    #expect(try FileIO.read(full).starts(with: Array("age-encryption.org/v1\n".utf8)), "\(full) is not age-encrypted")
                    checked += 1
                }
            }
            #expect(checked >= 4)
        }
    }
}
