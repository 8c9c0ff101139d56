import DRCore
import FakeKube
import Foundation
import Testing

@Suite struct RolloutTests {
    private func status(_ server: FakeKubeServer, _ kind: String, _ name: String) -> JSONValue? {
        server.object(apiVersion: "apps/v1", kind: kind, namespace: "default", name: name)?["status"]
    }

    private func generation(_ server: FakeKubeServer, _ kind: String, _ name: String) -> Int64? {
        server.object(apiVersion: "apps/v1", kind: kind, namespace: "default", name: name)?[path: ["metadata", "generation"]]?.intValue
    }

    @Test func deploymentStatusFollowsGenerations() async throws {
        let (server, auth) = try await startServer()
        defer { Task { await server.shutdown() } }
        try server.seed(yaml("{apiVersion: apps/v1, kind: Deployment, metadata: {name: web, namespace: default}, spec: {replicas: 3}}"))
        #expect(await eventually {
            let status = self.status(server, "Deployment", "web")
            return status?["observedGeneration"]?.intValue == 1 && status?["availableReplicas"]?.intValue == 3
        })
        let status = try #require(self.status(server, "Deployment", "web"))
        #expect(status["readyReplicas"]?.intValue == 3)
        #expect(status["updatedReplicas"]?.intValue == 3)
        let conditions = status["conditions"]?.arrayValue ?? []
        #expect(conditions.contains { $0["type"]?.stringValue == "Available" && $0["status"]?.stringValue == "True" })
        #expect(conditions.contains { $0["type"]?.stringValue == "Progressing" })

        let patched = try await TestClient.send(server, "PATCH", "/apis/apps/v1/namespaces/default/deployments/web",
                                                body: try yaml("{spec: {replicas: 5}}"), contentType: "application/merge-patch+json",
                                                credential: auth)
        #expect(patched.json?[path: ["metadata", "generation"]]?.intValue == 2)
        #expect(await eventually {
            let status = self.status(server, "Deployment", "web")
            return status?["observedGeneration"]?.intValue == 2 && status?["availableReplicas"]?.intValue == 5
        })
        // Metadata-only changes keep the generation.
        _ = try await TestClient.send(server, "PATCH", "/apis/apps/v1/namespaces/default/deployments/web",
                                      body: try yaml("{metadata: {labels: {x: y}}}"), contentType: "application/merge-patch+json",
                                      credential: auth)
        #expect(generation(server, "Deployment", "web") == 2)
    }

    @Test func frozenRolloutsStayUnavailable() async throws {
        let (server, auth) = try await startServer()
        defer { Task { await server.shutdown() } }
        server.setRolloutsFrozen(true)
        try server.seed(yaml("{apiVersion: apps/v1, kind: Deployment, metadata: {name: api, namespace: default}, spec: {replicas: 2}}"))
        try server.seed(yaml("{apiVersion: apps/v1, kind: StatefulSet, metadata: {name: db, namespace: default}, spec: {replicas: 1}}"))
        // Bounded wait for something that must not happen while frozen.
        let progressed = await eventually(timeout: .milliseconds(400)) {
            self.status(server, "Deployment", "api")?["availableReplicas"] != nil
        }
        #expect(!progressed)
        let table = try await TestClient.send(server, "GET", "/apis/apps/v1/namespaces/default/deployments/api",
                                              accept: "application/json;as=Table;v=v1;g=meta.k8s.io", credential: auth)
        #expect(table.json?["rows"]?.arrayValue?.first?["cells"]?.arrayValue?[1].stringValue == "0/2")
        server.setRolloutsFrozen(false)
        #expect(await eventually {
            self.status(server, "Deployment", "api")?["availableReplicas"]?.intValue == 2
                && self.status(server, "StatefulSet", "db")?["readyReplicas"]?.intValue == 1
        })
        #expect(status(server, "StatefulSet", "db")?["observedGeneration"]?.intValue == 1)
    }

    @Test func statusSubresourceIsSeparate() async throws {
        let (server, auth) = try await startServer()
        defer { Task { await server.shutdown() } }
        server.setRolloutsFrozen(true)
        try server.seed(yaml("{apiVersion: apps/v1, kind: Deployment, metadata: {name: web, namespace: default}, spec: {replicas: 1}}"))
        let main = try await TestClient.send(server, "PATCH", "/apis/apps/v1/namespaces/default/deployments/web",
                                             body: try yaml("{status: {replicas: 9}}"), contentType: "application/merge-patch+json",
                                             credential: auth)
        #expect(main.status == 200)
        #expect(status(server, "Deployment", "web")?["replicas"] == nil)
        let sub = try await TestClient.send(server, "PATCH", "/apis/apps/v1/namespaces/default/deployments/web/status",
                                            body: try yaml("{status: {replicas: 9}, spec: {replicas: 4}}"),
                                            contentType: "application/merge-patch+json", credential: auth)
        #expect(sub.status == 200)
        #expect(status(server, "Deployment", "web")?["replicas"]?.intValue == 9)
        #expect(generation(server, "Deployment", "web") == 1)
        #expect(try await TestClient.send(server, "GET", "/api/v1/namespaces/default/configmaps/x/status", credential: auth).status == 404)
    }
}

