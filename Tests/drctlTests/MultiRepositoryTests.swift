import DRCore
import Foundation
import Testing
import TestSupport

/// `repositories:` with two local repositories: every snapshot goes to both (or to
/// `copy_to:`), a restore reads from the repository that still holds an object and says so.
@Suite("several repositories")
struct MultiRepositoryTests {
    @Test("snapshots go to every repository (copy_to: limits); a lost object is read from the other; verify --repository names the gap")
    func twoRepositories() throws {
        let git = try GitFixture()
        try withTemporaryDirectory { dir in
            try git.makeGitOpsRepository(at: "\(dir)/gitops")
            try FileIO.createDirectory("\(dir)/volume")
            try FileIO.atomicWrite(Array(repeating: 0x43, count: 30_000), to: "\(dir)/volume/file.bin")
            try FileIO.createDirectory("\(dir)/scratch")
            try FileIO.atomicWrite(Array("local only\n".utf8), to: "\(dir)/scratch/notes.txt")
            #expect(try runDrctl(["init", "\(dir)/setup"]).status == 0)
            let config = "\(dir)/setup/drctl.yaml"
            var text = try String(contentsOfFile: config, encoding: .utf8)
            text = text.replacingOccurrences(of: "repository: repository", with: """
                repositories:
                  - {name: local, path: repository}
                  - {name: offsite, path: ../offsite}
                """)
            text = text.replacingOccurrences(of: "sources: []", with: """
                sources:
                  - name: gitops
                    kind: git-bundle
                    repo: ../gitops
                  - name: data
                    kind: pvc-archive
                    path: ../volume
                  - name: scratch
                    kind: pvc-archive
                    path: ../scratch
                    copy_to: []
                """)
            try text.write(toFile: config, atomically: true, encoding: .utf8)
            let backup = try runDrctl(["backup", "--config", config])
            #expect(backup.status == 0, "\(backup.stdoutText)\n\(backup.stderr)")
            #expect(FileIO.list("\(dir)/offsite/snapshots").count == 2, "gitops and data, not scratch")
            #expect(FileIO.list("\(dir)/setup/repository/snapshots").count == 3)
            #expect(FileIO.list("\(dir)/offsite/catalogs").count == 1, "the catalog copy goes to every repository")

            // The local copy of the volume archive is lost.
            let listed = try runDrctl(["snapshots", "list", "--json", "--config", config])
            let rows = try #require(try JSONSerialization.jsonObject(with: Data(listed.stdout)) as? [[String: Any]])
            let data = try #require(rows.first { $0["source"] as? String == "data" }?["id"] as? String)
            let objects = "\(dir)/setup/repository/objects"
            var removed = 0
            for folder in FileIO.list(objects) {
                for name in FileIO.list("\(objects)/\(folder)") where FileIO.exists("\(dir)/offsite/objects/\(folder)/\(name)") {
                    FileIO.remove("\(objects)/\(folder)/\(name)")
                    removed += 1
                }
            }
            #expect(removed > 0)
            let local = try runDrctl(["verify", "--repository", "local", "--config", config])
            #expect(local.status == DRError.Code.dataCorrupt.exitCode, "\(local.stdoutText)")
            #expect(local.stdoutText.contains("missing from the repository"))
            let offsite = try runDrctl(["verify", "--read-data", "--repository", "offsite", "--config", config, "--", data])
            #expect(offsite.status == 0, "\(offsite.stdoutText)\n\(offsite.stderr)")
            let both = try runDrctl(["verify", "--read-data", "--config", config])
            #expect(both.status == 0, "the set still holds every object: \(both.stdoutText)")

            let extract = try runDrctl(["snapshots", "extract", data, "--to", "\(dir)/out", "--config", config])
            #expect(extract.status == 0, "\(extract.stderr)")
            #expect(extract.stderr.contains("read from repository offsite"), "\(extract.stderr)")
            #expect(try FileIO.read("\(dir)/out/file.bin") == Array(repeating: 0x43, count: 30_000))

            // copy_to naming an unknown repository is a config error.
            try text.replacingOccurrences(of: "copy_to: []", with: "copy_to: [offsit]").write(toFile: config, atomically: true, encoding: .utf8)
            let bad = try runDrctl(["snapshots", "list", "--config", config])
            #expect(bad.status == DRError.Code.config.exitCode)
            #expect(bad.stderr.contains("sources[2].copy_to"), "\(bad.stderr)")
        }
    }
}
