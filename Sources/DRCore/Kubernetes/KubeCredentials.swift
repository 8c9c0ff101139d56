import Foundation
import Logging

/// What one request authenticates with. Holds secrets: never log it.
struct KubeRequestCredentials: Sendable {
    var bearerToken: String?
    var clientCertificate: KubePEM?
    var clientKey: KubePEM?
    var basicAuth: (user: String, password: String)?
    /// Which cached credential this is, so a 401 invalidates only what it used.
    var generation: Int = 0
}

/// Credentials returned by an exec plugin.
struct KubeExecCredential: Sendable {
    var token: String?
    var clientCertificate: [UInt8]?
    var clientKey: [UInt8]?
    var expiry: Date?
}

/// Hands out the current credentials of an endpoint: re-reads token files on every request,
/// runs exec plugins and caches their result until it expires or the server answers 401.
final class KubeCredentialProvider: @unchecked Sendable {
    private let endpoint: KubeEndpoint
    private let logger: Logger
    /// Guards `cached` and `generation`; held while an exec plugin runs, so concurrent
    /// requests wait for one run instead of starting several.
    private let lock = NSLock()
    private var cached: KubeExecCredential?
    private var generation = 0
    /// How long before `expirationTimestamp` a cached exec credential is renewed.
    private let expirySkew: TimeInterval = 10

    init(endpoint: KubeEndpoint, logger: Logger) {
        self.endpoint = endpoint
        self.logger = logger
    }

    /// True when a 401 may be cured by fetching credentials again (exec plugin, token file).
    var canRefresh: Bool { endpoint.auth.exec != nil || endpoint.auth.tokenFile != nil }

    /// The credentials for the next request.
    func current() throws -> KubeRequestCredentials {
        let auth = endpoint.auth
        var result = KubeRequestCredentials()
        result.clientCertificate = auth.clientCertificate
        result.clientKey = auth.clientKey
        if let username = auth.username {
            result.basicAuth = (username, auth.password ?? "")
        }
        result.bearerToken = auth.token
        if let tokenFile = auth.tokenFile {
            result.bearerToken = try readToken(tokenFile)
        }
        if let exec = auth.exec {
            let (credential, generation) = try execCredential(exec)
            result.generation = generation
            if let token = credential.token { result.bearerToken = token }
            if let certificate = credential.clientCertificate, let key = credential.clientKey {
                result.clientCertificate = .data(certificate)
                result.clientKey = .data(key)
            }
        }
        return result
    }

    /// Forgets the exec credential of `generation` after the server rejected it.
    func invalidate(generation used: Int) {
        lock.lock()
        defer { lock.unlock() }
        if used == generation { cached = nil }
    }

    private func readToken(_ path: String) throws -> String {
        do {
            let text = String(decoding: try FileIO.read(path), as: UTF8.self)
            return text.trimmingCharacters(in: .whitespacesAndNewlines)
        } catch {
            throw DRError(.config, "cannot read the bearer token file \(path)", cause: error)
        }
    }

    private func execCredential(_ exec: KubeExecConfig) throws -> (KubeExecCredential, Int) {
        lock.lock()
        defer { lock.unlock() }
        if let cached, cached.expiry.map({ $0.timeIntervalSinceNow > expirySkew }) ?? true {
            return (cached, generation)
        }
        let credential = try KubeExecPlugin.run(exec, endpoint: endpoint, logger: logger)
        cached = credential
        generation += 1
        return (credential, generation)
    }
}

/// Runs `client.authentication.k8s.io` exec credential plugins.
enum KubeExecPlugin {
    /// How long a plugin may run.
    static let timeout: Duration = .seconds(60)

