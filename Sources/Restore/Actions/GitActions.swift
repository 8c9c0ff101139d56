public import DRCore
import Foundation
import Snapshots
internal import Logging

/// Where a git-bundle source is restored and what the snapshot recorded.
struct GitTarget: Sendable {
    var source: String
    var path: String
    var bound: ActionSnapshot
    /// The recorded refs, HEAD included when it was recorded.
    var refs: [GitRef]
    /// Repository names (`gitops` for `/srv/gitops.git` or `git://host/gitops.git`) that
    /// identify this repository in an Application's `repoURL`.
    var repoNames: Set<String>

    static func bind(_ args: ActionArguments, context: PlanContext) throws -> GitTarget {
        let name = try args.string("source", "a git-bundle source name")
        let source = try context.source(name, kind: .gitBundle, for: args.action)
        guard case .gitBundle(let spec) = source.spec else {
            throw DRError(.config, "\(args.action): source `\(name)` is not a git-bundle source")
        }
        let path: String
        if let drill = context.drill {
            path = drill.git(name)
        } else if let given = try args.optionalString("path") {
            path = context.resolvePath(given)
        } else if let restorePath = spec.restorePath {
            path = restorePath
        } else if case .path(let local) = spec.repo {
            path = local
        } else {
            throw DRError(.config, "\(args.action): source `\(name)` backs up a URL, so there is no local repository to restore",
                          hint: "give `path:` (the folder the git server serves) or set `restore_path:` on the source")
        }
        let bound = try context.bindSnapshot(source: name, kind: .gitBundle, for: args.action)
        let refs = try context.workspace.catalog.refs(of: bound.snapshot.id)
        var names: Set<String> = [Self.repoName(path)]
        switch spec.repo {
        case .path(let local): names.insert(Self.repoName(local))
        case .url(let url): names.insert(Self.repoName(url))
        }
        return GitTarget(source: name, path: path, bound: bound, refs: refs, repoNames: names)
    }

    /// The last path component of a path or URL, without `.git` and trailing slashes, lowercased.
    static func repoName(_ location: String) -> String {
        var text = Substring(location.lowercased())
        while text.hasSuffix("/") { text = text.dropLast() }
        let last = text.split(whereSeparator: { $0 == "/" || $0 == ":" }).last.map(String.init) ?? String(text)
        return last.hasSuffix(".git") ? String(last.dropLast(4)) : last
    }

    /// Differences between the repository's refs (and HEAD) and the recorded ones; empty when equal.
    func differences(in repo: String, git: Git) throws -> [String] {
        let actual = Dictionary(try readRefs(repo, git: git).map { ($0.name, $0.oid) }, uniquingKeysWith: { a, _ in a })
        let expected = Dictionary(refs.filter { $0.name != "HEAD" }.map { ($0.name, $0.oid) }, uniquingKeysWith: { a, _ in a })
        var lines: [String] = []
        for (name, oid) in expected.sorted(by: { $0.key < $1.key }) {
            if let have = actual[name] {
                if have != oid { lines.append("\(name) is at \(have.prefix(12)), the snapshot has \(oid.prefix(12))") }
            } else {
                lines.append("\(name) is missing (the snapshot has \(oid.prefix(12)))")
            }
        }
        for name in actual.keys.sorted() where expected[name] == nil {
            lines.append("\(name) is not in the snapshot")
        }
        if let head = refs.first(where: { $0.name == "HEAD" }), let symref = head.symref {
            let current = try git.runAllowingFailure(["symbolic-ref", "-q", "HEAD"], in: repo).stdoutText.trimmingWhitespace()
            if current != symref { lines.append("HEAD points at \(current.isEmpty ? "(detached)" : current), the snapshot has \(symref)") }
        }
        return lines
    }

    /// `git fsck` of `repo`; nil when clean, else git's last lines.
    static func fsckProblem(_ repo: String, git: Git, timeout: Duration?) throws -> String? {
        let result = try git.runAllowingFailure(["fsck", "--no-progress", "--no-dangling"], in: repo, timeout: timeout)
        if result.succeeded { return nil }
        if result.timedOut { return "git fsck timed out" }
        let text = (result.stderr + "\n" + result.stdoutText).trimmingWhitespace().lastLines(4)
        return text.isEmpty ? "git fsck exited with status \(result.status)" : text
    }

    func readRefs(_ repo: String, git: Git) throws -> [GitRef] {
        try git.run(["for-each-ref", "--format=%(objectname) %(refname)"], in: repo)
            .split(separator: "\n").compactMap { line in
                let parts = line.split(separator: " ", maxSplits: 1)
                return parts.count == 2 ? GitRef(name: String(parts[1]), oid: String(parts[0])) : nil
            }
    }
}

