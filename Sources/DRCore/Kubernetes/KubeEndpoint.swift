import Foundation
public import Logging

/// What drctl.yaml's `cluster:` block says (both optional).
public struct KubeConnectionSettings: Sendable, Equatable {
    /// A kubeconfig file to use instead of `KUBECONFIG` and `~/.kube/config`.
    public var kubeconfigPath: String?
    /// A context to use instead of the kubeconfig's `current-context`.
    public var context: String?

    /// Settings from drctl.yaml; a relative `kubeconfigPath` is taken from the current directory.
    public init(kubeconfigPath: String? = nil, context: String? = nil) {
        self.kubeconfigPath = kubeconfigPath
        self.context = context
    }
}

/// PEM text given inline (from a `*-data` field or an exec plugin) or as a file path.
enum KubePEM: Sendable, Equatable {
    case data([UInt8])
    case file(String)
}

/// An exec credential plugin from a kubeconfig `user.exec` block.
struct KubeExecConfig: Sendable {
    struct Variable: Sendable, Equatable {
        var name: String
        var value: String
    }

    /// `client.authentication.k8s.io/v1` or `/v1beta1`.
    var apiVersion: String
    /// As written in the kubeconfig: a bare name looked up on PATH, or a path.
    var command: String
    var args: [String]
    var env: [Variable]
    var provideClusterInfo: Bool
    var interactiveMode: String?
    var installHint: String?
    /// `cluster.extensions[client.authentication.k8s.io/exec]`, passed as `spec.cluster.config`.
    var clusterConfig: JSONValue?
    /// The kubeconfig that defined the user, for messages.
    var file: String
    var userName: String
    /// The environment the plugin starts with (plus `env`).
    var environment: Environment
}

/// How requests authenticate: resolved from a kubeconfig user or the service account.
struct KubeAuth: Sendable {
    var token: String?
    /// Read again on every request (the kubelet rotates service-account tokens).
    var tokenFile: String?
    var clientCertificate: KubePEM?
    var clientKey: KubePEM?
    var username: String?
    var password: String?
    var exec: KubeExecConfig?
    var impersonateUser: String?
    var impersonateUID: String?
    var impersonateGroups: [String] = []

    /// A description with no secret in it (`bearer token file /x`, `exec plugin aws`).
    var summary: String {
        var parts: [String] = []
        if let exec { parts.append("exec plugin \(exec.command)") }
        if let tokenFile { parts.append("token file \(tokenFile)") } else if token != nil { parts.append("bearer token") }
        if clientCertificate != nil { parts.append("client certificate") }
        if username != nil { parts.append("basic auth") }
        return parts.isEmpty ? "anonymous" : parts.joined(separator: " + ")
    }
}

/// A resolved endpoint: server URL, TLS material, credentials.
///
/// Its `description` names the server, the context and the kind of credentials, never a
/// secret.
public struct KubeEndpoint: Sendable, CustomStringConvertible {
    /// Where the endpoint came from.
    public enum Source: Sendable, Equatable {
        /// The kubeconfig files read (in precedence order) and the context used.
        case kubeconfig(files: [String], context: String)
        /// The pod's service account folder (`/var/run/secrets/kubernetes.io/serviceaccount`).
        case inCluster(serviceAccountDirectory: String)
    }

    /// The API server's base URL, without a trailing slash (`https://10.0.0.1:6443`).
    public var server: String
    /// The kubeconfig files and context, or the service-account folder, it was resolved from.
    public var source: Source
    /// The context's namespace, or the pod's namespace in-cluster; nil when neither says.
    public var namespace: String?
    /// The kubeconfig's `insecure-skip-tls-verify`: the server certificate is not checked.
    public var insecureSkipTLSVerify: Bool
    /// The name to verify the server certificate against instead of the URL's host.
    public var tlsServerName: String?
    var certificateAuthority: KubePEM?
    var proxyURL: String?
    var auth: KubeAuth
    /// Proxy variables (`HTTPS_PROXY`, `NO_PROXY`) are read from here, never from the process.
    var environment: Environment

    /// The service-account folder of a pod.
    public static let serviceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount"

    /// The namespace used for namespaced objects that name none: the context's or pod's, else `default`.
    public var defaultNamespace: String { namespace.flatMap { $0.isEmpty ? nil : $0 } ?? "default" }

