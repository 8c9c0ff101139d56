import DRCore
import Foundation
import Testing
import TestSupport

extension MotoSuite {
    @Suite("drctl with an S3 repository")
    struct EndToEndTests {
        @Test("drctl init --repository s3://…, backup of a git repository and a volume, list, extract both back")
        func backupAndExtract() throws {
            let moto = try MotoServer.require()
            let bucket = try moto.makeBucket()
            let git = try GitFixture()
            try withTemporaryDirectory { dir in
                try git.makeGitOpsRepository(at: "\(dir)/gitops")
                try makeCorpus(["\(dir)/vol", "--mb", "1"])
                let environment = moto.environment()
                let setup = try runDrctl(["init", "\(dir)/setup", "--repository", "s3://\(bucket)/backups",
                                          "--endpoint", moto.endpoint, "--region", "us-east-1"], environment: environment)
                #expect(setup.succeeded, "init failed: \(setup.stderr)")
                #expect(setup.stdoutText.contains("created repository s3://\(bucket)/backups"))
                #expect(!FileManager.default.fileExists(atPath: "\(dir)/setup/repository"))
                let config = "\(dir)/setup/drctl.yaml"
                let sources = "sources:\n  - name: gitops\n    kind: git-bundle\n    repo: ../gitops\n  - name: wp\n    kind: pvc-archive\n    path: ../vol\n"
                let text = try String(contentsOfFile: config, encoding: .utf8).replacingOccurrences(of: "sources: []", with: sources)
                try text.write(toFile: config, atomically: true, encoding: .utf8)

                let backup = try runDrctl(["backup", "--config", config], environment: environment)
                #expect(backup.status == 0, "\(backup.stderr)")
                #expect(backup.stdoutText.contains("gitops: ok snapshot "))
                #expect(backup.stdoutText.contains("wp: ok snapshot "))

                let keys = try moto.listKeys(bucket: bucket, prefix: "backups/")
                #expect(keys.contains("backups/config"))
                #expect(keys.filter { $0.hasPrefix("backups/snapshots/") }.count == 2)
                #expect(keys.contains { $0.hasPrefix("backups/objects/") })
                let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: "\(dir)/setup/tmp")) ?? []
                #expect(leftovers.filter { $0.hasPrefix("s3-") }.isEmpty, "staged uploads are removed: \(leftovers)")

