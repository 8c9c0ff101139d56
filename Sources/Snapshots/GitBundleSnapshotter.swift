public import DRCore
import Foundation
internal import Logging

/// Snapshots a Git repository as git bundles.
///
/// The source (a local path or any URL git fetches) is first fetched into a private
/// bare mirror under `data_dir/mirrors/`, so refs cannot move while a bundle is cut.
/// The first snapshot is a full bundle of all refs; later ones are incremental bundles
/// whose prerequisites are the previous snapshot's tips. A rewritten history (a ref that
/// moved to a commit that does not descend from its old one), a previous tip that no
/// longer exists, or a broken chain gives a full bundle instead. Ref deletions cannot be
/// expressed in a bundle: the recorded ref list is the truth, and extraction applies it.
public struct GitBundleSnapshotter: Snapshotter {
    public init() {}

    public func snapshot(
        _ source: SourceConfig, previous: SnapshotRecord?, options: BackupOptions, in workspace: Workspace
    ) throws -> SnapshotDraft {
        guard case .gitBundle(let spec) = source.spec else {
            throw DRError(.failed, "source \(source.name) is not a git-bundle source")
        }
        let git = try Git(environment: workspace.environment, logger: workspace.logger)
        let remote: String
        var bare = true
        switch spec.repo {
        case .path(let path):
            guard FileIO.isDirectory(path) else {
                throw DRError(.notFound, "source \(source.name): the repository \(path) does not exist")
            }
            let probe = try git.runAllowingFailure(["rev-parse", "--is-bare-repository"], in: path)
            guard probe.succeeded else {
                throw DRError(.notFound, "source \(source.name): \(path) is not a Git repository")
            }
            bare = probe.stdoutText.trimmingWhitespace() == "true"
            remote = path
        case .url(let url):
            remote = url
        }

        // 1. Fetch everything into the private mirror.
        let mirror = "\(workspace.config.dataDir)/mirrors/\(source.name).git"
        if !FileIO.exists("\(mirror)/HEAD") {
            FileIO.remove(mirror)
            try FileIO.createDirectory(mirror, mode: 0o700)
            try git.run(["init", "--quiet", "--bare", mirror])
        }
        let stale = GitMirrorLocks.removeStale(in: mirror)
        if !stale.isEmpty {
            workspace.logger.warning("source \(source.name): removed lock files a killed git left in \(mirror): \(stale.joined(separator: ", "))")
        }
        let dataTime = workspace.now()
        try git.run(
            ["fetch", "--quiet", "--prune", "--force", "--no-write-fetch-head", remote, "+refs/*:refs/*"], in: mirror,
            timeout: .seconds(3600), what: "fetching \(remote) for source \(source.name)")
        let head = try git.run(["ls-remote", "--symref", remote, "HEAD"], timeout: .seconds(600),
                               what: "reading HEAD of \(remote)")
        var refs = try Self.refs(in: mirror, git: git)
        guard !refs.isEmpty else {
            throw DRError(.failed, "source \(source.name): \(remote) has no branches or tags; there is nothing to back up")
        }
        if let headRef = Self.parseHead(head, refs: refs) {
            refs.append(headRef)
            if let target = headRef.symref { try git.run(["symbolic-ref", "HEAD", target], in: mirror) }
        }
        refs.sort()
        let meta = ["repo": remote, "bare": bare ? "true" : "false"]

        // 2. Choose the level.
        let previousRefs = try previous.map { try workspace.catalog.refs(of: $0.id) } ?? []
        var decision = try Self.level(previous: previous, previousRefs: previousRefs, current: refs, mirror: mirror,
                                      git: git, workspace: workspace)
        if case .full = decision {
            // Already a full bundle.
        } else if let previous, case .gitBundle(let spec) = source.spec,
                  let reason = spec.fullEvery?.reason(chain: try workspace.catalog.chain(to: previous.id), now: workspace.now()) {
            decision = .full(reason: reason)
        }
        if case .unchanged = decision, let previous {
            return SnapshotDraft(
                level: .incremental, parentID: previous.id, dataTime: dataTime, objects: [], refs: refs, meta: meta,
                verifiedAt: workspace.now(), verifyResult: "ok: unchanged since \(previous.shortID), no new objects",
                note: "unchanged")
        }
        if case .noNewObjects = decision, let previous {
            return SnapshotDraft(
                level: .incremental, parentID: previous.id, dataTime: dataTime, objects: [], refs: refs, meta: meta,
                verifiedAt: workspace.now(), verifyResult: "ok: refs changed, no new objects",
                note: "refs changed, no new objects")
        }

        // 3. Cut the bundle, store it, read it back and verify it.
        let scratch = try workspace.makeScratchDirectory("bundle")
        defer { FileIO.remove(scratch) }
        let bundle = "\(scratch)/snapshot.bundle"
        var arguments = ["bundle", "create", "--quiet", bundle, "--all"]
        var prerequisites: [String] = []
        if case .incremental = decision {
            prerequisites = Array(Set(previousRefs.map(\.oid))).sorted()
            arguments += prerequisites.map { "^\($0)" }
        }
        try git.run(arguments, in: mirror, output: .discard, timeout: .seconds(3600),
                    what: "creating a bundle for source \(source.name)")
        let verifyRepo: String
        if prerequisites.isEmpty {
            verifyRepo = "\(scratch)/verify.git"
            try git.run(["init", "--quiet", "--bare", verifyRepo])
        } else {
            verifyRepo = mirror
        }
        let encodedBundle = try workspace.codec.write(type: .data, file: bundle)
        let verifyResult = try Self.verify(
            encodedBundle, plaintext: bundle, in: verifyRepo, scratch: scratch, git: git, workspace: workspace)
        let level: SnapshotLevel = prerequisites.isEmpty ? .full : .incremental
        let note: String
        switch decision {
        case .full(let reason): note = reason
        default: note = "on top of \(previous?.shortID ?? "?")"
        }
        return SnapshotDraft(
            level: level, parentID: level == .full ? nil : previous?.id, dataTime: dataTime,
            objects: [SnapshotObject(object: encodedBundle, role: "bundle")], refs: refs, meta: meta,
            verifiedAt: workspace.now(), verifyResult: verifyResult, note: note)
    }

