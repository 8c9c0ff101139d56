@testable import DRCore
import Foundation
import Testing
import TestSupport

private let caPEM = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n"
private let caData = Data(caPEM.utf8).base64EncodedString()

private func kubeconfig(
    current: String?, clusters: [(String, String)], contexts: [(name: String, cluster: String, user: String, namespace: String?)],
    users: [(String, String)]
) -> String {
    var text = "apiVersion: v1\nkind: Config\n"
    if let current { text += "current-context: \(current)\n" }
    text += "clusters:\n"
    for (name, body) in clusters { text += "- name: \(name)\n  cluster:\n\(body)" }
    text += "contexts:\n"
    for context in contexts {
        text += "- name: \(context.name)\n  context:\n    cluster: \(context.cluster)\n    user: \(context.user)\n"
        if let namespace = context.namespace { text += "    namespace: \(namespace)\n" }
    }
    text += "users:\n"
    for (name, body) in users { text += "- name: \(name)\n  user:\n\(body)" }
    return text
}

@Suite struct KubeConfigTests {
    @Test func singleFileWithRelativeCAAndToken() throws {
        try withTemporaryDirectory { dir in
            try writeFile("\(dir)/kube/certs/ca.crt", caPEM)
            try writeFile("\(dir)/kube/config", kubeconfig(
                current: "dev",
                clusters: [("c1", "    server: https://10.1.2.3:6443/\n    certificate-authority: certs/ca.crt\n    tls-server-name: api.internal\n")],
                contexts: [("dev", "c1", "u1", "apps")],
                users: [("u1", "    token: \"12345\"\n")]))
            let endpoint = try KubeEndpoint.resolve(
                .init(kubeconfigPath: "\(dir)/kube/config"), environment: Environment(["HOME": dir]), logger: testLogger)
            #expect(endpoint.server == "https://10.1.2.3:6443")
            #expect(endpoint.namespace == "apps")
            #expect(endpoint.defaultNamespace == "apps")
            #expect(endpoint.tlsServerName == "api.internal")
            #expect(endpoint.certificateAuthority == .file("\(dir)/kube/certs/ca.crt"))
            #expect(endpoint.auth.token == "12345")
            #expect(endpoint.source == .kubeconfig(files: ["\(dir)/kube/config"], context: "dev"))
            #expect(!endpoint.description.contains("12345"))
        }
    }

    @Test func inlineDataClientCertificateAndInsecure() throws {
        try withTemporaryDirectory { dir in
            let certData = Data("CERT".utf8).base64EncodedString()
            let keyData = Data("KEY".utf8).base64EncodedString()
            try writeFile("\(dir)/config", kubeconfig(
                current: "x",
                clusters: [("c", "    server: https://k.example:443\n    certificate-authority-data: \(caData)\n    insecure-skip-tls-verify: true\n")],
                contexts: [("x", "c", "u", nil)],
                users: [("u", "    client-certificate-data: \(certData)\n    client-key-data: \(keyData)\n    tokenFile: tok\n")]))
            let endpoint = try KubeEndpoint.resolve(
                .init(kubeconfigPath: "\(dir)/config"), environment: Environment([:]), logger: testLogger)
            #expect(endpoint.certificateAuthority == .data(Array(caPEM.utf8)))
            #expect(endpoint.insecureSkipTLSVerify)
            #expect(endpoint.auth.clientCertificate == .data(Array("CERT".utf8)))
            #expect(endpoint.auth.clientKey == .data(Array("KEY".utf8)))
            #expect(endpoint.auth.tokenFile == "\(dir)/tok")
            #expect(endpoint.namespace == nil)
            #expect(endpoint.defaultNamespace == "default")
        }
    }