/// `git.restore-bundle {source, path?}`: puts the newest verified bundle chain of a git-bundle
/// source back in place of a (corrupted) repository.
///
/// The chain is rebuilt in a staging sibling first; only then is the existing copy moved aside
/// as `<path>.corrupt-<UTC timestamp>` (never deleted) and the staging folder renamed into place.
/// What a served repository needs is carried over from the old copy: `git-daemon-export-ok`,
/// `description`, custom hooks and the server-side `config` entries (bareness comes from the
/// snapshot). The plan warns when an ArgoCD Application last synced a revision the snapshot does not
/// contain (Applications whose `repoURL` names this repository, or every Application when none
/// does; best effort): restoring would roll the cluster back.
public struct GitRestoreBundleAction: RunbookAction {
    public static let name = "git.restore-bundle"
    public static let defaultTimeout: Duration = .seconds(1800)

    let target: GitTarget
    /// Rollback warnings found while binding (best effort).
    public let warnings: [String]

    public init(arguments: JSONValue, context: PlanContext) throws {
        let args = try ActionArguments(arguments, action: Self.name, known: ["source", "path"])
        _ = try Git(environment: context.workspace.environment, logger: context.workspace.logger)
        target = try GitTarget.bind(args, context: context)
        warnings = RollbackCheck.warnings(target: target, context: context)
    }

    public var plan: [String] {
        var lines = [
            "restore \(target.bound.summary)",
            "into \(target.path) (\(target.refs.filter { $0.name != "HEAD" }.count) refs\(target.refs.first { $0.name == "HEAD" }?.symref.map { ", HEAD -> \($0)" } ?? ""))",
            "an existing copy is moved aside as \(target.path).corrupt-<UTC timestamp>, never deleted; export-ok, description, hooks and config are kept",
        ]
        lines += warnings.map { "WARNING: \($0)" }
        return lines
    }

    public var snapshots: [String] { [target.bound.snapshot.id] }
    public var writes: [String] { [target.path] }

    public func isDone(_ context: ExecutionContext) throws -> Bool {
        guard FileIO.isDirectory(target.path) else { return false }
        let git = try Git(environment: context.workspace.environment, logger: context.logger)
        guard try GitTarget.fsckProblem(target.path, git: git, timeout: context.remaining) == nil else { return false }
        return try target.differences(in: target.path, git: git).isEmpty
    }

    public func run(_ context: ExecutionContext) throws -> StepOutcome {
        let workspace = context.workspace
        let git = try Git(environment: workspace.environment, logger: context.logger)
        let path = target.path
        let parent = (path as NSString).deletingLastPathComponent
        try FileIO.createDirectory(parent)
        for stale in StagingName.removeStaleSiblings(of: path) {
            context.output("removed \(stale), left by a restore that was killed")
        }
        let staging = StagingName.sibling(of: path, purpose: "restore")
        defer { FileIO.removeTree(staging) }
        context.output("rebuilding snapshot \(target.bound.snapshot.shortID) of \(target.source) in \(staging)")
        do {
            _ = try Extract.snapshot(target.bound.snapshot.id, to: staging, in: workspace)
        } catch {
            let e = DRError.wrap(error)
            throw DRError(e.code, "\(Self.name): rebuilding snapshot \(target.bound.snapshot.shortID) failed; \(path) was not touched: \(e.message)", hint: e.hint)
        }

        var movedAside: String?
        if FileIO.exists(path) || FileSwap.isSymlink(path) {
            if FileSwap.isEmptyDirectory(path) {
                try FileManager.default.removeItem(atPath: path)
            } else {
                let aside = FileSwap.freeName("\(path).corrupt-\(ActionFormat.fileStamp(workspace.now()))")
                try carryOver(from: path, to: staging, git: git, context: context)
                try FileIO.rename(path, to: aside)
                movedAside = aside
                context.output("moved the existing copy aside to \(aside) (kept; delete it once the restore is confirmed)")
            }
        }
        do {
            try FileIO.rename(staging, to: path)
            try FileIO.syncDirectory(parent)
        } catch {
            if let movedAside, !FileIO.exists(path) { try? FileIO.rename(movedAside, to: path) }
            throw DRError(.io, "\(Self.name): could not put the restored repository at \(path): \(DRError.describe(error))",
                          hint: movedAside.map { "the previous copy is at \($0)" })
        }
        if let problem = try GitTarget.fsckProblem(path, git: git, timeout: context.remaining) {
            throw DRError(.dataCorrupt, "\(Self.name): the restored repository \(path) fails git fsck: \(problem)")
        }
        let differences = try target.differences(in: path, git: git)
        guard differences.isEmpty else {
            throw DRError(.dataCorrupt, "\(Self.name): the restored refs in \(path) differ from snapshot \(target.bound.snapshot.shortID): \(differences.joined(separator: "; "))")
        }
        context.output("restored \(path): git fsck clean, \(target.refs.filter { $0.name != "HEAD" }.count) refs equal to snapshot \(target.bound.snapshot.shortID)")
        return .changed
    }

