import DRCore
import Foundation
import Testing
import TestSupport

/// `drctl catalog recover` on a machine that lost everything but the repository and the
/// age identity, through the real binary.
@Suite("catalog recovery")
struct RecoveryTests {
    func ids(_ config: String) throws -> Set<String> {
        let listed = try runDrctl(["snapshots", "list", "--json", "--config", config])
        #expect(listed.status == 0, "\(listed.stderr)")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(listed.stdout)) as? [[String: Any]])
        return Set(rows.compactMap { $0["id"] as? String })
    }

    @Test("drctl init writes a recovery kit: repository, recipient, the recover command; the identity only on request")
    func recoveryKit() throws {
        try withTemporaryDirectory { dir in
            #expect(try runDrctl(["init", "\(dir)/plain"]).status == 0)
            let kit = try String(contentsOfFile: "\(dir)/plain/recovery-kit.txt", encoding: .utf8)
            #expect(kit.contains("Repository: \(dir)/plain/repository"))
            #expect(kit.contains("drctl catalog recover --from \(dir)/plain/repository --identity IDENTITY-FILE"))
            #expect(kit.contains("Encrypted to: age1"))
            #expect(!kit.contains("AGE-SECRET-KEY"))
            let created = try runDrctl(["init", "\(dir)/secret", "--kit-with-identity"])
            #expect(created.stdoutText.contains("store it offline"))
            let secret = "\(dir)/secret/recovery-kit.txt"
            #expect(try String(contentsOfFile: secret, encoding: .utf8).contains("AGE-SECRET-KEY-1"))
            let mode = try FileManager.default.attributesOfItem(atPath: secret)[.posixPermissions] as? Int
            #expect(mode == 0o600)
        }
    }

    @Test("lose the data folder: recover the newest catalog copy, replay the snapshots taken after it, verify and extract everything")
    func recoverAfterLosingEverything() throws {
        let git = try GitFixture()
        try withTemporaryDirectory { dir in
            try git.makeGitOpsRepository(at: "\(dir)/gitops")
            try FileIO.createDirectory("\(dir)/volume/uploads")
            try FileIO.atomicWrite(Array(repeating: 0x41, count: 40_000), to: "\(dir)/volume/uploads/a.jpg")
            try FileIO.atomicWrite(Array(SecretFixtures.kubectlList().utf8), to: "\(dir)/secrets.yaml")
            #expect(try runDrctl(["init", "\(dir)/setup"]).status == 0)
            let config = "\(dir)/setup/drctl.yaml"
            let original = try String(contentsOfFile: config, encoding: .utf8).replacingOccurrences(of: "sources: []", with: """
                sources:
                  - name: gitops
                    kind: git-bundle
                    repo: ../gitops
                  - name: data
                    kind: pvc-archive
                    path: ../volume
                  - name: secrets
                    kind: secrets
                    file: ../secrets.yaml
                """)
            try original.write(toFile: config, atomically: true, encoding: .utf8)
            #expect(try runDrctl(["backup", "--config", config]).status == 0)
            try git.commit("\(dir)/gitops", file: "apps/more.yaml", content: "kind: ConfigMap\n", message: "More")
            try FileIO.atomicWrite(Array(repeating: 0x42, count: 20_000), to: "\(dir)/volume/uploads/b.jpg")
            #expect(try runDrctl(["backup", "--config", config]).status == 0)
            let copies = FileIO.list("\(dir)/setup/repository/catalogs")
            #expect(copies.count == 2, "one catalog copy per backup run")
            // A third run without a copy: these snapshots are only in their manifests.
            try (original + "catalog_copies: false\n").write(toFile: config, atomically: true, encoding: .utf8)
            FileIO.remove("\(dir)/volume/uploads/a.jpg")
            try git.commit("\(dir)/gitops", file: "apps/last.yaml", content: "kind: ConfigMap\n", message: "Last")
            #expect(try runDrctl(["backup", "--config", config]).status == 0)
            #expect(FileIO.list("\(dir)/setup/repository/catalogs").count == 2)
            let before = try ids(config)
            #expect(before.count == 9)
            let refs = try git.refs("\(dir)/gitops")

            // The machine burns: only the repository and an offline copy of the identity survive.
            try FileManager.default.createDirectory(atPath: "\(dir)/offline", withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: "\(dir)/setup/keys/identity.txt", toPath: "\(dir)/offline/identity.txt")
            for name in FileIO.list("\(dir)/setup") where name != "repository" { FileIO.remove("\(dir)/setup/\(name)") }

            let recovered = try runDrctl(["catalog", "recover", "--from", "\(dir)/setup/repository",
                                          "--identity", "\(dir)/offline/identity.txt", "--json"])
            #expect(recovered.status == 0, "\(recovered.stdoutText)\n\(recovered.stderr)")
            let report = try #require(try JSONSerialization.jsonObject(with: Data(recovered.stdout)) as? [String: Any])
            #expect(report["config"] as? String == config)
            #expect(report["snapshotsInCopy"] as? Int == 6)
            #expect((report["replayed"] as? [String])?.count == 3)
            #expect((report["problems"] as? [String])?.isEmpty == true, "\(report)")
            #expect(report["identityMissing"] as? String == "\(dir)/setup/keys/identity.txt")
            #expect(!(try String(contentsOfFile: config, encoding: .utf8)).contains("catalog_copies: false"),
                    "the config comes from the newest copy")
            try FileIO.createDirectory("\(dir)/setup/keys")
            try FileManager.default.copyItem(atPath: "\(dir)/offline/identity.txt", toPath: "\(dir)/setup/keys/identity.txt")

            #expect(try ids(config) == before)
            let verify = try runDrctl(["verify", "--read-data", "--config", config])
            #expect(verify.status == 0, "\(verify.stdoutText)\n\(verify.stderr)")
            for id in before {
                let out = "\(dir)/out/\(id)"
                let extract = try runDrctl(["snapshots", "extract", id, "--to", out, "--config", config])
                #expect(extract.status == 0, "\(id): \(extract.stderr)")
            }
            // The newest snapshots (only in manifests) restore the latest state exactly.
            let listing = try #require(try JSONSerialization.jsonObject(with: Data(try runDrctl(["snapshots", "list", "--json", "--config", config]).stdout)) as? [[String: Any]])
            let lastGit = try #require(listing.last { $0["source"] as? String == "gitops" }?["id"] as? String)
            let lastData = try #require(listing.last { $0["source"] as? String == "data" }?["id"] as? String)
            #expect(try git.refs("\(dir)/out/\(lastGit)") == refs)
            #expect(!FileIO.exists("\(dir)/out/\(lastData)/uploads/a.jpg"), "a deletion after the last copy is replayed")
            #expect(FileIO.exists("\(dir)/out/\(lastData)/uploads/b.jpg"))
            // A drill of corrupted-repo binds and restores the recovered newest snapshot (no
            // cluster here: its Kubernetes steps are not rehearsed).
            let drill = try runDrctl(["drill", "corrupted-repo", "--yes", "--json", "--config", config])
            #expect(drill.status == 0, "\(drill.stdoutText)\n\(drill.stderr)")
            let drilled = try #require(try JSONSerialization.jsonObject(with: Data(drill.stdout)) as? [String: Any])
            #expect(drilled["result"] as? String == "WARNINGS")
            #expect(((drilled["snapshots"] as? [[String: Any]]) ?? []).map { $0["id"] as? String } == [lastGit])
        }
    }
}