    @Test func kubeconfigListMergesFirstWins() throws {
        try withTemporaryDirectory { dir in
            // The first file sets no current-context but defines cluster "shared" and user "u".
            try writeFile("\(dir)/a/config", kubeconfig(
                current: nil,
                clusters: [("shared", "    server: https://first:6443\n")],
                contexts: [("ctx-a", "shared", "u", "from-a")],
                users: [("u", "    token: token-a\n")]))
            try writeFile("\(dir)/b/config", kubeconfig(
                current: "ctx-b",
                clusters: [("shared", "    server: https://second:6443\n")],
                contexts: [("ctx-b", "shared", "u", "from-b"), ("ctx-a", "shared", "u", "shadowed")],
                users: [("u", "    token: token-b\n")]))
            let env = Environment(["HOME": dir, "KUBECONFIG": "\(dir)/a/config:\(dir)/missing:\(dir)/b/config"])
            let endpoint = try KubeEndpoint.resolve(.init(), environment: env, logger: testLogger)
            #expect(endpoint.source == .kubeconfig(files: ["\(dir)/a/config", "\(dir)/b/config"], context: "ctx-b"))
            #expect(endpoint.server == "https://first:6443")
            #expect(endpoint.auth.token == "token-a")
            #expect(endpoint.namespace == "from-b")

            let other = try KubeEndpoint.resolve(.init(context: "ctx-a"), environment: env, logger: testLogger)
            #expect(other.namespace == "from-a")
        }
    }

    @Test func pathPrecedence() throws {
        try withTemporaryDirectory { dir in
            for name in ["explicit", "env", "home"] {
                try writeFile("\(dir)/\(name)", kubeconfig(
                    current: "c", clusters: [("c", "    server: https://\(name):6443\n")],
                    contexts: [("c", "c", "u", nil)], users: [("u", "    token: t\n")]))
            }
            try writeFile("\(dir)/.kube/config", String(decoding: try FileIO.read("\(dir)/home"), as: UTF8.self))
            let env = Environment(["HOME": dir, "KUBECONFIG": "\(dir)/env"])
            #expect(try KubeEndpoint.resolve(.init(kubeconfigPath: "\(dir)/explicit"), environment: env, logger: testLogger).server == "https://explicit:6443")
            #expect(try KubeEndpoint.resolve(.init(), environment: env, logger: testLogger).server == "https://env:6443")
            #expect(try KubeEndpoint.resolve(.init(), environment: Environment(["HOME": dir]), logger: testLogger).server == "https://home:6443")
            // `~` in cluster.kubeconfig uses the Environment's HOME.
            #expect(try KubeEndpoint.resolve(.init(kubeconfigPath: "~/explicit"), environment: env, logger: testLogger).server == "https://explicit:6443")
        }
    }

    @Test func missingContextNamesTheFile() throws {
        try withTemporaryDirectory { dir in
            let path = "\(dir)/config"
            try writeFile(path, kubeconfig(
                current: "gone", clusters: [("c", "    server: https://x:6443\n")],
                contexts: [("present", "c", "u", nil), ("no-cluster", "missing-cluster", "u", nil), ("no-user", "c", "ghost", nil)],
                users: [("u", "    token: t\n")]))
            let env = Environment(["HOME": dir])
            let missing = drError { _ = try KubeEndpoint.resolve(.init(kubeconfigPath: path), environment: env, logger: testLogger) }
            #expect(missing?.code == .config)
            #expect(missing?.message.contains(path) == true)
            #expect(missing?.message.contains("\"gone\"") == true)
            #expect(missing?.hint?.contains("present") == true)

            let override = drError { _ = try KubeEndpoint.resolve(.init(kubeconfigPath: path, context: "nope"), environment: env, logger: testLogger) }
            #expect(override?.code == .config)
            #expect(override?.message.contains("\"nope\" (cluster.context)") == true)

            let cluster = drError { _ = try KubeEndpoint.resolve(.init(kubeconfigPath: path, context: "no-cluster"), environment: env, logger: testLogger) }
            #expect(cluster?.code == .config)
            #expect(cluster?.message.contains("cluster \"missing-cluster\"") == true)
            #expect(cluster?.message.contains(path) == true)

            let user = drError { _ = try KubeEndpoint.resolve(.init(kubeconfigPath: path, context: "no-user"), environment: env, logger: testLogger) }
            #expect(user?.code == .config)
            #expect(user?.message.contains("user \"ghost\"") == true)
        }
    }