    /// Copies what a served repository needs from the old copy into the rebuilt one (best effort:
    /// the old copy may be badly damaged; failures are reported, not fatal).
    func carryOver(from old: String, to new: String, git: Git, context: ExecutionContext) throws {
        let oldGitDir = FileIO.isDirectory("\(old)/.git") ? "\(old)/.git" : old
        let newGitDir = FileIO.isDirectory("\(new)/.git") ? "\(new)/.git" : new
        let fm = FileManager.default
        for file in ["git-daemon-export-ok", "description", "info/exclude", "cloneurl"] where FileIO.exists("\(oldGitDir)/\(file)") {
            let destination = "\(newGitDir)/\(file)"
            try? fm.removeItem(atPath: destination)
            try FileIO.createDirectory((destination as NSString).deletingLastPathComponent)
            do {
                try fm.copyItem(atPath: "\(oldGitDir)/\(file)", toPath: destination)
                context.output("kept \(file) from the previous copy")
            } catch {
                context.output("could not keep \(file) from the previous copy: \(DRError.describe(error))")
            }
        }
        for hook in FileIO.list("\(oldGitDir)/hooks").sorted() where !hook.hasSuffix(".sample") {
            let destination = "\(newGitDir)/hooks/\(hook)"
            try FileIO.createDirectory("\(newGitDir)/hooks")
            try? fm.removeItem(atPath: destination)
            do {
                try fm.copyItem(atPath: "\(oldGitDir)/hooks/\(hook)", toPath: destination)
                context.output("kept hook \(hook)")
            } catch {
                context.output("could not keep hook \(hook): \(DRError.describe(error))")
            }
        }
        // Server-side settings (daemon.*, http.*, receive.*, uploadpack.*, core.sharedRepository …);
        // repository-format keys come from the rebuilt repository.
        let listed = try git.runAllowingFailure(["config", "--file", "\(oldGitDir)/config", "--null", "--list"])
        if listed.succeeded {
            let skipped = ["core.bare", "core.repositoryformatversion", "core.filemode", "core.logallrefupdates",
                           "core.ignorecase", "core.precomposeunicode", "core.worktree"]
            for entry in listed.stdoutText.split(separator: "\0") {
                let parts = entry.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false)
                guard let key = parts.first.map(String.init), !key.isEmpty else { continue }
                let lower = key.lowercased()
                if skipped.contains(lower) || lower.hasPrefix("extensions.") { continue }
                let value = parts.count > 1 ? String(parts[1]) : ""
                _ = try git.runAllowingFailure(["config", "--file", "\(newGitDir)/config", "--add", key, value])
            }
        } else {
            context.output("the previous copy's config is unreadable; the rebuilt repository keeps git's defaults")
        }
        // Same permissions on the top folder (a daemon may run as another user).
        if let mode = try? fm.attributesOfItem(atPath: old)[.posixPermissions] {
            try? fm.setAttributes([.posixPermissions: mode], ofItemAtPath: new)
        }
    }
}

/// `git.verify {source, path?}`: `git fsck` of the repository and its refs compared with the
/// newest verified snapshot's. Changes nothing; fails listing the differences.
public struct GitVerifyAction: RunbookAction {
    public static let name = "git.verify"
    public static let defaultTimeout: Duration = .seconds(600)

    let target: GitTarget

    public init(arguments: JSONValue, context: PlanContext) throws {
        let args = try ActionArguments(arguments, action: Self.name, known: ["source", "path"])
        _ = try Git(environment: context.workspace.environment, logger: context.workspace.logger)
        target = try GitTarget.bind(args, context: context)
    }

    public var plan: [String] {
        ["git fsck \(target.path)", "compare its refs with \(target.bound.summary)"]
    }

    public var snapshots: [String] { [target.bound.snapshot.id] }

    /// A verification is never skipped.
    public func isDone(_ context: ExecutionContext) throws -> Bool { false }