                let list = try runDrctl(["snapshots", "--json", "--config", config], environment: environment)
                let rows = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout)) as? [[String: Any]])
                let gitID = try #require(rows.first { $0["source"] as? String == "gitops" }?["id"] as? String)
                let volumeID = try #require(rows.first { $0["source"] as? String == "wp" }?["id"] as? String)

                let extractGit = try runDrctl(["snapshots", "extract", gitID, "--to", "\(dir)/out-git", "--config", config], environment: environment)
                #expect(extractGit.status == 0, "\(extractGit.stderr)")
                #expect(try git.refs("\(dir)/out-git") == git.refs("\(dir)/gitops"))
                let extractVolume = try runDrctl(["snapshots", "extract", volumeID, "--to", "\(dir)/out-vol", "--config", config], environment: environment)
                #expect(extractVolume.status == 0, "\(extractVolume.stderr)")
                #expect(try treeManifest("\(dir)/out-vol") == treeManifest("\(dir)/vol"))

                // Wrong credentials: a clear error, no new snapshot.
                let wrong = try runDrctl(["backup", "--config", config], environment: moto.environment(secret: "wrong"))
                #expect(wrong.status != 0)
                #expect(wrong.stderr.contains("SignatureDoesNotMatch"), "\(wrong.stderr)")
                #expect(!wrong.stderr.contains(moto.secretAccessKey))
                let after = try runDrctl(["snapshots", "--json", "--config", config], environment: environment)
                #expect((try JSONSerialization.jsonObject(with: Data(after.stdout)) as? [[String: Any]])?.count == 2)
            }
        }

        @Test("catalog recovery from the S3 repository alone, including snapshots taken after the last catalog copy")
        func recoverFromS3() throws {
            let moto = try MotoServer.require()
            let bucket = try moto.makeBucket()
            let git = try GitFixture()
            try withTemporaryDirectory { dir in
                try git.makeGitOpsRepository(at: "\(dir)/gitops")
                try makeCorpus(["\(dir)/vol", "--mb", "1"])
                let environment = moto.environment()
                let setup = try runDrctl(["init", "\(dir)/setup", "--repository", "s3://\(bucket)/dr",
                                          "--endpoint", moto.endpoint, "--region", "us-east-1"], environment: environment)
                #expect(setup.succeeded, "init failed: \(setup.stderr)")
                let config = "\(dir)/setup/drctl.yaml"
                let original = try String(contentsOfFile: config, encoding: .utf8).replacingOccurrences(
                    of: "sources: []", with: "sources:\n  - name: gitops\n    kind: git-bundle\n    repo: ../gitops\n  - name: wp\n    kind: pvc-archive\n    path: ../vol\n")
                try original.write(toFile: config, atomically: true, encoding: .utf8)
                #expect(try runDrctl(["backup", "--config", config], environment: environment).status == 0)
                #expect(try moto.listKeys(bucket: bucket, prefix: "dr/catalogs/").count == 1)
                // Snapshots after the last copy exist only as manifests in S3.
                try (original + "catalog_copies: false\n").write(toFile: config, atomically: true, encoding: .utf8)
                try makeCorpus(["\(dir)/vol", "--mutate", "20", "--seed", "7"])
                try git.commit("\(dir)/gitops", file: "apps/late.yaml", content: "kind: ConfigMap\n", message: "Late")
                #expect(try runDrctl(["backup", "--config", config], environment: environment).status == 0)
                let listed = try runDrctl(["snapshots", "--json", "--config", config], environment: environment)
                let before = Set(((try JSONSerialization.jsonObject(with: Data(listed.stdout)) as? [[String: Any]]) ?? []).compactMap { $0["id"] as? String })
                #expect(before.count == 4)

                // Only S3 and an offline identity survive.
                try FileManager.default.createDirectory(atPath: "\(dir)/offline", withIntermediateDirectories: true)
                try FileManager.default.copyItem(atPath: "\(dir)/setup/keys/identity.txt", toPath: "\(dir)/offline/identity.txt")
                try FileManager.default.removeItem(atPath: "\(dir)/setup")
                let recovered = try runDrctl(["catalog", "recover", "--from", "s3://\(bucket)/dr", "--endpoint", moto.endpoint,
                                              "--region", "us-east-1", "--identity", "\(dir)/offline/identity.txt", "--json"],
                                             environment: environment)
                #expect(recovered.status == 0, "\(recovered.stdoutText)\n\(recovered.stderr)")
                let report = try #require(try JSONSerialization.jsonObject(with: Data(recovered.stdout)) as? [String: Any])
                #expect((report["replayed"] as? [String])?.count == 2)
                try FileIO.createDirectory("\(dir)/setup/keys")
                try FileManager.default.copyItem(atPath: "\(dir)/offline/identity.txt", toPath: "\(dir)/setup/keys/identity.txt")
                let after = try runDrctl(["snapshots", "--json", "--config", config], environment: environment)
                let rows = (try JSONSerialization.jsonObject(with: Data(after.stdout)) as? [[String: Any]]) ?? []
                #expect(Set(rows.compactMap { $0["id"] as? String }) == before)
                let verify = try runDrctl(["verify", "--read-data", "--config", config], environment: environment)
                #expect(verify.status == 0, "\(verify.stdoutText)\n\(verify.stderr)")
                for row in rows {
                    let id = try #require(row["id"] as? String)
                    let extract = try runDrctl(["snapshots", "extract", id, "--to", "\(dir)/out/\(id)", "--config", config], environment: environment)
                    #expect(extract.status == 0, "\(id): \(extract.stderr)")
                }
                let lastVolume = try #require(rows.last { $0["source"] as? String == "wp" }?["id"] as? String)
                #expect(try treeManifest("\(dir)/out/\(lastVolume)") == treeManifest("\(dir)/vol"))
            }
        }
    }
}