    @Test func badKubeconfigs() throws {
        try withTemporaryDirectory { dir in
            let env = Environment(["HOME": dir])
            let absent = drError { _ = try KubeEndpoint.resolve(.init(kubeconfigPath: "\(dir)/absent"), environment: env, logger: testLogger) }
            #expect(absent?.code == .config)
            #expect(absent?.message.contains("\(dir)/absent") == true)

            try writeFile("\(dir)/bad-yaml", "clusters: [\n  - {")
            let yaml = drError { _ = try KubeEndpoint.resolve(.init(kubeconfigPath: "\(dir)/bad-yaml"), environment: env, logger: testLogger) }
            #expect(yaml?.code == .config)
            #expect(yaml?.message.contains("\(dir)/bad-yaml") == true)

            try writeFile("\(dir)/missing-ca", kubeconfig(
                current: "c", clusters: [("c", "    server: https://x:6443\n    certificate-authority: nope/ca.crt\n")],
                contexts: [("c", "c", "u", nil)], users: [("u", "    token: t\n")]))
            let ca = drError { _ = try KubeEndpoint.resolve(.init(kubeconfigPath: "\(dir)/missing-ca"), environment: env, logger: testLogger) }
            #expect(ca?.code == .config)
            #expect(ca?.message.contains("\(dir)/nope/ca.crt") == true)

            try writeFile("\(dir)/no-current", kubeconfig(
                current: nil, clusters: [("c", "    server: https://x:6443\n")],
                contexts: [("c", "c", "u", nil)], users: [("u", "    token: t\n")]))
            let current = drError { _ = try KubeEndpoint.resolve(.init(kubeconfigPath: "\(dir)/no-current"), environment: env, logger: testLogger) }
            #expect(current?.code == .config)
            #expect(current?.message.contains("current-context") == true)

            // No kubeconfig anywhere and not in a pod.
            let none = drError { _ = try KubeEndpoint.resolve(.init(), environment: env, logger: testLogger) }
            #expect(none?.code == .config)
            #expect(none?.message.contains("\(dir)/.kube/config") == true)
        }
    }

    @Test func inClusterWithInjectedServiceAccount() throws {
        try withTemporaryDirectory { dir in
            let sa = "\(dir)/sa"
            try writeFile("\(sa)/token", "sa-token\n")
            try writeFile("\(sa)/ca.crt", caPEM)
            try writeFile("\(sa)/namespace", "drctl-system\n")
            var env = Environment(["HOME": "\(dir)/home", "KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"])
            let endpoint = try KubeEndpoint.resolve(.init(), environment: env, logger: testLogger, serviceAccountDirectory: sa)
            #expect(endpoint.server == "https://10.96.0.1:443")
            #expect(endpoint.namespace == "drctl-system")
            #expect(endpoint.certificateAuthority == .file("\(sa)/ca.crt"))
            #expect(endpoint.auth.tokenFile == "\(sa)/token")
            #expect(endpoint.source == .inCluster(serviceAccountDirectory: sa))

            env["KUBERNETES_SERVICE_HOST"] = "fd00::1"
            let v6 = try KubeEndpoint.resolve(.init(), environment: env, logger: testLogger, serviceAccountDirectory: sa)
            #expect(v6.server == "https://[fd00::1]:443")

            // A context asked for but no kubeconfig: refuse to silently use the pod's cluster.
            let context = drError { _ = try KubeEndpoint.resolve(.init(context: "prod"), environment: env, logger: testLogger, serviceAccountDirectory: sa) }
            #expect(context?.code == .config)

            // The token is read again on every request.
            let provider = KubeCredentialProvider(endpoint: endpoint, logger: testLogger)
            #expect(try provider.current().bearerToken == "sa-token")
            try writeFile("\(sa)/token", "rotated")
            #expect(try provider.current().bearerToken == "rotated")
        }
    }

    @Test func pathsAndQueries() {
        #expect(KubePaths.encodeQuery("app=web,tier!=db") == "app%3Dweb%2Ctier%21%3Ddb")
        #expect(KubePaths.encodeQuery("a b+c/d&e~f_g.h-i") == "a%20b%2Bc%2Fd%26e~f_g.h-i")
        #expect(KubePaths.encodeQuery("é") == "%C3%A9")
        #expect(KubePaths.query([("labelSelector", "app in (a,b)"), ("limit", "500")]) == "labelSelector=app%20in%20%28a%2Cb%29&limit=500")
        let deployments = KubeClient.Resource(group: "apps", version: "v1", name: "deployments", kind: "Deployment", namespaced: true)
        #expect(deployments.apiVersion == "apps/v1")
        #expect(KubePaths.resourcePath(deployments, namespace: "web") == "/apis/apps/v1/namespaces/web/deployments")
        #expect(KubePaths.resourcePath(deployments, namespace: nil) == "/apis/apps/v1/deployments")
        #expect(KubePaths.resourcePath(deployments, namespace: "web", name: "a/b") == "/apis/apps/v1/namespaces/web/deployments/a%2Fb")
        let namespaces = KubeClient.Resource(group: "", version: "v1", name: "namespaces", kind: "Namespace", namespaced: false)
        #expect(namespaces.apiVersion == "v1")
        #expect(KubePaths.resourcePath(namespaces, namespace: "ignored", name: "web") == "/api/v1/namespaces/web")
        #expect(KubePaths.groupVersionPath(apiVersion: "v1") == "/api/v1")
        #expect(KubePaths.groupVersionPath(apiVersion: "argoproj.io/v1alpha1") == "/apis/argoproj.io/v1alpha1")
    }