    public func run(_ context: ExecutionContext) throws -> StepOutcome {
        guard FileIO.isDirectory(target.path) else {
            throw DRError(.notFound, "\(Self.name): \(target.path) does not exist",
                          hint: "restore it with git.restore-bundle (source \(target.source))")
        }
        let git = try Git(environment: context.workspace.environment, logger: context.logger)
        if let problem = try GitTarget.fsckProblem(target.path, git: git, timeout: context.remaining) {
            throw DRError(.dataCorrupt, "\(Self.name): \(target.path) fails git fsck: \(problem)",
                          hint: "restore it with git.restore-bundle (source \(target.source))")
        }
        context.output("git fsck \(target.path): clean")
        let differences = try target.differences(in: target.path, git: git)
        guard differences.isEmpty else {
            for line in differences { context.output("  \(line)") }
            throw DRError(.dataCorrupt, "\(Self.name): \(target.path) differs from snapshot \(target.bound.snapshot.shortID) in \(differences.count) ref(s): \(differences.prefix(5).joined(separator: "; "))")
        }
        context.output("refs equal to snapshot \(target.bound.snapshot.shortID)")
        return .ok
    }
}

/// The plan-time check that a restore would not roll ArgoCD back.
enum RollbackCheck {
    /// Warnings for Applications whose last synced revision the snapshot does not contain.
    /// Best effort: any failure (no cluster, no ArgoCD, git trouble) becomes no warning or a note.
    static func warnings(target: GitTarget, context: PlanContext) -> [String] {
        guard let makeClient = context.cluster else { return [] }
        var revisions: [(app: String, revision: String)] = []
        var matching: [(app: String, revision: String)] = []
        do {
            let client = try makeClient()
            let resource = try client.resource(apiVersion: "argoproj.io/v1alpha1", kind: "Application")
            for app in try client.list(resource) {
                let name = "\(app[path: ["metadata", "namespace"]]?.stringValue ?? "?")/\(app[path: ["metadata", "name"]]?.stringValue ?? "?")"
                var synced = [app[path: ["status", "sync", "revision"]]?.stringValue]
                synced += (app[path: ["status", "sync", "revisions"]]?.arrayValue ?? []).map(\.stringValue)
                let repoURLs = [app[path: ["spec", "source", "repoURL"]]?.stringValue]
                    + (app[path: ["spec", "sources"]]?.arrayValue ?? []).map { $0["repoURL"]?.stringValue }
                let matches = repoURLs.compactMap { $0 }.contains { target.repoNames.contains(GitTarget.repoName($0)) }
                for revision in synced.compactMap({ $0 }) where isObjectID(revision) {
                    revisions.append((name, revision))
                    if matches { matching.append((name, revision)) }
                }
            }
        } catch {
            context.workspace.logger.info("\(GitRestoreBundleAction.name): ArgoCD's synced revisions not checked: \(DRError.describe(error))")
            return []
        }
        // Applications of this repository when any names it, else every Application.
        if !matching.isEmpty { revisions = matching }
        let recorded = Set(target.refs.map(\.oid))
        let unknown = revisions.filter { !recorded.contains($0.revision) }
        guard !unknown.isEmpty else { return [] }
        // Not a ref tip: is it reachable from one? Rebuild the snapshot in scratch space to ask git.
        var contained: Set<String> = []
        do {
            let workspace = context.workspace
            let git = try Git(environment: workspace.environment, logger: workspace.logger)
            let scratch = try workspace.makeScratchDirectory("rollback-check")
            defer { FileIO.remove(scratch) }
            _ = try Extract.snapshot(target.bound.snapshot.id, to: "\(scratch)/repo", in: workspace)
            for revision in Set(unknown.map(\.revision)) {
                let present = try git.runAllowingFailure(["cat-file", "-e", "\(revision)^{commit}"], in: "\(scratch)/repo")
                guard present.succeeded else { continue }
                let containing = try git.runAllowingFailure(["for-each-ref", "--contains", revision, "--format=%(refname)"], in: "\(scratch)/repo")
                if containing.succeeded, !containing.stdoutText.trimmingWhitespace().isEmpty { contained.insert(revision) }
            }
        } catch {
            return ["could not check whether ArgoCD's synced revisions are in snapshot \(target.bound.snapshot.shortID): \(DRError.describe(error))"]
        }
        return unknown.filter { !contained.contains($0.revision) }.map {
            "Application \($0.app) last synced revision \($0.revision.prefix(12)), which snapshot \(target.bound.snapshot.shortID) does not contain: restoring would roll the cluster back (choose a later snapshot with --at, or accept the rollback)"
        }
    }

    static func isObjectID(_ text: String) -> Bool {
        (text.count == 40 || text.count == 64) && text.allSatisfy(\.isHexDigit)
    }
}
