import DRCore
import Foundation
import Snapshots
import Testing
import TestSupport

@Suite("secrets exports (file input)")
struct SecretsExportTests {
    func source(_ file: String, extra: String = "") -> String {
        "  - name: secrets\n    kind: secrets\n    file: \(file)\n" + extra
    }

    func backup(_ workspace: Workspace) throws -> BackupOutcome {
        let outcome = try #require(try Backup.run(workspace).outcomes.first)
        #expect(outcome.succeeded, "backup failed: \(outcome.error ?? "")")
        return outcome
    }

    @Test("export from kubectl output: cleaned List, excluded types, names and keyed digests in the catalog")
    func exportFromFile() throws {
        try withTemporaryDirectory { dir in
            let input = "\(dir)/secrets.yaml"
            try SecretFixtures.kubectlList().write(toFile: input, atomically: true, encoding: .utf8)
            let workspace = try makeWorkspace(in: "\(dir)/drctl", sourcesYAML: source(input, extra: "    exclude_helm_releases: true\n"))
            let snapshot = try #require(try backup(workspace).snapshot)

            let records = try workspace.catalog.kubeObjects(of: snapshot.id)
            #expect(records.map(\.name).sorted() == ["argocd-initial-admin-secret", "plugin-deployer-tls", "wordpress-db"])
            let db = try #require(records.first { $0.name == "wordpress-db" })
            #expect(db.keys == ["password", "username"])
            #expect(db.type == "Opaque")
            #expect(db.digest.count == 64)

            let objects = try KubeExtract.objects(of: snapshot, in: workspace)
            #expect(objects.count == 3)
            let wordpress = try #require(objects.first { $0[path: ["metadata", "name"]]?.stringValue == "wordpress-db" })
            for field in ["managedFields", "resourceVersion", "uid", "creationTimestamp", "ownerReferences"] {
                #expect(wordpress[path: ["metadata", field]] == nil, "\(field) was not removed")
            }
            #expect(wordpress[path: ["metadata", "labels", "app"]]?.stringValue == "wordpress")
            #expect(wordpress[path: ["data", "password"]]?.stringValue == SecretFixtures.b64(SecretFixtures.values[0]))
        }
    }

    @Test("the stored export decrypts with the stock age tool into a List kubectl accepts")
    func decryptsWithAge() throws {
        let environment = Environment.current
        guard let age = environment.which("age") else {
            Issue.record("the age tool is not installed (scripts/test installs it)")
            return
        }
        try withTemporaryDirectory { dir in
            let input = "\(dir)/secrets.json"
            // kubectl's JSON form is accepted too.
            let list = try #require(try JSONValue.parseYAMLDocuments(SecretFixtures.kubectlList()).first)
            try list.jsonData().write(to: URL(fileURLWithPath: input))
            let workspace = try makeWorkspace(in: "\(dir)/drctl", sourcesYAML: source(input))
            let snapshot = try #require(try backup(workspace).snapshot)
            let object = try #require(try workspace.catalog.objects(of: snapshot.id).first { $0.role == "objects" })
            #expect(object.object.encryption == .age)
            let stored = "\(dir)/drctl/repository/objects/\(object.object.stored.sha256.prefix(2))/\(object.object.stored.sha256)"
            let identity = try #require(workspace.config.encryption?.identity)
            let result = try Command(age, ["-d", "-i", identity, stored]).run()
            #expect(result.succeeded, "age -d failed: \(result.stderr)")
            let documents = try JSONValue.parseYAMLDocuments(result.stdoutText)
            #expect(documents.first?["kind"]?.stringValue == "List")
            // Helm releases are kept unless excluded; service-account tokens never are.
            let names = documents.first?["items"]?.arrayValue?.compactMap { $0[path: ["metadata", "name"]]?.stringValue } ?? []
            #expect(names.contains("sh.helm.release.v1.mariadb.v1"))
            #expect(!names.contains("default-token-abcde"))
        }
    }

    @Test("changes are detected from digests alone; a lost digest key is recovered from the repository")
    func changeDetection() throws {
        try withTemporaryDirectory { dir in
            let input = "\(dir)/secrets.yaml"
            try SecretFixtures.kubectlList().write(toFile: input, atomically: true, encoding: .utf8)
            let workspace = try makeWorkspace(in: "\(dir)/drctl", sourcesYAML: source(input))
            let first = try #require(try backup(workspace).snapshot)

            try SecretFixtures.kubectlList(dbPassword: "rotated-password-55").write(toFile: input, atomically: true, encoding: .utf8)
            let second = try backup(workspace)
            #expect(second.note.contains("0 added, 1 changed, 0 removed"), "note: \(second.note)")

            FileIO.remove(DigestKey.path(dataDir: workspace.config.dataDir))
            let third = try backup(workspace)
            #expect(third.note.contains("unchanged"), "note: \(third.note)")

            let before = try workspace.catalog.kubeObjects(of: first.id)
            let after = try workspace.catalog.kubeObjects(of: try #require(third.snapshot).id)
            let changed = Set(before.filter { b in after.first { $0.name == b.name }?.digest != b.digest }.map(\.name))
            #expect(changed == ["wordpress-db"])
        }
    }

    // "No secret value anywhere" (catalog, journal, logs, metrics, outputs, repository bytes)
    // is proven once, end to end, in ActionsTests/SecretLeakTests.swift.

    @Test("a secrets source without recipients is a config error naming the source")
    func refusesPlaintext() throws {
        try withTemporaryDirectory { dir in
            let error = #expect(throws: (any Error).self) {
                _ = try makeWorkspace(in: dir, sourcesYAML: source("\(dir)/x.yaml"), encrypt: false)
            }
            let text = error.map { DRError.describe($0) } ?? ""
            #expect(text.contains("source `secrets`") && text.contains("encryption.recipients"), "\(text)")
        }
    }

    @Test("label selectors filter file input like the API server would")
    func labelSelector() throws {
        let object = try #require(try JSONValue.parseYAMLDocuments("metadata:\n  labels:\n    app: web\n    tier: front\n").first)
        for (selector, expected) in [
            ("app=web", true), ("app==web,tier!=back", true), ("app in (api, web)", true), ("app notin (web)", false),
            ("tier", true), ("!tier", false), ("!legacy", true), ("app=api", false),
        ] {
            #expect(try LabelSelector(parsing: selector).matches(object) == expected, "\(selector)")
        }
        #expect(throws: DRError.self) { try LabelSelector(parsing: "app in web") }
    }
}
