import DRCore
import Foundation
import TestSupport
import Testing

private var hasCheckTools: Bool {
    ["/usr/bin/python3", "/usr/bin/ldd", "/usr/bin/dpkg"].allSatisfy { FileManager.default.isExecutableFile(atPath: $0) }
}

/// scripts/check-dockerfile run on the debug build of drctl: every shared library it
/// needs belongs to a package the runtime stage installs (the Swift runtime, dynamic in a
/// debug build, is linked statically by the image's release build), and FROM lines are pinned.
/// The script itself builds in release mode when run by hand without `--binary`.
@Suite(.enabled(if: hasCheckTools, "python3, ldd or dpkg is missing"))
struct DockerfileCheckTests {
    private let script = "\(packageRoot)/scripts/check-dockerfile"
    private let dockerfile = "\(packageRoot)/deploy/Dockerfile"

    private func check(_ dockerfile: String, home: String) throws -> (status: Int32, findings: JSONValue) {
        let result = try run("/usr/bin/python3", [script, "--binary", try drctlExecutable(), "--dockerfile", dockerfile, "--json"], home: home)
        #expect(!result.timedOut)
        return (result.status, try JSONValue.parse(json: Data(result.stdout)))
    }

    @Test func dockerfileCoversEveryLibraryOfTheBinary() throws {
        let scratch = try Scratch()
        defer { scratch.cleanup() }
        let (status, findings) = try check(dockerfile, home: scratch.path)
        #expect(status == 0, "\(findings["errors"] ?? .null)")
        #expect(findings["ok"]?.boolValue == true)
        let libraries = findings["libraries"]?.arrayValue ?? []
        let packages = Set(libraries.compactMap { $0["package"]?.stringValue })
        for package in ["libarchive13", "libcurl4", "libsqlite3-0", "libzstd1", "libc6"] {
            #expect(packages.contains(package), "ldd found no library of \(package)")
        }
        #expect(libraries.allSatisfy { ["named", "dependency", "swift-runtime-static"].contains($0["status"]?.stringValue ?? "") })
        #expect(findings["from"]?.arrayValue?.count == 2)
        #expect(findings["from"]?.arrayValue?.allSatisfy { $0["pinned"]?.boolValue == true } == true)
        let named = Set(findings["runtime_packages"]?.strings ?? [])
        for tool in ["git", "age", "zstd", "ca-certificates", "tini", "tzdata"] {
            #expect(named.contains(tool), "the runtime stage does not install \(tool)")
        }
    }

    @Test func aMissingRuntimePackageOrAMovingTagFails() throws {
        let scratch = try Scratch()
        defer { scratch.cleanup() }
        let original = try String(contentsOfFile: dockerfile, encoding: .utf8)
        #expect(original.contains(" libcurl4 ") && original.contains("FROM debian:bookworm-20251229-slim"))
        let broken = original.replacingOccurrences(of: " libcurl4 ", with: " ")
            .replacingOccurrences(of: "FROM debian:bookworm-20251229-slim", with: "FROM debian:bookworm-slim")
            .replacingOccurrences(of: "--static-swift-stdlib", with: "")
        let path = scratch.file("Dockerfile")
        try broken.write(toFile: path, atomically: true, encoding: .utf8)
        let (status, findings) = try check(path, home: scratch.path)
        #expect(status == 1)
        let errors = findings["errors"]?.strings ?? []
        #expect(errors.contains { $0.contains("`libcurl4`") }, "\(errors)")
        #expect(errors.contains { $0.contains("debian:bookworm-slim") })
        #expect(errors.contains { $0.contains("--static-swift-stdlib") })
    }
}

/// The age identity as the CronJob sees it: a Secret volume file reached through the
/// kubelet's `..data` symlinks, mode 0440 (group = fsGroup).
struct SecretVolumeIdentityTests {
    @Test func identityLoadsThroughKubeletSymlinksWithMode0440() throws {
        let scratch = try Scratch()
        defer { scratch.cleanup() }
        let identity = AgeIdentity.generate()
        let volume = scratch.file("identity")
        let timestamped = "\(volume)/..2026_01_01_00_00_00.000000001"
        try FileManager.default.createDirectory(atPath: timestamped, withIntermediateDirectories: true)
        try Data("# created: by kubelet\n\(identity.encoded)\n".utf8).write(to: URL(fileURLWithPath: "\(timestamped)/identity.txt"))
        #expect(chmod("\(timestamped)/identity.txt", 0o440) == 0)
        try FileManager.default.createSymbolicLink(atPath: "\(volume)/..data", withDestinationPath: "..2026_01_01_00_00_00.000000001")
        try FileManager.default.createSymbolicLink(atPath: "\(volume)/identity.txt", withDestinationPath: "..data/identity.txt")
        let loaded = try AgeIdentity.load(file: "\(volume)/identity.txt")
        #expect(loaded.map(\.recipient.description) == [identity.recipient.description])
    }
}
