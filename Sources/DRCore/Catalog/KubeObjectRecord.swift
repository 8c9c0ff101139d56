/// What the catalog knows about one Kubernetes object in an export snapshot, without
/// its values: identity, the names of its data keys and a keyed digest.
///
/// The digest is HMAC-SHA256 over the object's canonical JSON, keyed with a random key
/// kept outside the catalog (see ``DigestKey``), so two snapshots can be compared
/// without decrypting either, and a digest reveals nothing about a value.
public struct KubeObjectRecord: Sendable, Codable, Hashable {
    public var apiVersion: String
    public var kind: String
    /// Empty for cluster-scoped objects.
    public var namespace: String
    public var name: String
    /// The Secret's `type`, if a Secret.
    public var type: String?
    /// Names of the keys under `data` and `stringData` (Secrets, ConfigMaps), sorted.
    public var keys: [String]
    /// Lowercase hex HMAC-SHA256 of the cleaned object.
    public var digest: String

    public init(apiVersion: String, kind: String, namespace: String, name: String, type: String?, keys: [String], digest: String) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.namespace = namespace
        self.name = name
        self.type = type
        self.keys = keys
        self.digest = digest
    }

    /// `kind namespace/name` (or `kind name` when cluster-scoped), for messages.
    public var displayName: String {
        namespace.isEmpty ? "\(kind) \(name)" : "\(kind) \(namespace)/\(name)"
    }

    enum CodingKeys: String, CodingKey {
        case kind, namespace, name, type, keys, digest
        case apiVersion = "api_version"
    }
}
