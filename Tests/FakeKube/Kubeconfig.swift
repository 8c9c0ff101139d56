import DRCore
import Foundation

/// How a kubeconfig authenticates.
public enum KubeconfigCredential: Sendable {
    /// A bearer token (add it with `addToken` first).
    case token(String)
    /// A client certificate issued by the fake CA for this user (and groups).
    case clientCertificate(user: String, groups: [String] = [])
    /// Only the cluster and CA: requests are unauthenticated.
    case none
}

extension FakeKubeServer {
    /// The kubeconfig YAML for this server: CA data, one context `fakekube`, the given credential and namespace.
    public func kubeconfig(user credential: KubeconfigCredential, namespace: String? = nil) throws -> String {
        var user: [String: JSONValue] = [:]
        switch credential {
        case .token(let token):
            user["token"] = .string(token)
        case .clientCertificate(let name, let groups):
            let issued = try issueClientCertificate(user: name, groups: groups)
            user["client-certificate-data"] = .string(Data(issued.certificatePEM.utf8).base64EncodedString())
            user["client-key-data"] = .string(Data(issued.privateKeyPEM.utf8).base64EncodedString())
        case .none:
            break
        }
        var context: [String: JSONValue] = ["cluster": .string("fakekube"), "user": .string("fakekube-user")]
        if let namespace { context["namespace"] = .string(namespace) }
        let config = JSONValue.object([
            "apiVersion": .string("v1"), "kind": .string("Config"), "preferences": .object([:]),
            "current-context": .string("fakekube"),
            "clusters": .array([.object(["name": .string("fakekube"), "cluster": .object([
                "server": .string(url),
                "certificate-authority-data": .string(Data(caPEM.utf8).base64EncodedString()),
            ])])]),
            "users": .array([.object(["name": .string("fakekube-user"), "user": .object(user)])]),
            "contexts": .array([.object(["name": .string("fakekube"), "context": .object(context)])]),
        ])
        return try config.yamlString()
    }

    /// Writes `kubeconfig(user:namespace:)` to `path`.
    public func writeKubeconfig(to path: String, user credential: KubeconfigCredential, namespace: String? = nil) throws {
        try Data(kubeconfig(user: credential, namespace: namespace).utf8).write(to: URL(fileURLWithPath: path))
    }
}