    /// Runs the plugin once and returns its credentials.
    static func run(_ exec: KubeExecConfig, endpoint: KubeEndpoint, logger: Logger) throws -> KubeExecCredential {
        let what = "exec credential plugin `\(exec.command)` (kubeconfig \(exec.file), user \"\(exec.userName)\")"
        if exec.interactiveMode == "Always" {
            throw DRError(
                .config, "\(what) needs an interactive terminal (interactiveMode: Always); drctl runs unattended",
                hint: "use a plugin mode or credential that works without a terminal")
        }
        guard let executable = exec.environment.which(exec.command) else {
            throw DRError(
                .missingTool, "\(what) is not installed or not on PATH",
                hint: exec.installHint?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "install the plugin or fix PATH")
        }
        var environment = exec.environment
        for variable in exec.env { environment[variable.name] = variable.value }
        environment["KUBERNETES_EXEC_INFO"] = try execInfo(exec, endpoint: endpoint)

        var command = Command(executable, exec.args, environment: environment)
        command.timeout = timeout
        command.output = .capture(limit: 1 << 20)
        let started = ContinuousClock.now
        let result = try command.run()
        if result.timedOut {
            throw DRError(.failed, "\(what) did not finish within \(timeout)")
        }
        guard result.succeeded else {
            let tail = String(result.stderr.trimmingCharacters(in: .whitespacesAndNewlines).suffix(400))
            throw DRError(
                .failed, "\(what) exited with status \(result.status)",
                hint: tail.isEmpty ? nil : "it said: \(tail)")
        }
        logger.debug("exec credential plugin ran", metadata: [
            "command": "\(exec.command)", "duration": "\(ContinuousClock.now - started)",
        ])
        return try parse(result.stdout, exec: exec, what: what)
    }

    /// The `KUBERNETES_EXEC_INFO` document: the request, non-interactive, with the cluster when asked.
    static func execInfo(_ exec: KubeExecConfig, endpoint: KubeEndpoint) throws -> String {
        var spec: [String: JSONValue] = ["interactive": .bool(false)]
        if exec.provideClusterInfo {
            var cluster: [String: JSONValue] = ["server": .string(endpoint.server)]
            if let name = endpoint.tlsServerName { cluster["tls-server-name"] = .string(name) }
            if endpoint.insecureSkipTLSVerify { cluster["insecure-skip-tls-verify"] = .bool(true) }
            if let proxy = endpoint.proxyURL { cluster["proxy-url"] = .string(proxy) }
            switch endpoint.certificateAuthority {
            case .data(let bytes):
                cluster["certificate-authority-data"] = .string(Data(bytes).base64EncodedString())
            case .file(let path):
                if let bytes = try? FileIO.read(path) {
                    cluster["certificate-authority-data"] = .string(Data(bytes).base64EncodedString())
                }
            case nil:
                break
            }
            if let config = exec.clusterConfig { cluster["config"] = config }
            spec["cluster"] = .object(cluster)
        }
        let info: JSONValue = .object([
            "apiVersion": .string(exec.apiVersion),
            "kind": .string("ExecCredential"),
            "spec": .object(spec),
        ])
        return String(decoding: try info.jsonData(), as: UTF8.self)
    }

    static func parse(_ output: [UInt8], exec: KubeExecConfig, what: String) throws -> KubeExecCredential {
        guard let document = try? JSONValue.parse(json: Data(output)), case .object = document else {
            throw DRError(.failed, "\(what) did not print an ExecCredential JSON document")
        }
        guard document["kind"]?.stringValue == "ExecCredential" else {
            throw DRError(.failed, "\(what) printed a document of kind \(document["kind"]?.stringValue ?? "(none)"), not ExecCredential")
        }
        if let version = document["apiVersion"]?.stringValue, version != exec.apiVersion {
            throw DRError(.failed, "\(what) answered with apiVersion \(version), but the kubeconfig asks for \(exec.apiVersion)")
        }
        guard let status = document["status"] else {
            throw DRError(.failed, "\(what) printed an ExecCredential without `status`")
        }
        var credential = KubeExecCredential()
        credential.token = status["token"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
        let certificate = status["clientCertificateData"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
        let key = status["clientKeyData"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
        if (certificate == nil) != (key == nil) {
            throw DRError(.failed, "\(what) returned a client certificate without a key, or a key without a certificate")
        }
        credential.clientCertificate = certificate.map { Array($0.utf8) }
        credential.clientKey = key.map { Array($0.utf8) }
        guard credential.token != nil || credential.clientCertificate != nil else {
            throw DRError(.failed, "\(what) returned neither a token nor a client certificate")
        }
        if let timestamp = status["expirationTimestamp"]?.stringValue {
            guard let date = parseTimestamp(timestamp) else {
                throw DRError(.failed, "\(what) returned an unreadable expirationTimestamp \"\(timestamp)\"")
            }
            credential.expiry = date
        }
        return credential
    }

    /// An RFC 3339 timestamp, with or without fractional seconds.
    static func parseTimestamp(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
    }
}