    enum Decision: Equatable {
        case full(reason: String)
        case incremental
        case noNewObjects
        case unchanged
    }

    static func level(
        previous: SnapshotRecord?, previousRefs: [GitRef], current: [GitRef], mirror: String, git: Git,
        workspace: Workspace
    ) throws -> Decision {
        guard let previous, !previousRefs.isEmpty else { return .full(reason: "first snapshot") }
        if previousRefs == current { return .unchanged }
        // The chain must be intact in the repository.
        if let missing = try workspace.firstMissingObject(in: workspace.catalog.chain(to: previous.id)) {
            workspace.logger.warning("snapshot \(missing.snapshot.shortID) lost object \(missing.sha256); taking a full bundle")
            return .full(reason: "previous chain is broken")
        }
        // Every previous tip must still exist, and no surviving ref may have been rewritten.
        for ref in previousRefs where !(try git.runAllowingFailure(["cat-file", "-e", ref.oid], in: mirror).succeeded) {
            return .full(reason: "history rewritten (\(ref.name) \(ref.oid.prefix(12)) is gone)")
        }
        let old = Dictionary(previousRefs.map { ($0.name, $0.oid) }, uniquingKeysWith: { a, _ in a })
        for ref in current where ref.name != "HEAD" {
            guard let before = old[ref.name], before != ref.oid else { continue }
            let check = try git.runAllowingFailure(["merge-base", "--is-ancestor", before, ref.oid], in: mirror)
            if !check.succeeded { return .full(reason: "history rewritten (\(ref.name))") }
        }
        // Anything new to bundle?
        let negatives = Array(Set(previousRefs.map(\.oid))).sorted().map { "^\($0)" }
        let count = try git.run(["rev-list", "--count", "--all"] + negatives, in: mirror)
        if Int(count.trimmingWhitespace()) ?? 1 > 0 { return .incremental }
        let known = Set(previousRefs.map(\.oid))
        for ref in current where !known.contains(ref.oid) {
            let type = try git.run(["cat-file", "-t", ref.oid], in: mirror).trimmingWhitespace()
            if type != "commit" { return .incremental }
        }
        return .noNewObjects
    }

    /// Reads the stored bundle back through the repository (hash check, decryption) and
    /// runs `git bundle verify` in a repository holding its prerequisites.
    static func verify(
        _ object: EncodedObject, plaintext: String, in repo: String, scratch: String, git: Git, workspace: Workspace
    ) throws -> String {
        let codec = workspace.codec
        if object.encryption == .age && !codec.canDecrypt {
            // No identity here: check the stored bytes' hash, and the bundle before encryption.
            try workspace.store.read(object.stored) { _ in }
            try bundleVerify(plaintext, in: repo, git: git, what: "the new bundle")
            return "ok: bundle verified before encryption; stored bytes hash-checked (no identity configured to decrypt)"
        }
        let readBack = "\(scratch)/readback.bundle"
        try codec.read(object, toFile: readBack)
        defer { FileIO.remove(readBack) }
        try bundleVerify(readBack, in: repo, git: git, what: "the stored bundle \(object.stored.sha256)")
        return "ok: stored bundle read back" + (object.encryption == .age ? ", decrypted" : "") + " and verified by git bundle verify"
    }

    static func bundleVerify(_ bundle: String, in repo: String, git: Git, what: String) throws {
        let result = try git.runAllowingFailure(["bundle", "verify", "--quiet", bundle], in: repo)
        guard result.succeeded else {
            throw DRError(.dataCorrupt, "\(what) failed `git bundle verify`: \(result.stderr.trimmingWhitespace().lastLines(4))")
        }
    }

    /// All refs of a repository except HEAD.
    static func refs(in repo: String, git: Git) throws -> [GitRef] {
        try git.run(["for-each-ref", "--format=%(objectname) %(refname)"], in: repo)
            .split(separator: "\n").compactMap { line in
                let parts = line.split(separator: " ", maxSplits: 1)
                guard parts.count == 2 else { return nil }
                return GitRef(name: String(parts[1]), oid: String(parts[0]))
            }
    }

    /// HEAD from `git ls-remote --symref REMOTE HEAD` output.
    static func parseHead(_ output: String, refs: [GitRef]) -> GitRef? {
        var target: String?
        var oid: String?
        for line in output.split(separator: "\n") {
            let fields = line.split(separator: "\t")
            guard fields.count == 2, fields[1] == "HEAD" else { continue }
            if fields[0].hasPrefix("ref: ") { target = String(fields[0].dropFirst(5)) } else { oid = String(fields[0]) }
        }
        if let target, let resolved = refs.first(where: { $0.name == target }) {
            return GitRef(name: "HEAD", oid: resolved.oid, symref: target)
        }
        if let oid { return GitRef(name: "HEAD", oid: oid) }
        return nil
    }
}