@Suite struct ArgoTests {
    /// A bare repository with one commit holding `manifests/config.yaml`; returns its path and HEAD sha.
    private func makeRepository(in dir: TempDir) async throws -> (path: String, sha: String) {
        let work = dir.file("work")
        try FileManager.default.createDirectory(atPath: work + "/manifests", withIntermediateDirectories: true)
        try Data("""
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: from-git}
        data: {source: git}
        """.utf8).write(to: URL(fileURLWithPath: work + "/manifests/config.yaml"))
        let git = "/usr/bin/git"
        let identity = ["-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "init.defaultBranch=main"]
        for arguments in [["init", "-q", work], ["-C", work, "add", "."], ["-C", work, "commit", "-q", "-m", "init"],
                          ["clone", "-q", "--bare", work, dir.file("repo.git")]] {
            let result = try await runCommand(git, identity + arguments, in: dir)
            #expect(result.status == 0, "git \(arguments): \(result.stderr)")
        }
        let sha = try await runCommand(git, ["-C", dir.file("repo.git"), "rev-parse", "HEAD"], in: dir)
        return (dir.file("repo.git"), sha.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    private func prepare(_ server: FakeKubeServer, repoURL: String, withController: Bool) throws {
        try server.seed(yaml: ArgoCRDs.yaml)
        if withController { try seedController(server) }
        try server.seed(yaml("""
        apiVersion: argoproj.io/v1alpha1
        kind: Application
        metadata: {name: guestbook, namespace: argocd}
        spec:
          project: default
          source: {repoURL: "\(repoURL)", targetRevision: HEAD, path: manifests}
          destination: {server: "https://kubernetes.default.svc", namespace: demo}
          syncPolicy: {automated: {prune: true}}
        """))
    }

    private func seedController(_ server: FakeKubeServer) throws {
        try server.seed(yaml("""
        {apiVersion: apps/v1, kind: StatefulSet, metadata: {name: argocd-application-controller, namespace: argocd}, spec: {replicas: 1}}
        """))
    }

    private func requestSync(_ server: FakeKubeServer, _ auth: Credential) async throws {
        let result = try await TestClient.send(
            server, "PATCH", "/apis/argoproj.io/v1alpha1/namespaces/argocd/applications/guestbook",
            body: try yaml("{operation: {sync: {revision: HEAD, prune: true, syncOptions: [CreateNamespace=true]}, initiatedBy: {username: admin}}}"),
            contentType: "application/merge-patch+json", credential: auth)
        #expect(result.status == 200)
    }

    private func application(_ server: FakeKubeServer) -> JSONValue? {
        server.object(apiVersion: "argoproj.io/v1alpha1", kind: "Application", namespace: "argocd", name: "guestbook")
    }

    private func phase(_ server: FakeKubeServer) -> String? {
        application(server)?[path: ["status", "operationState", "phase"]]?.stringValue
    }

    @Test func syncSucceedsAgainstHealthyRepository() async throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let repository = try await makeRepository(in: dir)
        let (server, auth) = try await startServer()
        defer { Task { await server.shutdown() } }
        try prepare(server, repoURL: repository.path, withController: true)
        try await requestSync(server, auth)
        #expect(await eventually(timeout: .seconds(30)) { self.phase(server) == "Succeeded" })
        let app = try #require(application(server))
        #expect(app[path: ["status", "sync", "status"]]?.stringValue == "Synced")
        #expect(app[path: ["status", "sync", "revision"]]?.stringValue == repository.sha)
        #expect(app[path: ["status", "operationState", "syncResult", "revision"]]?.stringValue == repository.sha)
        #expect(app[path: ["status", "operationState", "operation", "initiatedBy", "username"]]?.stringValue == "admin")
        #expect(app[path: ["status", "operationState", "finishedAt"]] != nil)
        #expect(app[path: ["status", "health", "status"]]?.stringValue == "Healthy")
        #expect(app["operation"] == nil)
        #expect(app[path: ["spec", "syncPolicy", "automated", "prune"]]?.boolValue == true)
        let applied = server.object(apiVersion: "v1", kind: "ConfigMap", namespace: "demo", name: "from-git")
        #expect(applied?[path: ["data", "source"]]?.stringValue == "git")
    }

    @Test func syncFailsAgainstCorruptedRepository() async throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let repository = try await makeRepository(in: dir)
        let objects = URL(fileURLWithPath: repository.path).appendingPathComponent("objects")
        for entry in try FileManager.default.contentsOfDirectory(atPath: objects.path) where entry.count == 2 {
            try FileManager.default.removeItem(at: objects.appendingPathComponent(entry))
        }
        let (server, auth) = try await startServer()
        defer { Task { await server.shutdown() } }
        try prepare(server, repoURL: "file://" + repository.path, withController: true)
        try await requestSync(server, auth)
        #expect(await eventually(timeout: .seconds(30)) { ["Failed", "Error"].contains(self.phase(server) ?? "") })
        let app = try #require(application(server))
        #expect(app[path: ["status", "operationState", "message"]]?.stringValue?.isEmpty == false)
        #expect(["OutOfSync", "Unknown"].contains(app[path: ["status", "sync", "status"]]?.stringValue ?? ""))
        #expect(["Degraded", "Missing"].contains(app[path: ["status", "health", "status"]]?.stringValue ?? ""))
        #expect(server.object(apiVersion: "v1", kind: "ConfigMap", namespace: "demo", name: "from-git") == nil)
    }

    @Test func syncFailsForMissingRepository() async throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let (server, auth) = try await startServer()
        defer { Task { await server.shutdown() } }
        try prepare(server, repoURL: dir.file("does-not-exist.git"), withController: true)
        try await requestSync(server, auth)
        #expect(await eventually(timeout: .seconds(30)) { self.phase(server) == "Failed" })
    }

