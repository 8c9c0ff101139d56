import DRCore
import Foundation

/// Runs the real `git` for the simulated ArgoCD controller: a fresh bare clone per sync
/// (through git's transport, so missing or corrupted objects fail as they would for ArgoCD).
struct GitRunner: Sendable {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    struct Fetched: Sendable {
        var sha: String
        var manifests: [JSONValue]
    }

    let gitPath: String
    let timeout: Duration

    func fetch(repoURL: String, revision: String, path: String) throws -> Fetched {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("fakekube-git-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        let repository = work.appendingPathComponent("repo.git").path
        let clone = try run(["clone", "--bare", "--no-local", "--quiet", repoURL, repository], home: work)
        guard clone.status == 0 else {
            throw Failure(description: "rpc error: code = Unknown desc = failed to fetch \(repoURL): \(clone.output)")
        }
        let parsed = try run(["-C", repository, "rev-parse", "--verify", "--quiet", "\(revision)^{commit}"], home: work)
        let sha = parsed.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        guard parsed.status == 0, !sha.isEmpty else {
            throw Failure(description: "rpc error: code = Unknown desc = unable to resolve '\(revision)' to a commit SHA in \(repoURL)")
        }
        let check = try run(["-C", repository, "fsck", "--connectivity-only", "--no-dangling", sha], home: work)
        guard check.status == 0 else {
            throw Failure(description: "rpc error: code = Unknown desc = repository \(repoURL) is corrupted: \(check.output)")
        }
        return Fetched(sha: sha, manifests: try manifests(repository: repository, sha: sha, path: path, home: work))
    }

    /// Plain YAML/JSON manifests directly under `path` at `sha`.
    private func manifests(repository: String, sha: String, path: String, home: URL) throws -> [JSONValue] {
        let trimmed = path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        let spec = trimmed.isEmpty || trimmed == "." ? sha : "\(sha):\(trimmed)"
        let listing = try run(["-C", repository, "ls-tree", "--name-only", spec], home: home)
        guard listing.status == 0 else {
            throw Failure(description: "rpc error: code = Unknown desc = \(path): app path does not exist")
        }
        var result: [JSONValue] = []
        for file in listing.stdout.split(separator: "\n").map(String.init).sorted()
        where file.hasSuffix(".yaml") || file.hasSuffix(".yml") || file.hasSuffix(".json") {
            let object = trimmed.isEmpty || trimmed == "." ? "\(sha):\(file)" : "\(sha):\(trimmed)/\(file)"
            let shown = try run(["-C", repository, "show", object], home: home)
            guard shown.status == 0 else { throw Failure(description: "failed to read \(file): \(shown.output)") }
            do {
                result += try JSONValue.parseYAMLDocuments(shown.stdout).filter { $0["kind"] != nil }
            } catch {
                throw Failure(description: "rpc error: code = Unknown desc = failed to parse \(file): \(error)")
            }
        }
        return result
    }

    struct Result: Sendable {
        var status: Int32
        var stdout: String
        var stderr: String
        var output: String { stderr.isEmpty ? stdout.trimmingCharacters(in: .whitespacesAndNewlines) : stderr.trimmingCharacters(in: .whitespacesAndNewlines) }
    }

    /// Runs git under coreutils `timeout`, output to files (no pipe deadlocks), no terminal prompts.
    func run(_ arguments: [String], home: URL) throws -> Result {
        let id = UUID().uuidString
        let outURL = home.appendingPathComponent("out-\(id)")
        let errURL = home.appendingPathComponent("err-\(id)")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL)
        let err = try FileHandle(forWritingTo: errURL)
        defer {
            try? out.close()
            try? err.close()
        }
        let process = Process()
        let seconds = max(1, Int(timeout.components.seconds))
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/timeout") {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
            process.arguments = ["--kill-after=2", String(seconds), gitPath] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: gitPath)
            process.arguments = arguments
        }
        process.environment = [
            "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": home.path, "GIT_TERMINAL_PROMPT": "0",
            "GIT_CONFIG_NOSYSTEM": "1", "GIT_ASKPASS": "/bin/true", "LC_ALL": "C",
        ]
        process.currentDirectoryURL = home
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = out
        process.standardError = err
        // Blocking on purpose: the controller runs on a dispatch thread, never on the
        // cooperative pool, which busy synchronous tests can saturate.
        try process.run()
        process.waitUntilExit()
        let status = process.terminationStatus
        let stdout = String(decoding: (try? Data(contentsOf: outURL)) ?? Data(), as: UTF8.self)
        var stderr = String(decoding: (try? Data(contentsOf: errURL)) ?? Data(), as: UTF8.self)
        if status == 124 || status == 137 { stderr = "git timed out after \(seconds)s: \(stderr)" }
        return Result(status: status, stdout: stdout, stderr: stderr)
    }
}
