import DRCore
import FakeKube
import Foundation
import Testing

@Suite struct CoreTests {
    @Test func crudLifecycle() async throws {
        let (server, auth) = try await startServer()
        defer { Task { await server.shutdown() } }
        let secret = try yaml("""
        apiVersion: v1
        kind: Secret
        metadata: {name: db, labels: {app: db}}
        stringData: {password: hunter2}
        """)
        let created = try await TestClient.send(server, "POST", "/api/v1/namespaces/default/secrets", body: secret, credential: auth)
        #expect(created.status == 201)
        let object = try #require(created.json)
        #expect(object[path: ["metadata", "uid"]]?.stringValue?.isEmpty == false)
        #expect(object[path: ["metadata", "generation"]]?.intValue == 1)
        #expect(object[path: ["data", "password"]]?.stringValue == Data("hunter2".utf8).base64EncodedString())
        #expect(object["stringData"] == nil)

        let duplicate = try await TestClient.send(server, "POST", "/api/v1/namespaces/default/secrets", body: secret, credential: auth)
        #expect(duplicate.status == 409)
        #expect(duplicate.json?["reason"]?.stringValue == "AlreadyExists")
        #expect(duplicate.json?["kind"]?.stringValue == "Status")

        let fetched = try await TestClient.send(server, "GET", "/api/v1/namespaces/default/secrets/db", credential: auth)
        #expect(fetched.status == 200)
        #expect(fetched.json?[path: ["metadata", "name"]]?.stringValue == "db")

        // PUT with the current resourceVersion succeeds and bumps generation for a data change.
        var updated = try #require(fetched.json)
        updated["data"] = .object(["password": .string("b3RoZXI=")])
        let put = try await TestClient.send(server, "PUT", "/api/v1/namespaces/default/secrets/db", body: updated, credential: auth)
        #expect(put.status == 200)
        #expect(put.json?[path: ["metadata", "generation"]]?.intValue == 2)
        #expect(put.json?[path: ["metadata", "resourceVersion"]] != fetched.json?[path: ["metadata", "resourceVersion"]])

        // PUT with the stale resourceVersion conflicts.
        let stale = try await TestClient.send(server, "PUT", "/api/v1/namespaces/default/secrets/db", body: updated, credential: auth)
        #expect(stale.status == 409)
        #expect(stale.json?["reason"]?.stringValue == "Conflict")

        let deleted = try await TestClient.send(server, "DELETE", "/api/v1/namespaces/default/secrets/db", credential: auth)
        #expect(deleted.status == 200)
        let gone = try await TestClient.send(server, "GET", "/api/v1/namespaces/default/secrets/db", credential: auth)
        #expect(gone.status == 404)
        #expect(gone.json?["reason"]?.stringValue == "NotFound")
        #expect(gone.json?["message"]?.stringValue == "secrets \"db\" not found")
        #expect(gone.json?[path: ["details", "name"]]?.stringValue == "db")
        #expect(server.object(apiVersion: "v1", kind: "Secret", namespace: "default", name: "db") == nil)
    }

