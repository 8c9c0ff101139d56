public import DRCore
import Foundation
public import Logging

/// A fresh folder for one test, removed afterwards. Tests never share or change the
/// working directory.
public func withTemporaryDirectory<T>(_ body: (String) throws -> T) throws -> T {
    let path = FileManager.default.temporaryDirectory
        .appendingPathComponent("drctl-test-\(UUID().uuidString.prefix(8))").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try body(path)
}

/// A logger that stays quiet unless a test fails loudly.
public let testLogger: Logger = {
    var logger = Logger(label: "drctl-test") { _ in SwiftLogNoOpLogHandler() }
    logger.logLevel = .critical
    return logger
}()

/// Runs git for fixtures, with a fixed identity and dates passed to the child only.
public struct GitFixture: Sendable {
    public let environment: Environment
    public let git: String

    public init() throws {
        var env = Environment.current
        env["GIT_AUTHOR_NAME"] = "drctl test"
        env["GIT_AUTHOR_EMAIL"] = "test@drctl.invalid"
        env["GIT_COMMITTER_NAME"] = "drctl test"
        env["GIT_COMMITTER_EMAIL"] = "test@drctl.invalid"
        env["GIT_CONFIG_NOSYSTEM"] = "1"
        env["GIT_CONFIG_GLOBAL"] = "/dev/null"
        env["LC_ALL"] = "C"
        environment = env
        git = try env.require("git", purpose: "run the tests")
    }

    /// Runs `git args` in `directory`, failing the test with git's stderr on error.
    @discardableResult
    public func callAsFunction(_ arguments: String..., in directory: String? = nil) throws -> String {
        try run(arguments, in: directory)
    }

    @discardableResult
    public func run(_ arguments: [String], in directory: String? = nil) throws -> String {
        var command = Command(git, (directory.map { ["-C", $0] } ?? []) + arguments, environment: environment)
        command.timeout = .seconds(120)
        let result = try command.run()
        guard result.succeeded else {
            throw DRError(.failed, "fixture git \(arguments.joined(separator: " ")) failed: \(result.stderr)")
        }
        return result.stdoutText
    }

    /// Writes a file and commits it.
    public func commit(_ repo: String, file: String, content: String, message: String) throws {
        let path = "\(repo)/\(file)"
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try content.write(toFile: path, atomically: true, encoding: .utf8)
        try run(["add", file], in: repo)
        try run(["commit", "--quiet", "-m", message], in: repo)
    }

    /// `for-each-ref` of a repository as sorted `oid name` lines.
    public func refs(_ repo: String) throws -> [String] {
        try run(["for-each-ref", "--format=%(objectname) %(refname)"], in: repo)
            .split(separator: "\n").map(String.init).sorted()
    }

    /// A non-bare repository with a GitOps-like layout, branches and an annotated tag.
    public func makeGitOpsRepository(at repo: String) throws {
        try run(["init", "--quiet", "-b", "main", repo])
        try commit(repo, file: "base/wordpress-stack.yaml", content: "kind: Deployment\nname: wordpress\n", message: "Initial WordPress deployment")
        try commit(repo, file: "apps/deployer/deployment.yaml", content: "kind: Deployment\nname: deployer\n", message: "Add deployer")
        try run(["tag", "-a", "v1", "-m", "release 1"], in: repo)
        try run(["branch", "feature/ssl"], in: repo)
        try run(["checkout", "--quiet", "-b", "staging"], in: repo)
        try commit(repo, file: "environments/minikube/patches.yaml", content: "replicas: 2\n", message: "Staging patch")
        try run(["checkout", "--quiet", "main"], in: repo)
    }
}

/// Writes a drctl setup in `directory` (via `drctl init`'s code) whose `sources:` are
/// `sourcesYAML` (indented list items), preceded by `topLevelYAML` (e.g. a `cluster:`
/// section), and opens its workspace.
public func makeWorkspace(
    in directory: String, sourcesYAML: String, encrypt: Bool = true, environment: Environment = .current,
    topLevelYAML: String = ""
) throws -> Workspace {
    let result = try Setup.initialize(directory: directory, encrypt: encrypt, logger: testLogger)
    var text = try String(contentsOfFile: result.config, encoding: .utf8)
    text = text.replacingOccurrences(of: "sources: []", with: topLevelYAML + "sources:\n" + sourcesYAML)
    try text.write(toFile: result.config, atomically: true, encoding: .utf8)
    let config = try DRConfig.load(path: result.config, environment: environment.variables)
    return try Workspace.open(config: config, environment: environment, logger: testLogger)
}

/// The built `drctl` executable next to the test bundle.
public func drctlExecutable() throws -> String {
    var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for _ in 0..<3 {
        let candidate = dir.appendingPathComponent("drctl").path
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        dir = dir.deletingLastPathComponent()
    }
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let fallback = root.appendingPathComponent(".build/debug/drctl").path
    guard FileManager.default.isExecutableFile(atPath: fallback) else {
        throw DRError(.notFound, "the drctl binary was not found next to the tests; run `swift build` first")
    }
    return fallback
}

/// Runs the drctl binary with `arguments` and an environment of its own.
public func runDrctl(_ arguments: [String], environment: Environment = .current, cwd: String? = nil) throws -> Command.Result {
    var command = Command(try drctlExecutable(), arguments, environment: environment)
    command.workingDirectory = cwd
    command.timeout = .seconds(300)
    return try command.run()
}

/// Runs blocking work (a child process, kubectl, an action that polls) on a thread of its
/// own, off Swift Testing's cooperative pool, which has only as many threads as cores.
public func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
        let thread = Thread {
            do {
                continuation.resume(returning: try body())
            } catch {
                continuation.resume(throwing: error)
            }
        }
        thread.stackSize = 8 << 20
        thread.start()
    }
}

/// A reproducible random source (SplitMix64), so a failing run can be replayed from its seed.
public struct SeededRandom: RandomNumberGenerator {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
