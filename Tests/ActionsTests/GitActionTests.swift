import DRCore
import FakeKube
import Foundation
import Restore
import Snapshots
import Testing
import TestSupport

/// A bare GitOps repository set up as `git daemon` serves it (export-ok, description, a hook,
/// daemon config), with one ConfigMap under `environments/minikube`.
func makeServedRepository(in dir: String, git: GitFixture) throws -> (bare: String, work: String) {
    let bare = "\(dir)/srv/gitops.git"
    let work = "\(dir)/work"
    try git("init", "--quiet", "--bare", "-b", "main", bare)
    try git("clone", "--quiet", bare, work)
    try git("symbolic-ref", "HEAD", "refs/heads/main", in: work)
    try git.commit(work, file: "environments/minikube/site-config.yaml", content: """
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: site-config}
        data: {version: "1"}
        """, message: "Initial WordPress deployment")
    try git.commit(work, file: "base/wordpress-stack.yaml", content: "kind: Deployment\n", message: "Add base")
    try git("push", "--quiet", "origin", "main", in: work)
    try writeFile("\(bare)/git-daemon-export-ok", "")
    try writeFile("\(bare)/description", "GitOps repository of borg.tools\n")
    try writeFile("\(bare)/hooks/post-update", "#!/bin/sh\nexec git update-server-info\n")
    try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: "\(bare)/hooks/post-update")
    try git("config", "--file", "\(bare)/config", "daemon.uploadpack", "true")
    try git("config", "--file", "\(bare)/config", "receive.denyNonFastForwards", "true")
    return (bare, work)
}

func gitSource(_ repo: String, name: String = "gitops", extra: String = "") -> String {
    "  - name: \(name)\n    kind: git-bundle\n    repo: \(repo)\n\(extra)"
}

@Suite("git.restore-bundle and git.verify")
struct GitActionTests {
    @Test("restore-bundle moves the corrupted copy aside, restores refs, export-ok, hooks and config; isDone afterwards")
    func restoreBundle() async throws {
        try await withActionFixture { f in
            let git = try GitFixture()
            let (bare, _) = try makeServedRepository(in: f.dir, git: git)
            let workspace = try f.workspace(gitSource(bare))
            let snapshot = try f.backup(workspace, "gitops")
            let refsBefore = try git.refs(bare)
            try corruptRepository(bare)

            let action = try GitRestoreBundleAction(arguments: .object(["source": .string("gitops")]), context: f.plan(workspace, cluster: false))
            #expect(action.snapshots == [snapshot.id])
            let plan = action.plan.joined(separator: "\n")
            #expect(plan.contains(snapshot.shortID))
            #expect(plan.contains(bare))
            #expect(plan.contains("RPO"))
            #expect(action.warnings.isEmpty)

            let output = OutputLog()
            let context = f.execution(workspace, output: output)
            #expect(try !action.isDone(context))
            let verify = try GitVerifyAction(arguments: .object(["source": .string("gitops")]), context: f.plan(workspace, cluster: false))
            #expect(bindError { _ = try verify.run(context) }?.code == .dataCorrupt)

            #expect(try action.run(context) == .changed)
            #expect(try git.refs(bare) == refsBefore)
            try git("fsck", "--no-progress", in: bare)
            #expect(try git("rev-parse", "--is-bare-repository", in: bare).trimmingWhitespace() == "true")
            #expect(try git("symbolic-ref", "HEAD", in: bare).trimmingWhitespace() == "refs/heads/main")
            #expect(FileManager.default.fileExists(atPath: "\(bare)/git-daemon-export-ok"))
            #expect(try String(contentsOfFile: "\(bare)/description", encoding: .utf8) == "GitOps repository of borg.tools\n")
            #expect(FileManager.default.isExecutableFile(atPath: "\(bare)/hooks/post-update"))
            #expect(try git("config", "--file", "\(bare)/config", "daemon.uploadpack").trimmingWhitespace() == "true")
            #expect(try git("config", "--file", "\(bare)/config", "receive.denyNonFastForwards").trimmingWhitespace() == "true")
            let aside = FileIO.list("\(f.dir)/srv").filter { $0.hasPrefix("gitops.git.corrupt-") }
            #expect(aside.count == 1)
            #expect(FileManager.default.fileExists(atPath: "\(f.dir)/srv/\(aside.first ?? "")/git-daemon-export-ok"))
            #expect(output.text.contains("moved the existing copy aside"))

            #expect(try action.isDone(context))
            #expect(try verify.run(context) == .ok)
            // A clone works again.
            try git("clone", "--quiet", "--no-local", bare, "\(f.dir)/clone")
        }
    }

