@testable import DRCore
import Foundation
import Testing
import TestSupport

@Suite struct KubeExecPluginTests {
    /// A kubeconfig whose user runs `plugin` (a shell script in the same folder) with args and env.
    private func writeExecConfig(dir: String, apiVersion: String, provideClusterInfo: Bool, command: String = "./bin/plugin") throws -> String {
        let path = "\(dir)/config"
        try writeFile(path, """
        apiVersion: v1
        kind: Config
        current-context: c
        clusters:
        - name: c
          cluster:
            server: https://127.0.0.1:6443
            certificate-authority-data: \(Data("CA PEM".utf8).base64EncodedString())
            extensions:
            - name: client.authentication.k8s.io/exec
              extension:
                audience: drctl
        contexts:
        - name: c
          context: {cluster: c, user: u}
        users:
        - name: u
          user:
            exec:
              apiVersion: \(apiVersion)
              command: \(command)
              args: ["--flag", "value with space"]
              env:
              - name: PLUGIN_SETTING
                value: from-kubeconfig
              provideClusterInfo: \(provideClusterInfo)
              interactiveMode: IfAvailable
              installHint: install the fake plugin
        """)
        return path
    }

    /// A plugin that records its input and prints a token credential.
    private func writePlugin(dir: String, status: String) throws {
        try writeFile("\(dir)/bin/plugin", """
        #!/bin/sh
        echo run >> "\(dir)/runs"
        printf '%s' "$KUBERNETES_EXEC_INFO" > "\(dir)/exec-info.json"
        printf '%s\\n' "$@" > "\(dir)/args"
        printf '%s' "$PLUGIN_SETTING" > "\(dir)/setting"
        printf '%s' "$HOME" > "\(dir)/home"
        cat <<JSON
        {"apiVersion": "$(printf '%s' "$KUBERNETES_EXEC_INFO" | sed 's/.*"apiVersion":"\\([^"]*\\)".*/\\1/')", "kind": "ExecCredential", "status": \(status)}
        JSON
        """, mode: 0o755)
    }

    private func runs(_ dir: String) -> Int {
        ((try? String(contentsOfFile: "\(dir)/runs", encoding: .utf8)) ?? "").split(separator: "\n").count
    }

