public import DRCore
import Foundation
internal import Logging

/// What an extraction restored.
public struct ExtractReport: Sendable, Codable {
    public var snapshot: SnapshotRecord
    public var target: String
    /// Files, symlinks and hard links restored (volume archives).
    public var files: Int
    public var bytes: Int64
    /// Restored files whose content does not match the hash the catalog recorded.
    public var mismatches: [String]
}

/// Rebuilds what a snapshot holds into a new folder.
public enum Extract {
    /// Extracts snapshot `id` into `target`, which must be absent or an empty folder.
    /// `include` limits a volume extract to matching paths (and everything below them).
    ///
    /// Work happens in a hidden sibling folder; `target` is only created (by rename) once
    /// everything was read and checked, so a failure writes nothing to it.
    public static func snapshot(
        _ id: String, to target: String, include: [Glob] = [], in workspace: Workspace
    ) throws -> ExtractReport {
        let snapshot = try workspace.catalog.snapshot(matching: id)
        let destination = URL(fileURLWithPath: target).standardizedFileURL.path
        if let kind = SourceKind(rawValue: snapshot.kind), kind.holdsKubernetesObjects {
            guard include.isEmpty else {
                throw DRError(.refused, "--include applies to volume snapshots; snapshot \(snapshot.shortID) is a \(kind.rawValue) export")
            }
            return try KubeExtract.extract(snapshot, toFile: destination, in: workspace)
        }
        if FileIO.exists(destination) {
            guard FileIO.isDirectory(destination) else {
                throw DRError(.refused, "\(destination) exists and is not a folder; extract needs a new or empty folder")
            }
            guard FileIO.list(destination).isEmpty else {
                throw DRError(.refused, "\(destination) is not empty; extract refuses to write into a non-empty folder",
                              hint: "choose a new folder")
            }
        }
        guard let kind = SourceKind(rawValue: snapshot.kind) else {
            throw DRError(.refused, "snapshot \(snapshot.shortID) is of kind \(snapshot.kind), which this drctl cannot extract")
        }
        if kind == .gitBundle && !include.isEmpty {
            throw DRError(.refused, "--include applies to volume snapshots; snapshot \(snapshot.shortID) is a git bundle")
        }
        let parent = (destination as NSString).deletingLastPathComponent
        try FileIO.createDirectory(parent)
        // Staging folders of extractions that were killed are removed; live ones are left alone.
        for stale in StagingName.removeStaleSiblings(of: destination) {
            workspace.logger.info("removed \(stale), left by an extraction that was killed")
        }
        let staging = StagingName.sibling(of: destination, purpose: "extract")
        defer { FileIO.removeTree(staging) }
        var report = ExtractReport(snapshot: snapshot, target: destination, files: 0, bytes: 0, mismatches: [])
        switch kind {
        case .gitBundle:
            try GitBundleExtractor.extract(snapshot, into: staging, in: workspace)
        case .pvcArchive:
            let outcome = try VolumeExtractor.extract(snapshot, into: staging, include: include, in: workspace)
            report.files = outcome.files
            report.bytes = outcome.bytes
            report.mismatches = outcome.mismatches
        case .secrets, .argocdState:
            throw DRError(.failed, "snapshot \(snapshot.shortID) is an export; it extracts to a file")
        }
        // Everything written is durable before the tree appears under its name.
        let syncing = ContinuousClock.now
        try FileIO.syncFilesystem(staging)
        workspace.logger.debug("extract: syncfs took \(ContinuousClock.now - syncing)")
        if FileIO.isDirectory(destination) { try? FileManager.default.removeItem(atPath: destination) }
        try FileIO.rename(staging, to: destination)
        try FileIO.syncDirectory(parent)
        return report
    }
}

/// Rebuilds a Git repository from a bundle chain.
enum GitBundleExtractor {
    static func extract(_ snapshot: SnapshotRecord, into repo: String, in workspace: Workspace) throws {
        let git = try Git(environment: workspace.environment, logger: workspace.logger)
        let catalog = workspace.catalog
        let chain = try catalog.chain(to: snapshot.id)
        let bare = snapshot.meta["bare"] != "false"
        try git.run(["init", "--quiet"] + (bare ? ["--bare"] : []) + [repo])
        let scratch = try workspace.makeScratchDirectory("extract")
        defer { FileIO.remove(scratch) }
        for link in chain {
            for item in try catalog.objects(of: link.id) where item.role == "bundle" {
                let file = "\(scratch)/\(item.object.stored.sha256).bundle"
                do {
                    try workspace.codec.read(item.object, toFile: file)
                } catch {
                    let e = DRError.wrap(error)
                    throw DRError(e.code, "snapshot \(link.shortID) (source \(link.source)): \(e.message)",
                                  hint: link.id == snapshot.id ? nil : "it is in the chain that snapshot \(snapshot.shortID) depends on")
                }
                let result = try git.runAllowingFailure(["bundle", "unbundle", file], in: repo, output: .discard)
                FileIO.remove(file)
                guard result.succeeded else {
                    throw DRError(.dataCorrupt,
                                  "snapshot \(link.shortID): bundle object \(item.object.stored.sha256) cannot be applied: \(result.stderr.trimmingWhitespace().lastLines(3))")
                }
            }
        }
        workspace.crash.reach(.extractMid)
        // The recorded refs are the truth: create exactly those.
        let refs = try catalog.refs(of: snapshot.id)
        var commands = ""
        for ref in refs where ref.name != "HEAD" { commands += "create \(ref.name) \(ref.oid)\n" }
        var update = Command(git.executable, ["-C", repo, "update-ref", "--stdin"], environment: git.environment)
        update.input = .bytes(Array(commands.utf8))
        let updated = try update.run()
        guard updated.succeeded else {
            throw DRError(.dataCorrupt, "snapshot \(snapshot.shortID): its refs point at objects the bundles do not hold: \(updated.stderr.trimmingWhitespace().lastLines(3))")
        }
        if let head = refs.first(where: { $0.name == "HEAD" }) {
            if let target = head.symref {
                try git.run(["symbolic-ref", "HEAD", target], in: repo)
            } else {
                try git.run(["update-ref", "--no-deref", "HEAD", head.oid], in: repo)
            }
        }
        let fsck = try git.runAllowingFailure(["fsck", "--no-progress", "--no-dangling"], in: repo)
        guard fsck.succeeded else {
            throw DRError(.dataCorrupt, "snapshot \(snapshot.shortID): the rebuilt repository fails git fsck: \(fsck.stderr.trimmingWhitespace().lastLines(4))")
        }
        let rebuilt = try GitBundleSnapshotter.refs(in: repo, git: git)
        let expected = refs.filter { $0.name != "HEAD" }
        guard rebuilt.sorted() == expected.sorted() else {
            throw DRError(.dataCorrupt, "snapshot \(snapshot.shortID): the rebuilt refs differ from the recorded ones")
        }
        if !bare, refs.contains(where: { $0.name == "HEAD" }) {
            try git.run(["reset", "--quiet", "--hard"], in: repo)
        }
    }
}
