#if canImport(Glibc)
import Glibc
#endif
import DRCore
import Foundation
import Snapshots

/// Checks what a drill restored into its sandbox against the catalog.
struct DrillVerifier {
    let workspace: Workspace
    let sandbox: DrillSandbox

    /// Every check of the restored copy of `snapshot`; empty for kinds a drill does not restore.
    func verify(_ snapshot: BoundSnapshot) -> [DrillCheck] {
        guard let source = snapshot.source, let kind = snapshot.kind.flatMap(SourceKind.init(rawValue:)) else { return [] }
        switch kind {
        case .gitBundle:
            return verifyGit(snapshot.id, source: source)
        case .pvcArchive:
            return [guarded("volume \(source): file hashes") { try verifyVolume(snapshot.id, source: source) }]
        case .secrets, .argocdState:
            return [guarded("export \(source): objects") { try verifyExport(snapshot.id, source: source) }]
        }
    }

    /// A check whose errors become a failed check.
    private func guarded(_ name: String, _ body: () throws -> DrillCheck) -> DrillCheck {
        do {
            return try body()
        } catch {
            return DrillCheck(name: name, passed: false, detail: DRError.describe(error))
        }
    }

    // MARK: - Git

    private func verifyGit(_ id: String, source: String) -> [DrillCheck] {
        let path = sandbox.git(source)
        let name = "git \(source)"
        guard FileIO.isDirectory(path) else {
            return [DrillCheck(name: "\(name): restored", passed: false, detail: "\(path) was not restored by any step")]
        }
        let git: Git
        do {
            git = try Git(environment: workspace.environment, logger: workspace.logger)
        } catch {
            return [DrillCheck(name: "\(name): git", passed: false, detail: DRError.describe(error))]
        }
        return [
            guarded("\(name): refs") { try compareRefs(id, in: path, git: git, name: "\(name): refs") },
            guarded("\(name): git fsck") {
                let problem = try GitTarget.fsckProblem(path, git: git, timeout: .seconds(600))
                return DrillCheck(name: "\(name): git fsck", passed: problem == nil, detail: problem ?? "clean")
            },
            guarded("\(name): clone over git://") { try cloneCheck(id, source: source, git: git) },
        ]
    }

    private func refs(in repo: String, git: Git) throws -> [String: String] {
        var refs: [String: String] = [:]
        for line in try git.run(["for-each-ref", "--format=%(objectname) %(refname)"], in: repo).split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1)
            if parts.count == 2 { refs[String(parts[1])] = String(parts[0]) }
        }
        return refs
    }

    private func compareRefs(_ id: String, in repo: String, git: Git, name: String) throws -> DrillCheck {
        let recorded = Dictionary(
            try workspace.catalog.refs(of: id).filter { $0.name != "HEAD" }.map { ($0.name, $0.oid) },
            uniquingKeysWith: { first, _ in first })
        let actual = try refs(in: repo, git: git)
        var differences: [String] = []
        for (ref, oid) in recorded.sorted(by: { $0.key < $1.key }) {
            switch actual[ref] {
            case nil: differences.append("\(ref) missing")
            case let found? where found != oid: differences.append("\(ref) is \(found), the snapshot recorded \(oid)")
            default: break
            }
        }
        for ref in actual.keys.sorted() where recorded[ref] == nil { differences.append("\(ref) is not in the snapshot") }
        return DrillCheck(
            name: name, passed: differences.isEmpty,
            detail: differences.isEmpty ? "\(recorded.count) ref(s) equal to snapshot \(id.prefix(12))" : differences.joined(separator: "; "))
    }

    private func cloneCheck(_ id: String, source: String, git: Git) throws -> DrillCheck {
        let name = "git \(source): clone over git://"
        let daemon = try GitDaemon(base: "\(sandbox.root)/git", git: git.executable, exportAll: true)
        defer { daemon.stop() }
        let clone = "\(sandbox.root)/clones/\(source)"
        try FileIO.createDirectory("\(sandbox.root)/clones")
        let url = daemon.url(source)
        let result = try git.runAllowingFailure(["clone", "--quiet", "--bare", url, clone], timeout: .seconds(600))
        guard result.succeeded else {
            return DrillCheck(name: name, passed: false, detail: "git clone \(url) failed: \(result.stderr.trimmingWhitespace())")
        }
        let cloned = try refs(in: clone, git: git)
        let recorded = try workspace.catalog.refs(of: id).filter { $0.name != "HEAD" }
        let missing = recorded.filter { cloned[$0.name] != $0.oid }.map(\.name)
        return DrillCheck(
            name: name, passed: missing.isEmpty,
            detail: missing.isEmpty ? "cloned \(url) with \(cloned.count) ref(s)" : "the clone lacks \(missing.joined(separator: ", "))")
    }

    // MARK: - Volumes

    private func verifyVolume(_ id: String, source: String) throws -> DrillCheck {
        let root = sandbox.volume(source)
        let snapshot = try workspace.catalog.snapshot(matching: id)
        let algorithm = try ContentHash(of: snapshot)
        var problems: [String] = []
        var checked = 0
        try workspace.catalog.files(at: snapshot.id) { record in
            guard record.type == .regular, let expected = record.hash else { return }
            checked += 1
            let display = PathKey.display(record.key)
            let file = "\(root)/\(String(decoding: record.path, as: UTF8.self))"
            guard let actual = Self.contentHash(file, algorithm) else {
                problems.append("\(display) is missing")
                return
            }
            if actual != expected { problems.append("\(display) differs from the catalog's hash") }
        }
        return DrillCheck(
            name: "volume \(source): file hashes", passed: problems.isEmpty,
            detail: problems.isEmpty ? "\(checked) file(s) equal to the catalog" : problems.prefix(20).joined(separator: "; "))
    }

    /// The content hash of a file, or nil when it cannot be read.
    static func contentHash(_ path: String, _ algorithm: ContentHash) -> [UInt8]? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        var hasher = algorithm.hasher()
        while true {
            // `read(upToCount:)` returns nil (not empty data) at the end of the file.
            let chunk: Data?
            do { chunk = try handle.read(upToCount: 1 << 20) } catch { return nil }
            guard let chunk, !chunk.isEmpty else { break }
            chunk.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        }
        return hasher.finalize()
    }

    // MARK: - Exports

    private func verifyExport(_ id: String, source: String) throws -> DrillCheck {
        let (count, problems) = try KubeExtract.compareWithCatalog(try workspace.catalog.snapshot(matching: id), in: workspace)
        return DrillCheck(
            name: "export \(source): objects", passed: problems.isEmpty,
            detail: problems.isEmpty ? "\(count) object(s) decrypt and match the catalog's digests" : problems.prefix(20).joined(separator: "; "))
    }
}