    @Test("restore-bundle into an explicit missing path fills it")
    func restoreIntoNewPath() async throws {
        try await withActionFixture { f in
            let git = try GitFixture()
            let (bare, _) = try makeServedRepository(in: f.dir, git: git)
            let workspace = try f.workspace(gitSource(bare))
            _ = try f.backup(workspace, "gitops")
            let action = try GitRestoreBundleAction(
                arguments: .object(["source": .string("gitops"), "path": .string("restored/gitops.git")]),
                context: f.plan(workspace, cluster: false, runbookDirectory: f.dir))
            let context = f.execution(workspace)
            #expect(try action.run(context) == .changed)
            #expect(try git.refs("\(f.dir)/drctl/restored/gitops.git") == git.refs(bare))
            #expect(try action.isDone(context))
        }
    }

    @Test("the plan warns when ArgoCD synced a revision the snapshot does not contain")
    func rollbackWarning() async throws {
        try await withActionFixture { f in
            let git = try GitFixture()
            let (bare, work) = try makeServedRepository(in: f.dir, git: git)
            let workspace = try f.workspace(gitSource(bare))
            _ = try f.backup(workspace, "gitops")
            let first = try git("rev-list", "--max-parents=0", "HEAD", in: work).trimmingWhitespace()
            let tip = try git("rev-parse", "HEAD", in: work).trimmingWhitespace()
            try git.commit(work, file: "base/plugin-config.yaml", content: "plugin: transkrypt\n", message: "Configure plugin")
            try git("push", "--quiet", "origin", "main", in: work)
            let newer = try git("rev-parse", "HEAD", in: work).trimmingWhitespace()
            try f.seed(ArgoCRDs.yaml)
            try f.seed("""
                apiVersion: argoproj.io/v1alpha1
                kind: Application
                metadata: {name: wordpress, namespace: argocd}
                spec:
                  source: {repoURL: "\(bare)", targetRevision: main, path: environments/minikube}
                  destination: {server: "https://kubernetes.default.svc", namespace: wordpress}
                """)
            // An Application of another repository is not this restore's concern.
            try f.seed(application("other", repo: "git://elsewhere.invalid/other.git"))
            try f.server.setStatus(apiVersion: "argoproj.io/v1alpha1", kind: "Application", namespace: "argocd", name: "other",
                                   status: .object(["sync": .object(["status": .string("Synced"), "revision": .string(String(repeating: "1", count: 40))])]))
            func bind(syncedAt revision: String) throws -> GitRestoreBundleAction {
                try f.server.setStatus(apiVersion: "argoproj.io/v1alpha1", kind: "Application", namespace: "argocd", name: "wordpress",
                                       status: .object(["sync": .object(["status": .string("Synced"), "revision": .string(revision)])]))
                return try GitRestoreBundleAction(arguments: .object(["source": .string("gitops")]), context: f.plan(workspace))
            }
            let warned = try bind(syncedAt: newer)
            #expect(warned.warnings.count == 1)
            #expect(warned.warnings.first?.contains("argocd/wordpress") == true)
            #expect(warned.warnings.first?.contains("roll the cluster back") == true)
            #expect(warned.plan.contains { $0.hasPrefix("WARNING:") && $0.contains(String(newer.prefix(12))) })
            #expect(try bind(syncedAt: tip).warnings.isEmpty)
            // An ancestor of a recorded tip is contained (found through a scratch rebuild).
            #expect(try bind(syncedAt: first).warnings.isEmpty)
        }
    }

    @Test("git.verify reports ref differences")
    func verifyDifferences() async throws {
        try await withActionFixture { f in
            let git = try GitFixture()
            let (bare, work) = try makeServedRepository(in: f.dir, git: git)
            let workspace = try f.workspace(gitSource(bare))
            _ = try f.backup(workspace, "gitops")
            try git.commit(work, file: "x.yaml", content: "x: 1\n", message: "After the backup")
            try git("push", "--quiet", "origin", "main", in: work)
            let verify = try GitVerifyAction(arguments: .object(["source": .string("gitops")]), context: f.plan(workspace, cluster: false))
            #expect(verify.plan.joined().contains("git fsck"))
            let output = OutputLog()
            let error = bindError { _ = try verify.run(f.execution(workspace, output: output)) }
            #expect(error?.code == .dataCorrupt)
            #expect(error?.message.contains("refs/heads/main is at") == true)
        }
    }
}