    @Test func discoveryListParsing() throws {
        let body = try JSONValue.parse(json: Data("""
        {"kind":"APIResourceList","groupVersion":"apps/v1","resources":[
          {"name":"deployments","kind":"Deployment","namespaced":true,"verbs":["list","get"]},
          {"name":"deployments/status","kind":"Deployment","namespaced":true,"verbs":["get"]},
          {"name":"deployments/scale","group":"autoscaling","version":"v1","kind":"Scale","namespaced":true}
        ]}
        """.utf8))
        let resources = KubeClient.parseResourceList(body, groupVersion: "apps/v1")
        #expect(resources == [KubeClient.Resource(group: "apps", version: "v1", name: "deployments", kind: "Deployment", namespaced: true)])
        #expect(resources.first?.verbs == ["list", "get"])
    }

    @Test func retryAfterAndBackoff() throws {
        #expect(KubeClient.retryAfter("3") == .seconds(3))
        #expect(KubeClient.retryAfter(nil) == nil)
        #expect(KubeClient.retryAfter("soon") == nil)
        let future = Date().addingTimeInterval(5)
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        let delay = try #require(KubeClient.retryAfter(formatter.string(from: future)))
        #expect(delay > .seconds(3) && delay <= .seconds(5))

        let endpoint = KubeEndpoint(
            server: "https://127.0.0.1:1", source: .inCluster(serviceAccountDirectory: "/x"), namespace: nil,
            insecureSkipTLSVerify: false, tlsServerName: nil, certificateAuthority: nil, proxyURL: nil,
            auth: KubeAuth(), environment: Environment([:]))
        var options = KubeClient.Options()
        options.initialBackoff = .milliseconds(100)
        options.maxBackoff = .milliseconds(1000)
        let client = try KubeClient(endpoint: endpoint, logger: testLogger, options: options)
        for attempt in 0..<8 {
            let full = min(Duration.milliseconds(100) * (1 << attempt), .milliseconds(1000))
            let value = client.backoff(attempt)
            #expect(value >= full / 2 && value <= full)
        }
    }

    @Test func statusMessagesInErrors() throws {
        let endpoint = KubeEndpoint(
            server: "https://127.0.0.1:1", source: .inCluster(serviceAccountDirectory: "/x"), namespace: nil,
            insecureSkipTLSVerify: false, tlsServerName: nil, certificateAuthority: nil, proxyURL: nil,
            auth: KubeAuth(), environment: Environment([:]))
        let client = try KubeClient(endpoint: endpoint, logger: testLogger)
        let request = KubeHTTPRequest(method: "POST", path: "/api/v1/namespaces/a/configmaps")
        let status = #"{"kind":"Status","status":"Failure","message":"configmaps \"x\" already exists","reason":"AlreadyExists","code":409}"#
        let error = client.apiError(KubeHTTPResponse(status: 409, headers: [:], body: Array(status.utf8)), request)
        #expect(error.code == .refused)
        #expect(error.message == #"POST /api/v1/namespaces/a/configmaps: configmaps "x" already exists"#)
        #expect(error.kubeStatus?.reason == "AlreadyExists")

        let html = client.apiError(KubeHTTPResponse(status: 503, headers: [:], body: Array("<html>down</html>".utf8)), request)
        #expect(html.code == .unreachable)
        #expect(html.message.contains("503 Service Unavailable"))
        #expect(html.message.contains("down"))
        var secret = request
        secret.sensitive = true
        let hidden = client.apiError(KubeHTTPResponse(status: 500, headers: [:], body: Array("data: c2VjcmV0".utf8)), secret)
        #expect(!hidden.description.contains("c2VjcmV0"))
    }
}