    @Test func validationAndNamespaceErrors() async throws {
        let (server, auth) = try await startServer()
        defer { Task { await server.shutdown() } }
        let noName = try yaml("{apiVersion: v1, kind: ConfigMap, metadata: {}}")
        let missing = try await TestClient.send(server, "POST", "/api/v1/namespaces/default/configmaps", body: noName, credential: auth)
        #expect(missing.status == 422)
        #expect(missing.json?["reason"]?.stringValue == "Invalid")
        let badName = try yaml("{apiVersion: v1, kind: ConfigMap, metadata: {name: Bad_Name}}")
        let bad = try await TestClient.send(server, "POST", "/api/v1/namespaces/default/configmaps", body: badName, credential: auth)
        #expect(bad.status == 422)
        let good = try yaml("{apiVersion: v1, kind: ConfigMap, metadata: {name: cfg}, data: {a: b}}")
        let noNamespace = try await TestClient.send(server, "POST", "/api/v1/namespaces/nope/configmaps", body: good, credential: auth)
        #expect(noNamespace.status == 404)
        #expect(noNamespace.json?["message"]?.stringValue == "namespaces \"nope\" not found")
        let ns = try yaml("{apiVersion: v1, kind: Namespace, metadata: {name: nope}}")
        #expect(try await TestClient.send(server, "POST", "/api/v1/namespaces", body: ns, credential: auth).status == 201)
        #expect(try await TestClient.send(server, "POST", "/api/v1/namespaces/nope/configmaps", body: good, credential: auth).status == 201)
        // Deleting the namespace removes what it holds.
        #expect(try await TestClient.send(server, "DELETE", "/api/v1/namespaces/nope", credential: auth).status == 200)
        #expect(server.objects(apiVersion: "v1", kind: "ConfigMap", namespace: "nope").isEmpty)
        // Unknown resource, unsupported patch type, method not allowed.
        #expect(try await TestClient.send(server, "GET", "/api/v1/namespaces/default/widgets", credential: auth).status == 404)
        _ = try server.seed(good)
        let unsupported = try await TestClient.send(server, "PATCH", "/api/v1/namespaces/default/configmaps/cfg",
                                                    body: .object([:]), contentType: "text/plain", credential: auth)
        #expect(unsupported.status == 415)
        #expect(try await TestClient.send(server, "POST", "/api/v1/namespaces/default/configmaps/cfg", body: good, credential: auth).status == 405)
        // A body of another kind than the URL names is a bad request.
        let wrongKind = try yaml("{apiVersion: v1, kind: Secret, metadata: {name: wrong}}")
        #expect(try await TestClient.send(server, "POST", "/api/v1/namespaces/default/configmaps", body: wrongKind, credential: auth).status == 400)
        // dryRun=All does not persist.
        let dry = try yaml("{apiVersion: v1, kind: ConfigMap, metadata: {name: dry}}")
        let dryResult = try await TestClient.send(server, "POST", "/api/v1/namespaces/default/configmaps?dryRun=All", body: dry, credential: auth)
        #expect(dryResult.status == 201)
        #expect(server.object(apiVersion: "v1", kind: "ConfigMap", namespace: "default", name: "dry") == nil)
    }

    @Test func selectors() async throws {
        let (server, auth) = try await startServer()
        defer { Task { await server.shutdown() } }
        try server.seed(yaml: """
        apiVersion: v1
        kind: Secret
        metadata: {name: a, namespace: default, labels: {tier: web, env: prod}}
        type: kubernetes.io/tls
        ---
        apiVersion: v1
        kind: Secret
        metadata: {name: b, namespace: default, labels: {tier: db, env: prod}}
        ---
        apiVersion: v1
        kind: Secret
        metadata: {name: c, namespace: other, labels: {tier: web}}
        """)
        func names(_ query: String) async throws -> [String] {
            let result = try await TestClient.send(server, "GET", "/api/v1/secrets?\(query)", credential: auth)
            #expect(result.status == 200)
            return (result.json?["items"]?.arrayValue ?? []).compactMap { $0[path: ["metadata", "name"]]?.stringValue }
        }
        #expect(try await names("") == ["a", "b", "c"])
        #expect(try await names("labelSelector=tier%3Dweb") == ["a", "c"])
        #expect(try await names("labelSelector=tier%3D%3Dweb,env%3Dprod") == ["a"])
        #expect(try await names("labelSelector=tier!%3Dweb") == ["b"])
        #expect(try await names("labelSelector=tier+in+(db,cache)") == ["b"])
        #expect(try await names("labelSelector=tier%20notin%20(db)") == ["a", "c"])
        #expect(try await names("labelSelector=env") == ["a", "b"])
        #expect(try await names("labelSelector=!env") == ["c"])
        #expect(try await names("fieldSelector=metadata.namespace%3Dother") == ["c"])
        #expect(try await names("fieldSelector=metadata.name%3Db") == ["b"])
        #expect(try await names("fieldSelector=type%3Dkubernetes.io/tls") == ["a"])
        #expect(try await names("fieldSelector=type!%3Dkubernetes.io/tls") == ["b", "c"])
        let perNamespace = try await TestClient.send(server, "GET", "/api/v1/namespaces/other/secrets", credential: auth)
        #expect(perNamespace.json?["items"]?.arrayValue?.count == 1)
        #expect(perNamespace.json?["kind"]?.stringValue == "SecretList")
    }