    /// The server, context and kind of credentials; never a secret.
    public var description: String {
        switch source {
        case .kubeconfig(let files, let context):
            "\(server) (context \(context) from \(files.joined(separator: ":")), \(auth.summary))"
        case .inCluster(let dir):
            "\(server) (in-cluster, service account \(dir), \(auth.summary))"
        }
    }

    /// Resolves the cluster to talk to, as kubectl would.
    ///
    /// The kubeconfig is `settings.kubeconfigPath`, else the files in `KUBECONFIG` (merged),
    /// else `$HOME/.kube/config`. When none exists and `KUBERNETES_SERVICE_HOST` and
    /// `KUBERNETES_SERVICE_PORT` are set, the pod's service account is used. Throws a
    /// ``DRError/Code/config`` error naming the file for a missing context, cluster or user.
    public static func resolve(_ settings: KubeConnectionSettings, environment: Environment, logger: Logger) throws -> KubeEndpoint {
        try resolve(settings, environment: environment, logger: logger, serviceAccountDirectory: serviceAccountDirectory)
    }

    /// ``resolve(_:environment:logger:)`` with another service-account folder (for tests).
    package static func resolve(
        _ settings: KubeConnectionSettings, environment: Environment, logger: Logger, serviceAccountDirectory: String
    ) throws -> KubeEndpoint {
        let (paths, searched) = try kubeconfigPaths(settings, environment: environment)
        if !paths.isEmpty {
            let config = try KubeConfig.load(paths: paths)
            let endpoint = try fromKubeconfig(config, context: settings.context, environment: environment)
            logger.debug("kubernetes endpoint resolved", metadata: ["endpoint": "\(endpoint)"])
            return endpoint
        }
        if let host = environment["KUBERNETES_SERVICE_HOST"], !host.isEmpty,
           let port = environment["KUBERNETES_SERVICE_PORT"], !port.isEmpty {
            if let context = settings.context {
                throw DRError(
                    .config, "cluster.context is \(context), but no kubeconfig was found (looked at \(searched.joined(separator: ", ")))",
                    hint: "set cluster.kubeconfig, or remove cluster.context to use the pod's service account")
            }
            let endpoint = try inCluster(host: host, port: port, serviceAccountDirectory: serviceAccountDirectory, environment: environment)
            logger.debug("kubernetes endpoint resolved", metadata: ["endpoint": "\(endpoint)"])
            return endpoint
        }
        throw DRError(
            .config, "no kubeconfig found (looked at \(searched.joined(separator: ", "))) and not running inside a cluster",
            hint: "set cluster.kubeconfig in drctl.yaml or KUBECONFIG")
    }

    // MARK: - kubeconfig

    /// The kubeconfig files to merge (existing ones only) and every place looked at.
    static func kubeconfigPaths(_ settings: KubeConnectionSettings, environment: Environment) throws -> (paths: [String], searched: [String]) {
        let cwd = FileManager.default.currentDirectoryPath
        func absolute(_ path: String) throws -> String {
            do {
                return try ConfigPaths.resolve(path, relativeTo: cwd, environment: environment.variables)
            } catch {
                throw DRError(.config, "cannot resolve kubeconfig path \(path): HOME is not set")
            }
        }
        if let explicit = settings.kubeconfigPath, !explicit.isEmpty {
            let path = try absolute(explicit)
            guard FileIO.exists(path) else {
                throw DRError(.config, "kubeconfig \(path) (cluster.kubeconfig) does not exist")
            }
            return ([path], [path])
        }
        if let list = environment["KUBECONFIG"], !list.isEmpty {
            var seen = Set<String>()
            var searched: [String] = []
            for item in list.split(separator: ":", omittingEmptySubsequences: true) {
                let path = try absolute(String(item))
                if seen.insert(path).inserted { searched.append(path) }
            }
            return (searched.filter(FileIO.exists), searched.map { "\($0) (KUBECONFIG)" })
        }
        guard let home = environment["HOME"], !home.isEmpty else { return ([], ["$HOME/.kube/config (HOME is not set)"]) }
        let path = ConfigPaths.standardize(home + "/.kube/config")
        return (FileIO.exists(path) ? [path] : [], [path])
    }

