import DRCore
import Foundation
import Testing
import TestSupport

/// `--insecure-permissions` and the identity-file check through the binary.
@Suite("drctl identity permissions")
struct InsecurePermissionsTests {
    @Test("a world-readable identity stops backup and extract (exit 8, file, mode, chmod); --insecure-permissions overrides; exports are 0600")
    func worldReadableIdentity() throws {
        try withTemporaryDirectory { dir in
            #expect(try runDrctl(["init", "\(dir)/setup"]).status == 0)
            let config = "\(dir)/setup/drctl.yaml"
            try SecretFixtures.kubectlList().write(toFile: "\(dir)/secrets.yaml", atomically: true, encoding: .utf8)
            let text = try String(contentsOfFile: config, encoding: .utf8)
                .replacingOccurrences(of: "sources: []", with: "sources:\n  - name: secrets\n    kind: secrets\n    file: ../secrets.yaml\n")
            try text.write(toFile: config, atomically: true, encoding: .utf8)
            let backup = try runDrctl(["backup", "--config", config])
            #expect(backup.status == 0, "\(backup.stderr)")
            let id = try #require(backup.stdoutText.split(separator: " ").dropFirst(3).first.map(String.init))

            let identity = "\(dir)/setup/keys/identity.txt"
            #expect(chmod(identity, 0o644) == 0)
            let refused = try runDrctl(["snapshots", "extract", id, "--to", "\(dir)/out.yaml", "--config", config])
            #expect(refused.status == DRError.Code.refused.exitCode, "\(refused.stderr)")
            #expect(refused.stderr.contains("the age identity file \(identity) has mode 0644, which is world-readable"), "\(refused.stderr)")
            #expect(refused.stderr.contains("chmod 640 \(identity)"), "\(refused.stderr)")
            #expect(!FileManager.default.fileExists(atPath: "\(dir)/out.yaml"))
            let failedBackup = try runDrctl(["backup", "--config", config])
            #expect(failedBackup.status != 0)
            #expect((failedBackup.stdoutText + failedBackup.stderr).contains("mode 0644"), "\(failedBackup.stdoutText)\n\(failedBackup.stderr)")

            let allowed = try runDrctl(["snapshots", "extract", id, "--to", "\(dir)/out.yaml", "--insecure-permissions", "--config", config])
            #expect(allowed.status == 0, "\(allowed.stderr)")
            let mode = try FileManager.default.attributesOfItem(atPath: "\(dir)/out.yaml")[.posixPermissions] as? Int
            #expect(mode == 0o600)
            #expect(try String(contentsOfFile: "\(dir)/out.yaml", encoding: .utf8).contains(SecretFixtures.base64Values[0]))

            // Group-readable (a Secret volume with fsGroup) is fine without the flag.
            #expect(chmod(identity, 0o440) == 0)
            let groupReadable = try runDrctl(["snapshots", "extract", id, "--to", "\(dir)/again.yaml", "--config", config])
            #expect(groupReadable.status == 0, "\(groupReadable.stderr)")
        }
    }
}