    @Test func paginationAndExpiredContinue() async throws {
        let (server, auth) = try await startServer()
        defer { Task { await server.shutdown() } }
        for index in 0..<7 {
            try server.seed(yaml("{apiVersion: v1, kind: ConfigMap, metadata: {name: cm-\(index), namespace: default}}"))
        }
        var seen: [String] = []
        var token: String?
        var pages = 0
        repeat {
            let query = "limit=3" + (token.map { "&continue=\($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0)" } ?? "")
            let page = try await TestClient.send(server, "GET", "/api/v1/namespaces/default/configmaps?\(query)", credential: auth)
            #expect(page.status == 200)
            let items = page.json?["items"]?.arrayValue ?? []
            #expect(items.count <= 3)
            seen += items.compactMap { $0[path: ["metadata", "name"]]?.stringValue }
            token = page.json?[path: ["metadata", "continue"]]?.stringValue
            pages += 1
        } while token != nil && pages < 10
        #expect(pages == 3)
        #expect(seen == (0..<7).map { "cm-\($0)" })

        let first = try await TestClient.send(server, "GET", "/api/v1/namespaces/default/configmaps?limit=2", credential: auth)
        let continueToken = try #require(first.json?[path: ["metadata", "continue"]]?.stringValue)
        server.expireContinueTokens()
        let expired = try await TestClient.send(
            server, "GET", "/api/v1/namespaces/default/configmaps?limit=2&continue=\(continueToken.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")",
            credential: auth)
        #expect(expired.status == 410)
        #expect(expired.json?["reason"]?.stringValue == "Expired")
        // A fresh list works again.
        #expect(try await TestClient.send(server, "GET", "/api/v1/namespaces/default/configmaps?limit=2", credential: auth).status == 200)
    }

    @Test func patches() async throws {
        let (server, auth) = try await startServer()
        defer { Task { await server.shutdown() } }
        try server.seed(yaml("""
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web, namespace: default, labels: {app: web, old: x}}
        spec:
          replicas: 1
          template:
            spec:
              containers:
              - name: web
                image: nginx:1
                env: [{name: A, value: "1"}, {name: B, value: "2"}]
              - name: sidecar
                image: envoy:1
        """))
        let path = "/apis/apps/v1/namespaces/default/deployments/web"
        let merge = try await TestClient.send(server, "PATCH", path, body: try yaml("{metadata: {labels: {old: null, new: y}}, spec: {replicas: 3}}"),
                                              contentType: "application/merge-patch+json", credential: auth)
        #expect(merge.status == 200)
        #expect(merge.json?[path: ["metadata", "labels"]] == .object(["app": .string("web"), "new": .string("y")]))
        #expect(merge.json?[path: ["spec", "replicas"]]?.intValue == 3)
        #expect(merge.json?[path: ["metadata", "generation"]]?.intValue == 2)

        let strategic = try await TestClient.send(server, "PATCH", path, body: try yaml("""
        spec:
          template:
            spec:
              $setElementOrder/containers: [{name: web}, {name: sidecar}]
              containers:
              - name: web
                image: nginx:2
                env: [{name: B, value: "3"}, {name: A, $patch: delete}]
              - name: sidecar
                $patch: delete
        """), contentType: "application/strategic-merge-patch+json", credential: auth)
        #expect(strategic.status == 200)
        let containers = strategic.json?[path: ["spec", "template", "spec", "containers"]]?.arrayValue ?? []
        #expect(containers.count == 1)
        #expect(containers.first?["image"]?.stringValue == "nginx:2")
        #expect(containers.first?["env"] == .array([.object(["name": .string("B"), "value": .string("3")])]))

        let json = try await TestClient.send(server, "PATCH", path, body: try yaml("""
        - {op: test, path: /spec/replicas, value: 3}
        - {op: replace, path: /spec/replicas, value: 5}
        - {op: add, path: /metadata/annotations, value: {a: b}}
        - {op: copy, from: /metadata/annotations/a, path: /metadata/labels/copied}
        - {op: move, from: /metadata/labels/new, path: /metadata/labels/moved}
        - {op: remove, path: /metadata/labels/app}
        """), contentType: "application/json-patch+json", credential: auth)
        #expect(json.status == 200)
        #expect(json.json?[path: ["spec", "replicas"]]?.intValue == 5)
        #expect(json.json?[path: ["metadata", "labels"]] == .object(["copied": .string("b"), "moved": .string("y")]))
        let failedTest = try await TestClient.send(server, "PATCH", path, body: try yaml("[{op: test, path: /spec/replicas, value: 1}]"),
                                                   contentType: "application/json-patch+json", credential: auth)
        #expect(failedTest.status == 422)
        let missing = try await TestClient.send(server, "PATCH", path + "x", body: .object([:]),
                                                contentType: "application/merge-patch+json", credential: auth)
        #expect(missing.status == 404)
    }

    @Test func serverSideApplyCreatesThenUpdates() async throws {
        let (server, auth) = try await startServer()
        defer { Task { await server.shutdown() } }
        let path = "/api/v1/namespaces/default/configmaps/settings?fieldManager=drctl&force=true"
        let first = try await TestClient.send(server, "PATCH", path, rawBody: Data("""
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: settings}
        data: {a: "1"}
        """.utf8), contentType: "application/apply-patch+yaml", credential: auth)
        #expect(first.status == 201)
        #expect(first.json?[path: ["metadata", "managedFields"]]?.arrayValue?.first?["manager"]?.stringValue == "drctl")
        #expect(first.json?[path: ["metadata", "managedFields"]]?.arrayValue?.first?["operation"]?.stringValue == "Apply")
        let second = try await TestClient.send(server, "PATCH", path,
                                               body: try yaml("{apiVersion: v1, kind: ConfigMap, metadata: {name: settings}, data: {b: '2'}}"),
                                               contentType: "application/apply-patch+yaml", credential: auth)
        #expect(second.status == 200)
        let stored = server.object(apiVersion: "v1", kind: "ConfigMap", namespace: "default", name: "settings")
        #expect(stored?["data"] == .object(["a": .string("1"), "b": .string("2")]))
        let noManager = try await TestClient.send(server, "PATCH", "/api/v1/namespaces/default/configmaps/settings",
                                                  body: try yaml("{apiVersion: v1, kind: ConfigMap, metadata: {name: settings}}"),
                                                  contentType: "application/apply-patch+yaml", credential: auth)
        #expect(noManager.status == 422)
        let dry = try await TestClient.send(server, "PATCH", "/api/v1/namespaces/default/configmaps/ghost?fieldManager=x&dryRun=All",
                                            body: try yaml("{apiVersion: v1, kind: ConfigMap, metadata: {name: ghost}}"),
                                            contentType: "application/apply-patch+yaml", credential: auth)
        #expect(dry.status == 201)
        #expect(server.object(apiVersion: "v1", kind: "ConfigMap", namespace: "default", name: "ghost") == nil)
    }

    @Test func crdRegistrationThenCustomResources() async throws {
        let (server, auth) = try await startServer()
        defer { Task { await server.shutdown() } }
        let app = try yaml("{apiVersion: argoproj.io/v1alpha1, kind: Application, metadata: {name: guestbook}, spec: {project: default}}")
        let before = try await TestClient.send(server, "POST", "/apis/argoproj.io/v1alpha1/namespaces/default/applications", body: app, credential: auth)
        #expect(before.status == 404)
        for crd in try JSONValue.parseYAMLDocuments(ArgoCRDs.yaml) {
            let created = try await TestClient.send(server, "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", body: crd, credential: auth)
            #expect(created.status == 201)
            let conditions = created.json?[path: ["status", "conditions"]]?.arrayValue ?? []
            #expect(conditions.contains { $0["type"]?.stringValue == "Established" && $0["status"]?.stringValue == "True" })
            #expect(conditions.contains { $0["type"]?.stringValue == "NamesAccepted" })
        }
        let groups = try await TestClient.send(server, "GET", "/apis", credential: auth)
        #expect((groups.json?["groups"]?.arrayValue ?? []).contains { $0["name"]?.stringValue == "argoproj.io" })
        let resources = try await TestClient.send(server, "GET", "/apis/argoproj.io/v1alpha1", credential: auth)
        let entry = (resources.json?["resources"]?.arrayValue ?? []).first { $0["name"]?.stringValue == "applications" }
        #expect(entry?["kind"]?.stringValue == "Application")
        #expect(entry?["namespaced"]?.boolValue == true)
        let after = try await TestClient.send(server, "POST", "/apis/argoproj.io/v1alpha1/namespaces/default/applications", body: app, credential: auth)
        #expect(after.status == 201)
        #expect(server.objects(apiVersion: "argoproj.io/v1alpha1", kind: "Application").count == 1)
        let deleted = try await TestClient.send(server, "DELETE", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/applications.argoproj.io", credential: auth)
        #expect(deleted.status == 200)
        #expect(try await TestClient.send(server, "GET", "/apis/argoproj.io/v1alpha1/namespaces/default/applications", credential: auth).status == 404)
        #expect(server.objects(apiVersion: "argoproj.io/v1alpha1", kind: "Application").isEmpty)
    }

    @Test func authentication() async throws {
        let (server, auth) = try await startServer()
        defer { Task { await server.shutdown() } }
        let anonymous = try await TestClient.send(server, "GET", "/api/v1/namespaces", credential: .none)
        #expect(anonymous.status == 401)
        #expect(anonymous.json?["reason"]?.stringValue == "Unauthorized")
        #expect(try await TestClient.send(server, "GET", "/api/v1/namespaces", credential: .token("wrong")).status == 401)
        #expect(try await TestClient.send(server, "GET", "/api/v1/namespaces", credential: auth).status == 200)
        // Token rotation.
        server.addToken("new-token", user: "rotated")
        server.removeToken("t0ken")
        #expect(try await TestClient.send(server, "GET", "/api/v1/namespaces", credential: auth).status == 401)
        #expect(try await TestClient.send(server, "GET", "/api/v1/namespaces", credential: .token("new-token")).status == 200)
        // Client certificates signed by the CA.
        let issued = try server.issueClientCertificate(user: "alice", groups: ["system:masters"])
        let viaCert = try await TestClient.send(server, "GET", "/api/v1/namespaces",
                                                credential: .certificate(certificatePEM: issued.certificatePEM, privateKeyPEM: issued.privateKeyPEM))
        #expect(viaCert.status == 200)
        #expect(server.requests.last?.user == "alice")
        #expect(server.requests.contains { $0.user == "rotated" && $0.path == "/api/v1/namespaces" })
        // A certificate from another CA is rejected during the handshake.
        let stranger = try await FakeKubeServer.start()
        let foreign = try stranger.issueClientCertificate(user: "mallory")
        await stranger.shutdown()
        await #expect(throws: (any Error).self) {
            _ = try await TestClient.send(server, "GET", "/api/v1/namespaces",
                                          credential: .certificate(certificatePEM: foreign.certificatePEM, privateKeyPEM: foreign.privateKeyPEM))
        }
    }

    @Test func failureInjectionAndRequestLog() async throws {
        let (server, auth) = try await startServer()
        defer { Task { await server.shutdown() } }
        server.injectFailures(method: "GET", pathPrefix: "/api/v1/namespaces/default/secrets", status: 500, count: 2)
        server.injectFailures(pathPrefix: "/api/v1/configmaps", status: 429, count: 1)
        let first = try await TestClient.send(server, "GET", "/api/v1/namespaces/default/secrets", credential: auth)
        #expect(first.status == 500)
        #expect(first.json?["reason"]?.stringValue == "InternalError")
        #expect(try await TestClient.send(server, "GET", "/api/v1/namespaces/default/secrets", credential: auth).status == 500)
        #expect(try await TestClient.send(server, "GET", "/api/v1/namespaces/default/secrets", credential: auth).status == 200)
        let throttled = try await TestClient.send(server, "GET", "/api/v1/configmaps?limit=1", credential: auth)
        #expect(throttled.status == 429)
        #expect(throttled.json?["reason"]?.stringValue == "TooManyRequests")
        #expect(try await TestClient.send(server, "GET", "/api/v1/configmaps", credential: auth).status == 200)
        let logged = server.requests.first { $0.query == "limit=1" }
        #expect(logged?.method == "GET")
        #expect(logged?.path == "/api/v1/configmaps")
        #expect(logged?.user == "tester")
    }

    @Test func discoveryAndTables() async throws {
        let (server, auth) = try await startServer()
        defer { Task { await server.shutdown() } }
        let version = try await TestClient.send(server, "GET", "/version", credential: auth)
        #expect(version.json?["major"]?.stringValue == "1")
        let core = try await TestClient.send(server, "GET", "/api/v1", credential: auth)
        let resources = core.json?["resources"]?.arrayValue ?? []
        #expect(resources.contains { $0["name"]?.stringValue == "namespaces" && $0["namespaced"]?.boolValue == false })
        #expect(resources.contains { $0["name"]?.stringValue == "configmaps" && $0["shortNames"] == .array([.string("cm")]) })
        let apps = try await TestClient.send(server, "GET", "/apis/apps/v1", credential: auth)
        #expect((apps.json?["resources"]?.arrayValue ?? []).contains { $0["name"]?.stringValue == "deployments/status" })
        try server.seed(yaml("{apiVersion: apps/v1, kind: Deployment, metadata: {name: web, namespace: default}, spec: {replicas: 2}}"))
        let table = try await TestClient.send(server, "GET", "/apis/apps/v1/namespaces/default/deployments",
                                              accept: "application/json;as=Table;v=v1;g=meta.k8s.io,application/json", credential: auth)
        #expect(table.json?["kind"]?.stringValue == "Table")
        let columns = (table.json?["columnDefinitions"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
        #expect(columns == ["Name", "Ready", "Up-to-date", "Available", "Age"])
        #expect(table.json?["rows"]?.arrayValue?.first?["cells"]?.arrayValue?.first?.stringValue == "web")
    }

    @Test func watchAnswersCurrentObjectsThenCloses() async throws {
        let (server, auth) = try await startServer()
        defer { Task { await server.shutdown() } }
        try server.seed(yaml("{apiVersion: v1, kind: ConfigMap, metadata: {name: one, namespace: default}}"))
        try server.seed(yaml("{apiVersion: v1, kind: ConfigMap, metadata: {name: two, namespace: default}}"))
        let watch = try await TestClient.send(server, "GET", "/api/v1/namespaces/default/configmaps?watch=true&fieldSelector=metadata.name%3Dtwo",
                                              credential: auth)
        #expect(watch.status == 200)
        let events = try watch.text.split(separator: "\n").map { try JSONValue.parse(json: Data($0.utf8)) }
        #expect(events.count == 1)
        #expect(events.first?["type"]?.stringValue == "ADDED")
        #expect(events.first?[path: ["object", "kind"]]?.stringValue == "ConfigMap")
        #expect(events.first?[path: ["object", "metadata", "name"]]?.stringValue == "two")
        // Built-in list items omit kind/apiVersion like the real API server.
        let list = try await TestClient.send(server, "GET", "/api/v1/namespaces/default/configmaps", credential: auth)
        #expect(list.json?["items"]?.arrayValue?.first?["kind"] == nil)
    }

    @Test func aggregatedDiscoveryOnlyWhenAskedAndEnabled() async throws {
        let accept = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"
        let (server, auth) = try await startServer()
        defer { Task { await server.shutdown() } }
        let aggregated = try await TestClient.send(server, "GET", "/apis", accept: accept, credential: auth)
        #expect(aggregated.json?["kind"]?.stringValue == "APIGroupDiscoveryList")
        let apps = (aggregated.json?["items"]?.arrayValue ?? []).first { $0[path: ["metadata", "name"]]?.stringValue == "apps" }
        let deployments = (apps?["versions"]?.arrayValue?.first?["resources"]?.arrayValue ?? []).first { $0["resource"]?.stringValue == "deployments" }
        #expect(deployments?["scope"]?.stringValue == "Namespaced")
        #expect(deployments?["shortNames"] == .array([.string("deploy")]))
        let legacy = try await TestClient.send(server, "GET", "/apis", credential: auth)
        #expect(legacy.json?["kind"]?.stringValue == "APIGroupList")
        let (plain, plainAuth) = try await startServer(.init(aggregatedDiscovery: false))
        defer { Task { await plain.shutdown() } }
        let fallback = try await TestClient.send(plain, "GET", "/api", accept: accept, credential: plainAuth)
        #expect(fallback.json?["kind"]?.stringValue == "APIVersions")
    }
}