    static func fromKubeconfig(_ config: KubeConfig, context requested: String?, environment: Environment) throws -> KubeEndpoint {
        let files = config.filesDescription
        let requested = requested.flatMap { $0.isEmpty ? nil : $0 }
        guard let contextName = requested ?? config.currentContext else {
            throw DRError(
                .config, "kubeconfig \(files) sets no current-context",
                hint: "set cluster.context in drctl.yaml, or run `kubectl config use-context NAME`")
        }
        guard let context = config.contexts[contextName] else {
            let known = config.contexts.keys.sorted().joined(separator: ", ")
            let origin = requested == nil ? "current-context" : "cluster.context"
            throw DRError(
                .config, "kubeconfig \(files): context \"\(contextName)\" (\(origin)) is not defined",
                hint: known.isEmpty ? "the file defines no contexts" : "defined contexts: \(known)")
        }
        guard let clusterName = context.value["cluster"]?.kubeScalar, !clusterName.isEmpty else {
            throw DRError(.config, "kubeconfig \(context.file): context \"\(contextName)\" names no cluster")
        }
        guard let cluster = config.clusters[clusterName] else {
            throw DRError(
                .config, "kubeconfig \(context.file): context \"\(contextName)\" refers to cluster \"\(clusterName)\", which is not defined in \(files)")
        }
        var auth = KubeAuth()
        let userName = context.value["user"]?.kubeScalar ?? ""
        var userEntry: KubeConfig.Entry?
        if !userName.isEmpty {
            guard let user = config.users[userName] else {
                throw DRError(
                    .config, "kubeconfig \(context.file): context \"\(contextName)\" refers to user \"\(userName)\", which is not defined in \(files)")
            }
            userEntry = user
        }

        let clusterWhere = "kubeconfig \(cluster.file): cluster \"\(clusterName)\""
        guard let rawServer = cluster.value["server"]?.kubeScalar, !rawServer.isEmpty else {
            throw DRError(.config, "\(clusterWhere) has no `server`")
        }
        let server = try normalizedServer(rawServer, where: clusterWhere)
        var endpoint = KubeEndpoint(
            server: server, source: .kubeconfig(files: config.files, context: contextName),
            namespace: context.value["namespace"]?.kubeScalar,
            insecureSkipTLSVerify: cluster.value["insecure-skip-tls-verify"]?.kubeBool ?? false,
            tlsServerName: cluster.value["tls-server-name"]?.kubeScalar.flatMap { $0.isEmpty ? nil : $0 },
            certificateAuthority: try pem(
                cluster, data: "certificate-authority-data", file: "certificate-authority", where: clusterWhere),
            proxyURL: cluster.value["proxy-url"]?.kubeScalar.flatMap { $0.isEmpty ? nil : $0 },
            auth: auth, environment: environment)

        guard let user = userEntry else { return endpoint }
        let userWhere = "kubeconfig \(user.file): user \"\(userName)\""
        let value = user.value
        auth.token = value["token"]?.kubeScalar.flatMap { $0.isEmpty ? nil : $0 }
        if let tokenFile = value["tokenFile"]?.kubeScalar, !tokenFile.isEmpty {
            auth.tokenFile = resolve(tokenFile, against: user.file)
        }
        auth.clientCertificate = try pem(user, data: "client-certificate-data", file: "client-certificate", where: userWhere)
        auth.clientKey = try pem(user, data: "client-key-data", file: "client-key", where: userWhere)
        if (auth.clientCertificate == nil) != (auth.clientKey == nil) {
            throw DRError(.config, "\(userWhere) has a client certificate without a key, or a key without a certificate")
        }
        auth.username = value["username"]?.kubeScalar.flatMap { $0.isEmpty ? nil : $0 }
        auth.password = value["password"]?.kubeScalar
        auth.impersonateUser = value["as"]?.kubeScalar.flatMap { $0.isEmpty ? nil : $0 }
        auth.impersonateUID = value["as-uid"]?.kubeScalar.flatMap { $0.isEmpty ? nil : $0 }
        auth.impersonateGroups = value["as-groups"]?.arrayValue?.compactMap(\.kubeScalar) ?? []
        if let exec = value["exec"], exec != .null {
            auth.exec = try execConfig(exec, user: user, cluster: cluster, where: userWhere, environment: environment)
        } else if value["auth-provider"] != nil {
            throw DRError(
                .config, "\(userWhere) uses an `auth-provider`, which drctl does not support",
                hint: "use an exec credential plugin (`user.exec`), a token or a client certificate")
        }
        endpoint.auth = auth
        return endpoint
    }