    @Test(arguments: ["client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"])
    func tokenPluginReceivesExecInfoAndIsCached(apiVersion: String) throws {
        try withTemporaryDirectory { dir in
            try writePlugin(dir: dir, status: #"{"token": "exec-token-1", "expirationTimestamp": "2999-01-01T00:00:00Z"}"#)
            let config = try writeExecConfig(dir: dir, apiVersion: apiVersion, provideClusterInfo: true)
            let env = Environment(["HOME": dir, "PATH": "/usr/bin:/bin"])
            let endpoint = try KubeEndpoint.resolve(.init(kubeconfigPath: config), environment: env, logger: testLogger)
            let provider = KubeCredentialProvider(endpoint: endpoint, logger: testLogger)
            let first = try provider.current()
            #expect(first.bearerToken == "exec-token-1")
            #expect(runs(dir) == 1)

            let info = try JSONValue.parse(json: Data(FileIO.read("\(dir)/exec-info.json")))
            #expect(info["kind"]?.stringValue == "ExecCredential")
            #expect(info["apiVersion"]?.stringValue == apiVersion)
            #expect(info[path: ["spec", "interactive"]] == .bool(false))
            #expect(info[path: ["spec", "cluster", "server"]]?.stringValue == "https://127.0.0.1:6443")
            #expect(info[path: ["spec", "cluster", "certificate-authority-data"]]?.stringValue == Data("CA PEM".utf8).base64EncodedString())
            #expect(info[path: ["spec", "cluster", "config", "audience"]]?.stringValue == "drctl")
            #expect(try String(contentsOfFile: "\(dir)/args", encoding: .utf8) == "--flag\nvalue with space\n")
            #expect(try String(contentsOfFile: "\(dir)/setting", encoding: .utf8) == "from-kubeconfig")
            #expect(try String(contentsOfFile: "\(dir)/home", encoding: .utf8) == dir)

            // Cached until it expires; a 401 (invalidate) runs the plugin again.
            #expect(try provider.current().bearerToken == "exec-token-1")
            #expect(runs(dir) == 1)
            provider.invalidate(generation: first.generation)
            #expect(try provider.current().bearerToken == "exec-token-1")
            #expect(runs(dir) == 2)
            // A stale generation does not throw away the newer credential.
            provider.invalidate(generation: first.generation)
            _ = try provider.current()
            #expect(runs(dir) == 2)
        }
    }

    @Test func noClusterInfoUnlessAskedAndExpiredIsRerun() throws {
        try withTemporaryDirectory { dir in
            try writePlugin(dir: dir, status: #"{"token": "short", "expirationTimestamp": "2000-01-01T00:00:00.5Z"}"#)
            let config = try writeExecConfig(dir: dir, apiVersion: "client.authentication.k8s.io/v1", provideClusterInfo: false)
            let endpoint = try KubeEndpoint.resolve(
                .init(kubeconfigPath: config), environment: Environment(["PATH": "/usr/bin:/bin"]), logger: testLogger)
            let provider = KubeCredentialProvider(endpoint: endpoint, logger: testLogger)
            #expect(try provider.current().bearerToken == "short")
            #expect(try provider.current().bearerToken == "short")
            #expect(runs(dir) == 2)
            let info = try JSONValue.parse(json: Data(FileIO.read("\(dir)/exec-info.json")))
            #expect(info[path: ["spec", "cluster"]] == nil)
            #expect(info[path: ["spec", "interactive"]] == .bool(false))
        }
    }

    @Test func clientCertificateFromPlugin() throws {
        try withTemporaryDirectory { dir in
            try writePlugin(dir: dir, status: #"{"clientCertificateData": "CERT PEM", "clientKeyData": "KEY PEM"}"#)
            let config = try writeExecConfig(dir: dir, apiVersion: "client.authentication.k8s.io/v1", provideClusterInfo: false)
            let endpoint = try KubeEndpoint.resolve(
                .init(kubeconfigPath: config), environment: Environment(["PATH": "/usr/bin:/bin"]), logger: testLogger)
            let credentials = try KubeCredentialProvider(endpoint: endpoint, logger: testLogger).current()
            #expect(credentials.bearerToken == nil)
            #expect(credentials.clientCertificate == .data(Array("CERT PEM".utf8)))
            #expect(credentials.clientKey == .data(Array("KEY PEM".utf8)))
        }
    }

    @Test func missingPluginIsMissingTool() throws {
        try withTemporaryDirectory { dir in
            let config = try writeExecConfig(
                dir: dir, apiVersion: "client.authentication.k8s.io/v1", provideClusterInfo: false, command: "drctl-no-such-plugin")
            let endpoint = try KubeEndpoint.resolve(
                .init(kubeconfigPath: config), environment: Environment(["PATH": "\(dir)/empty"]), logger: testLogger)
            let error = drError { _ = try KubeCredentialProvider(endpoint: endpoint, logger: testLogger).current() }
            #expect(error?.code == .missingTool)
            #expect(error?.message.contains("drctl-no-such-plugin") == true)
            #expect(error?.hint == "install the fake plugin")
        }
    }

    @Test func failingPluginAndBadOutput() throws {
        try withTemporaryDirectory { dir in
            let config = try writeExecConfig(dir: dir, apiVersion: "client.authentication.k8s.io/v1", provideClusterInfo: false)
            let endpoint = try KubeEndpoint.resolve(
                .init(kubeconfigPath: config), environment: Environment(["PATH": "/usr/bin:/bin"]), logger: testLogger)
            try writeFile("\(dir)/bin/plugin", "#!/bin/sh\necho 'login expired' >&2\nexit 3\n", mode: 0o755)
            let failed = drError { _ = try KubeCredentialProvider(endpoint: endpoint, logger: testLogger).current() }
            #expect(failed?.code == .failed)
            #expect(failed?.message.contains("status 3") == true)
            #expect(failed?.hint?.contains("login expired") == true)

            try writeFile("\(dir)/bin/plugin", "#!/bin/sh\necho not json\n", mode: 0o755)
            let garbage = drError { _ = try KubeCredentialProvider(endpoint: endpoint, logger: testLogger).current() }
            #expect(garbage?.code == .failed)

            try writeFile("\(dir)/bin/plugin", """
            #!/bin/sh
            echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{}}'
            """, mode: 0o755)
            let empty = drError { _ = try KubeCredentialProvider(endpoint: endpoint, logger: testLogger).current() }
            #expect(empty?.message.contains("neither a token nor a client certificate") == true)
        }
    }
}
