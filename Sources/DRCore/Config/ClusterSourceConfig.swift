/// Settings of a `secrets` source: Kubernetes Secrets exported as one encrypted YAML `List`.
public struct SecretsSourceConfig: Sendable, Equatable {
    /// Where the Secrets come from.
    public enum Input: Sendable, Equatable {
        /// The configured cluster (`cluster:`), read through the API.
        case cluster
        /// A `kubectl get secrets -A -o yaml|json` output file (absolute path); `-` is standard input.
        case file(String)
    }

    /// Secret types left out unless `exclude_types:` says otherwise.
    public static let defaultExcludedTypes = ["kubernetes.io/service-account-token"]
    /// The type of the Secrets Helm uses to store its releases.
    public static let helmReleaseType = "helm.sh/release.v1"

    public var input: Input
    /// Namespaces to export; empty means all.
    public var namespaces: [String]
    /// A label selector (`app=web,tier!=cache`), passed to the API as is.
    public var selector: String?
    /// Secret types never exported.
    public var excludeTypes: [String]

    public init(input: Input = .cluster, namespaces: [String] = [], selector: String? = nil,
                excludeTypes: [String] = SecretsSourceConfig.defaultExcludedTypes) {
        self.input = input
        self.namespaces = namespaces
        self.selector = selector
        self.excludeTypes = excludeTypes
    }
}

/// Settings of an `argocd-state` source: what `argocd admin export` saves.
public struct ArgoStateSourceConfig: Sendable, Equatable {
    /// The namespace ArgoCD runs in (its ConfigMaps and Secrets live there).
    public var namespace: String

    public init(namespace: String = "argocd") {
        self.namespace = namespace
    }
}