    private static func execConfig(
        _ exec: JSONValue, user: KubeConfig.Entry, cluster: KubeConfig.Entry, where location: String, environment: Environment
    ) throws -> KubeExecConfig {
        guard let command = exec["command"]?.kubeScalar, !command.isEmpty else {
            throw DRError(.config, "\(location): exec has no `command`")
        }
        let apiVersion = exec["apiVersion"]?.kubeScalar ?? ""
        guard ["client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"].contains(apiVersion) else {
            throw DRError(
                .config, "\(location): exec apiVersion \"\(apiVersion)\" is not supported",
                hint: "use client.authentication.k8s.io/v1 or client.authentication.k8s.io/v1beta1")
        }
        var variables: [KubeExecConfig.Variable] = []
        for item in exec["env"]?.arrayValue ?? [] {
            guard let name = item["name"]?.kubeScalar, !name.isEmpty else {
                throw DRError(.config, "\(location): an exec env entry has no `name`")
            }
            variables.append(.init(name: name, value: item["value"]?.kubeScalar ?? ""))
        }
        // A command with a slash but not absolute is relative to the kubeconfig's folder, as in kubectl.
        let resolvedCommand = command.contains("/") ? resolve(command, against: user.file) : command
        return KubeExecConfig(
            apiVersion: apiVersion, command: resolvedCommand,
            args: exec["args"]?.arrayValue?.compactMap(\.kubeScalar) ?? [],
            env: variables,
            provideClusterInfo: exec["provideClusterInfo"]?.kubeBool ?? false,
            interactiveMode: exec["interactiveMode"]?.kubeScalar,
            installHint: exec["installHint"]?.kubeScalar,
            clusterConfig: cluster.value["extensions"]?.arrayValue?
                .first { $0["name"]?.stringValue == "client.authentication.k8s.io/exec" }?["extension"],
            file: user.file, userName: user.name, environment: environment)
    }

    /// Inline `*-data` (base64, wins) or a file path relative to the kubeconfig's folder (must exist).
    private static func pem(_ entry: KubeConfig.Entry, data dataKey: String, file fileKey: String, where location: String) throws -> KubePEM? {
        if let encoded = entry.value[dataKey]?.kubeScalar, !encoded.isEmpty {
            guard let decoded = Data(base64Encoded: encoded, options: .ignoreUnknownCharacters), !decoded.isEmpty else {
                throw DRError(.config, "\(location): `\(dataKey)` is not valid base64")
            }
            return .data(Array(decoded))
        }
        if let raw = entry.value[fileKey]?.kubeScalar, !raw.isEmpty {
            let path = resolve(raw, against: entry.file)
            guard FileIO.exists(path) else {
                throw DRError(.config, "\(location): `\(fileKey)` \(path) does not exist")
            }
            return .file(path)
        }
        return nil
    }

    /// `path` made absolute against the folder of `file` (itself absolute).
    static func resolve(_ path: String, against file: String) -> String {
        if path.hasPrefix("/") { return ConfigPaths.standardize(path) }
        return ConfigPaths.standardize(ConfigPaths.directory(of: file) + "/" + path)
    }

    /// `https://host:port[/prefix]` with no trailing slash; only http and https are accepted.
    static func normalizedServer(_ raw: String, where location: String) throws -> String {
        var server = raw
        while server.hasSuffix("/") { server.removeLast() }
        guard let url = URL(string: server), let scheme = url.scheme?.lowercased(), scheme == "https" || scheme == "http",
              let host = url.host, !host.isEmpty else {
            throw DRError(.config, "\(location): server \"\(raw)\" is not an http(s) URL")
        }
        return server
    }

    // MARK: - In-cluster

    static func inCluster(host: String, port: String, serviceAccountDirectory dir: String, environment: Environment) throws -> KubeEndpoint {
        let bracketed = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        let tokenFile = dir + "/token"
        guard FileIO.exists(tokenFile) else {
            throw DRError(
                .config, "in-cluster: KUBERNETES_SERVICE_HOST is set but the service account token \(tokenFile) does not exist",
                hint: "mount a service account token (automountServiceAccountToken) or set cluster.kubeconfig")
        }
        let caFile = dir + "/ca.crt"
        var namespace: String?
        if let bytes = try? FileIO.read(dir + "/namespace") {
            let text = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            namespace = text.isEmpty ? nil : text
        }
        var auth = KubeAuth()
        auth.tokenFile = tokenFile
        return KubeEndpoint(
            server: "https://\(bracketed):\(port)", source: .inCluster(serviceAccountDirectory: dir),
            namespace: namespace, insecureSkipTLSVerify: false, tlsServerName: nil,
            certificateAuthority: FileIO.exists(caFile) ? .file(caFile) : nil,
            proxyURL: nil, auth: auth, environment: environment)
    }
}
