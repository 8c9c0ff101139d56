/// One served resource: what discovery lists and the store keys objects by.
public struct ResourceType: Sendable, Hashable {
    public var group: String
    public var version: String
    public var kind: String
    public var plural: String
    public var singular: String
    public var shortNames: [String]
    public var namespaced: Bool
    public var verbs: [String]
    /// Whether `/status` is a subresource (status is then ignored by writes to the main resource).
    public var hasStatus: Bool
    public var categories: [String]

    public init(
        group: String, version: String, kind: String, plural: String, singular: String? = nil,
        shortNames: [String] = [], namespaced: Bool = true, verbs: [String] = ResourceType.allVerbs,
        hasStatus: Bool = false, categories: [String] = []
    ) {
        self.group = group
        self.version = version
        self.kind = kind
        self.plural = plural
        self.singular = singular ?? kind.lowercased()
        self.shortNames = shortNames
        self.namespaced = namespaced
        self.verbs = verbs
        self.hasStatus = hasStatus
        self.categories = categories
    }

    public static let allVerbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]

    /// `v1` or `apps/v1`.
    public var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }
    /// `secrets` or `deployments.apps`, as error messages name it.
    var qualifiedPlural: String { group.isEmpty ? plural : "\(plural).\(group)" }
    /// Storage key shared by every version of a resource.
    var storageKey: String { "\(group)/\(plural)" }

    /// The resource types every fake cluster starts with.
    static let builtIns: [ResourceType] = [
        ResourceType(group: "", version: "v1", kind: "Namespace", plural: "namespaces", shortNames: ["ns"],
                     namespaced: false, verbs: ["create", "delete", "get", "list", "patch", "update", "watch"], hasStatus: true),
        ResourceType(group: "", version: "v1", kind: "Secret", plural: "secrets"),
        ResourceType(group: "", version: "v1", kind: "ConfigMap", plural: "configmaps", shortNames: ["cm"]),
        ResourceType(group: "", version: "v1", kind: "ServiceAccount", plural: "serviceaccounts", shortNames: ["sa"]),
        ResourceType(group: "", version: "v1", kind: "Service", plural: "services", shortNames: ["svc"],
                     verbs: ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
                     hasStatus: true, categories: ["all"]),
        ResourceType(group: "", version: "v1", kind: "Pod", plural: "pods", shortNames: ["po"], hasStatus: true, categories: ["all"]),
        ResourceType(group: "", version: "v1", kind: "Event", plural: "events", shortNames: ["ev"]),
        ResourceType(group: "apps", version: "v1", kind: "Deployment", plural: "deployments", shortNames: ["deploy"],
                     hasStatus: true, categories: ["all"]),
        ResourceType(group: "apps", version: "v1", kind: "StatefulSet", plural: "statefulsets", shortNames: ["sts"],
                     hasStatus: true, categories: ["all"]),
        // Stored only (no controller): what deploy/ applies.
        ResourceType(group: "", version: "v1", kind: "PersistentVolumeClaim", plural: "persistentvolumeclaims",
                     shortNames: ["pvc"], hasStatus: true),
        ResourceType(group: "batch", version: "v1", kind: "CronJob", plural: "cronjobs", shortNames: ["cj"],
                     hasStatus: true, categories: ["all"]),
        ResourceType(group: "rbac.authorization.k8s.io", version: "v1", kind: "ClusterRole", plural: "clusterroles",
                     namespaced: false),
        ResourceType(group: "rbac.authorization.k8s.io", version: "v1", kind: "ClusterRoleBinding",
                     plural: "clusterrolebindings", namespaced: false),
        ResourceType(group: "rbac.authorization.k8s.io", version: "v1", kind: "Role", plural: "roles"),
        ResourceType(group: "rbac.authorization.k8s.io", version: "v1", kind: "RoleBinding", plural: "rolebindings"),
        // Keep CustomResourceDefinition last (Defaults.validateCRD reads it from there).
        ResourceType(group: "apiextensions.k8s.io", version: "v1", kind: "CustomResourceDefinition",
                     plural: "customresourcedefinitions", shortNames: ["crd", "crds"], namespaced: false, hasStatus: true,
                     categories: ["api-extensions"]),
    ]
}
