/// The `drills:` section: where DR drills rehearse runbooks.
public struct DrillsConfig: Sendable {
    /// The cluster that Kubernetes steps run against in a drill; nil means they are not rehearsed.
    public var cluster: ClusterConfig?
    /// Folder under which every drill gets a fresh sandbox (default `<data_dir>/drills`).
    public var sandboxDir: String
    /// Appended to namespaces a drill creates in the drill cluster (default `-drill`).
    public var namespaceSuffix: String

    /// Creates a drills section.
    public init(cluster: ClusterConfig? = nil, sandboxDir: String, namespaceSuffix: String = "-drill") {
        self.cluster = cluster
        self.sandboxDir = sandboxDir
        self.namespaceSuffix = namespaceSuffix
    }
}

extension DRConfig {
    /// The `drills:` section, or the defaults when the file has none.
    public var drillSettings: DrillsConfig {
        drills ?? DrillsConfig(sandboxDir: "\(dataDir)/drills")
    }
}
