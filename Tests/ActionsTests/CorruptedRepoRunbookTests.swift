import DRCore
import FakeKube
import Foundation
import Restore
import Snapshots
import Testing
import TestSupport

/// The `corrupted-repo` runbook for real: a GitOps repository served by `git daemon` on
/// loopback, backed up, corrupted; the fake cluster's ArgoCD fails to sync from it; the
/// built-in runbook restores it and ArgoCD syncs again by really fetching it.
@Suite("corrupted-repo runbook end to end")
struct CorruptedRepoRunbookTests {
    static let apps = ["wordpress", "plugin-deployer"]

    func seedCluster(_ fixture: ActionFixture, repoURL: String) throws {
        try fixture.installArgo()
        try fixture.seed(deploymentYAML("gitops-git-daemon", namespace: "gitops-system"))
        for app in Self.apps { try fixture.seed(applicationYAML(app, repoURL: repoURL)) }
    }

    func application(_ fixture: ActionFixture, _ name: String) throws -> JSONValue? {
        try fixture.object("argoproj.io/v1alpha1", "Application", "argocd", name)
    }

    @Test("restore brings back a served repository; ArgoCD fails before and syncs after")
    func corruptedRepo() async throws {
        let git = try GitFixture()
        try await withActionFixture { fixture in
            let served = "\(fixture.dir)/served"
            let repo = "\(served)/gitops.git"
            try makeServedGitOps(git, work: "\(fixture.dir)/work", bare: repo, apps: Self.apps)
            let daemon = try GitDaemon(base: served)
            defer { daemon.stop() }
            let url = daemon.url("gitops.git")
            try seedCluster(fixture, repoURL: url)

            let workspace = try fixture.workspace("  - name: gitops\n    kind: git-bundle\n    repo: \(repo)\n")
            let snapshot = try fixture.backup(workspace, "gitops")
            let main = try git("rev-parse", "main", in: repo).trimmingWhitespace()

            // Corrupt it: clones fail, and so does an ArgoCD sync.
            try corruptRepository(repo)
            #expect(throws: (any Error).self) { try git("clone", "--quiet", url, "\(fixture.dir)/broken-clone") }
            _ = try fixture.client.patch(
                try fixture.client.resource(apiVersion: "argoproj.io/v1alpha1", kind: "Application"),
                namespace: "argocd", name: "wordpress", type: .merge,
                body: .object(["operation": .object(["sync": .object(["revision": .string("main")])])]))
            let failedPhase = try await blocking {
                let deadline = ContinuousClock.now + .seconds(30)
                while ContinuousClock.now < deadline {
                    let app = try fixture.object("argoproj.io/v1alpha1", "Application", "argocd", "wordpress")
                    if let phase = app?[path: ["status", "operationState", "phase"]]?.stringValue, phase != "Running" { return phase }
                    Thread.sleep(forTimeInterval: 0.02)
                }
                return "timeout"
            }
            #expect(failedPhase == "Failed")

            // The runbook, as built into drctl, with --yes.
            let runbook = try RunbookLoader.load(name: "corrupted-repo", config: workspace.config)
            // --plan binds everything and changes nothing, in the cluster or on disk.
            fixture.server.clearRequests()
            let listingBefore = FileIO.list(served)
            let plan = try await blocking { try Planner(workspace: workspace).plan(runbook) }
            #expect(plan.snapshots.map(\.id).contains(snapshot.id))
            #expect(fixture.server.requests.allSatisfy { $0.method == "GET" }, "\(fixture.server.requests.map(\.method))")
            #expect(FileIO.list(served) == listingBefore)
            let output = OutputLog()
            let result = try await blocking {
                try Executor(workspace: workspace, confirmer: AssumeYes(), output: { output.append($0) }).run(runbook)
            }
            #expect(result.status == .succeeded, "\(result.error ?? "")\n\(output.text)")

            // The served repository works again, with exactly the snapshot's refs.
            let clone = "\(fixture.dir)/clone"
            try git("clone", "--quiet", url, clone)
            #expect(try git("rev-parse", "origin/main", in: clone).trimmingWhitespace() == main)
            let refs = try git("for-each-ref", "--format=%(refname) %(objectname)", in: repo)
                .split(separator: "\n").map(String.init).sorted()
            let recorded = try workspace.catalog.refs(of: snapshot.id).filter { $0.name != "HEAD" }.map { "\($0.name) \($0.oid)" }.sorted()
            #expect(refs == recorded)
            #expect(FileIO.exists("\(repo)/git-daemon-export-ok"))
            // The corrupted copy is kept aside, never deleted.
            #expect(FileIO.list(served).contains { $0.hasPrefix("gitops.git.corrupt-") })

            // ArgoCD synced every application from the restored repository; auto-sync is back.
            for app in Self.apps {
                let object = try #require(try application(fixture, app))
                #expect(object[path: ["status", "sync", "status"]]?.stringValue == "Synced", "\(app)")
                #expect(object[path: ["status", "health", "status"]]?.stringValue == "Healthy", "\(app)")
                #expect(object[path: ["status", "sync", "revision"]]?.stringValue == main, "\(app)")
                #expect(object[path: ["spec", "syncPolicy", "automated", "selfHeal"]]?.boolValue == true, "\(app)")
            }
            // ArgoCD applied what the restored repository says.
            for app in Self.apps {
                #expect(try fixture.object("apps/v1", "Deployment", app, app) != nil, "\(app) was not deployed by the sync")
            }
            // The daemon was restarted through the API, as `kubectl rollout restart` does.
            let daemonDeployment = try fixture.object("apps/v1", "Deployment", "gitops-system", "gitops-git-daemon")
            #expect(daemonDeployment?[path: ["spec", "template", "metadata", "annotations", "kubectl.kubernetes.io/restartedAt"]] != nil)

            // The journal has the execution, its runbook hash and the bound snapshot.
            let execution = try workspace.catalog.execution(matching: result.executionID)
            #expect(execution.contentHash == runbook.contentHash)
            #expect(execution.plan.contains(snapshot.id))
            #expect(try workspace.catalog.executionSteps(result.executionID).allSatisfy { $0.status != .failed })
        }
    }
}