    @Test func noSyncWithoutController() async throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let repository = try await makeRepository(in: dir)
        let (server, auth) = try await startServer()
        defer { Task { await server.shutdown() } }
        try prepare(server, repoURL: repository.path, withController: false)
        try await requestSync(server, auth)
        // Bounded wait for something that must not happen without a controller.
        let started = await eventually(timeout: .milliseconds(500)) { self.phase(server) != nil }
        #expect(!started)
        #expect(application(server)?["operation"] != nil)
        // Once the controller is up and available, the pending operation runs.
        try seedController(server)
        #expect(await eventually(timeout: .seconds(30)) { self.phase(server) == "Succeeded" })
    }

    @Test func secondOperationWaitsWhileRunning() async throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let repository = try await makeRepository(in: dir)
        // A git that blocks until the test opens the gate, so the Running phase can be observed.
        let gate = dir.file("gate-open")
        let slowGit = try dir.write("slow-git", "#!/bin/sh\nwhile [ ! -f '\(gate)' ]; do sleep 0.02; done\nexec /usr/bin/git \"$@\"\n")
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: slowGit)
        let (server, auth) = try await startServer(.init(gitPath: slowGit, gitTimeout: .seconds(30)))
        defer { Task { await server.shutdown() } }
        try prepare(server, repoURL: repository.path, withController: true)
        try await requestSync(server, auth)
        #expect(await eventually { self.phase(server) == "Running" })
        let second = try await TestClient.send(
            server, "PATCH", "/apis/argoproj.io/v1alpha1/namespaces/argocd/applications/guestbook",
            body: try yaml("{operation: {sync: {revision: \(repository.sha)}, initiatedBy: {username: second}}}"),
            contentType: "application/merge-patch+json", credential: auth)
        #expect(second.status == 200)
        #expect(phase(server) == "Running")
        #expect(application(server)?[path: ["status", "operationState", "operation", "initiatedBy", "username"]]?.stringValue == "admin")
        _ = FileManager.default.createFile(atPath: gate, contents: Data())
        // The first operation finishes, then the pending second one runs.
        #expect(await eventually(timeout: .seconds(30)) {
            self.phase(server) == "Succeeded"
                && self.application(server)?[path: ["status", "operationState", "operation", "initiatedBy", "username"]]?.stringValue == "second"
        })
        #expect(application(server)?["operation"] == nil)
    }

    @Test func syncSucceedsAgainstGitDaemon() async throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let repository = try await makeRepository(in: dir)
        // DRCore's daemon waits for its port synchronously (not on the cooperative pool).
        let daemon = try GitDaemon(base: dir.path, git: "/usr/bin/git", exportAll: true, killAfter: .seconds(120))
        defer { daemon.stop() }
        let url = daemon.url("repo.git")
        let (server, auth) = try await startServer()
        defer { Task { await server.shutdown() } }
        try prepare(server, repoURL: url, withController: true)
        try await requestSync(server, auth)
        #expect(await eventually(timeout: .seconds(30)) { self.phase(server) == "Succeeded" })
        #expect(application(server)?[path: ["status", "sync", "revision"]]?.stringValue == repository.sha)
    }

    @Test func hangingGitTimesOut() async throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let hang = try dir.write("hanging-git", "#!/bin/sh\nwhile true; do sleep 0.05; done\n")
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: hang)
        let (server, auth) = try await startServer(.init(gitPath: hang, gitTimeout: .seconds(1)))
        defer { Task { await server.shutdown() } }
        try prepare(server, repoURL: dir.file("repo.git"), withController: true)
        try await requestSync(server, auth)
        #expect(await eventually(timeout: .seconds(20)) { self.phase(server) == "Failed" })
        let message = application(server)?[path: ["status", "operationState", "message"]]?.stringValue ?? ""
        #expect(message.contains("timed out"))
    }
}
