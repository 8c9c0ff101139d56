/// The parsed, validated contents of a `drctl.yaml` configuration file.
///
/// All paths are absolute and standardized: `~` is expanded with `HOME` from the
/// environment given to the loader, and relative paths are resolved against the
/// directory containing the configuration file.
public struct DRConfig: Sendable {
    /// Absolute, standardized path of the configuration file this was read from.
    public var file: String
    /// The object stores snapshots are written to. The `repository:` shorthand yields
    /// exactly one entry named `"default"`.
    public var repositories: [RepositoryConfig]
    /// Absolute path of the SQLite catalog.
    public var catalog: String
    /// Absolute path of the working data directory (git mirrors, locks).
    /// Defaults to the directory containing ``catalog``.
    public var dataDir: String
    /// Encryption settings, or `nil` when the `encryption:` section is absent.
    public var encryption: EncryptionConfig?
    /// Kubernetes cluster access settings, or `nil` when `cluster:` is absent.
    public var cluster: ClusterConfig?
    /// The configured backup sources, in file order.
    public var sources: [SourceConfig]
    /// Absolute path of a folder of edited runbooks (`NAME.md`), which take precedence over
    /// the copies built into drctl; `nil` when `runbooks_dir:` is absent.
    public var runbooksDir: String?
    /// Parameter overrides per runbook: runbook name → parameter name → value
    /// (`runbook_params:`; a list value is joined with commas).
    public var runbookParams: [String: [String: String]]
    /// Absolute path of the Prometheus textfile written after every run (`metrics_file:`).
    public var metricsFile: String?
    /// Where failures and RPO breaches are reported (`notify:`).
    public var notify: NotifyConfig?
    /// What `drctl run --due` does when another run holds the lock (`on_locked:`).
    public var onLocked: LockPolicy = .skip
    /// The `drills:` section (see ``drillSettings`` for the defaults).
    public var drills: DrillsConfig?
    /// The `verify:` section: scheduled verification of stored snapshots.
    public var verify: VerifyScheduleConfig?
    /// Copy the catalog and the config into the repository after every backup run and
    /// prune (`catalog_copies:`, default true); see `drctl catalog recover`.
    public var catalogCopies = true

    /// Creates a configuration from already-validated parts.
    public init(
        file: String, repositories: [RepositoryConfig], catalog: String, dataDir: String,
        encryption: EncryptionConfig? = nil, cluster: ClusterConfig? = nil, sources: [SourceConfig],
        runbooksDir: String? = nil, runbookParams: [String: [String: String]] = [:]
    ) {
        self.file = file
        self.repositories = repositories
        self.catalog = catalog
        self.dataDir = dataDir
        self.encryption = encryption
        self.cluster = cluster
        self.sources = sources
        self.runbooksDir = runbooksDir
        self.runbookParams = runbookParams
    }

    /// The source with the given name, or `nil` if none has it.
    public func source(named name: String) -> SourceConfig? {
        sources.first { $0.name == name }
    }
}

/// One object store that snapshots are written to.
public struct RepositoryConfig: Sendable {
    /// Where a repository lives.
    public enum Location: Sendable, Equatable {
        /// A directory on the local file system (absolute path).
        case local(path: String)
        /// A prefix in an S3 bucket.
        case s3(S3RepositoryConfig)
    }

    /// The repository's name (`"default"` for the `repository:` shorthand).
    public var name: String
    /// Where the repository lives.
    public var location: Location

    /// Creates a repository entry.
    public init(name: String, location: Location) {
        self.name = name
        self.location = location
    }
}

/// The `encryption:` section.
public struct EncryptionConfig: Sendable {
    /// age recipients (`age1…`) that new data is encrypted to; may be empty.
    public var recipients: [String]
    /// Absolute path of the age identity file used to decrypt, if configured.
    public var identity: String?

    /// Creates an encryption section.
    public init(recipients: [String], identity: String? = nil) {
        self.recipients = recipients
        self.identity = identity
    }
}

/// The `cluster:` section: how to reach the Kubernetes cluster.
public struct ClusterConfig: Sendable {
    /// Absolute path of the kubeconfig file, if configured.
    public var kubeconfig: String?
    /// The kubeconfig context to use, if configured.
    public var context: String?

    /// Creates a cluster section.
    public init(kubeconfig: String? = nil, context: String? = nil) {
        self.kubeconfig = kubeconfig
        self.context = context
    }
}

/// One entry of `sources:`: something drctl backs up.
public struct SourceConfig: Sendable {
    /// Unique name matching `^[a-z0-9][a-z0-9._-]{0,62}$`.
    public var name: String
    /// What kind of source this is; always matches ``spec``.
    public var kind: SourceKind
    /// The schedule (a 5-field cron line or a macro such as `@daily`); the config loader checks
    /// its shape, `Scheduler` parses it fully.
    public var schedule: String?
    /// Time zone, starting deadline, RPO target and retention.
    public var scheduling = SourceScheduling()
    /// The repositories this source's snapshots go to (`copy_to:`); nil means all of them.
    /// The first repository always holds them.
    public var copyTo: [String]?
    /// Where `copy_to` is in the config file.
    var copyToLine: Int?
    /// The 1-based line in the configuration file where this entry starts.
    public var line: Int
    /// The kind-specific settings.
    public var spec: SourceSpec

    /// Creates a source entry; `kind` is taken from `spec`.
    public init(name: String, schedule: String? = nil, line: Int, spec: SourceSpec) {
        self.name = name
        self.kind = spec.kind
        self.schedule = schedule
        self.line = line
        self.spec = spec
    }
}

/// The kinds of source drctl knows (the value of a source's `kind:` key).
public enum SourceKind: String, Sendable, CaseIterable {
    /// A git repository captured as a `git bundle`.
    case gitBundle = "git-bundle"
    /// A directory tree (a mounted persistent volume) captured as tar + zstd archives.
    case pvcArchive = "pvc-archive"
    /// Kubernetes Secrets exported as an encrypted YAML `List`.
    case secrets
    /// ArgoCD's own state (Applications, AppProjects, settings), as `argocd admin export` saves it.
    case argocdState = "argocd-state"

    /// Whether snapshots of this kind hold Kubernetes objects (and must be encrypted).
    public var holdsKubernetesObjects: Bool { self == .secrets || self == .argocdState }
}

/// Kind-specific settings of a source.
public enum SourceSpec: Sendable {
    /// Settings of a `git-bundle` source.
    case gitBundle(GitBundleSourceConfig)
    /// Settings of a `pvc-archive` source.
    case pvcArchive(PVCArchiveSourceConfig)
    /// Settings of a `secrets` source.
    case secrets(SecretsSourceConfig)
    /// Settings of an `argocd-state` source.
    case argocdState(ArgoStateSourceConfig)

    /// The kind these settings belong to.
    public var kind: SourceKind {
        switch self {
        case .gitBundle: .gitBundle
        case .pvcArchive: .pvcArchive
        case .secrets: .secrets
        case .argocdState: .argocdState
        }
    }
}

/// Settings of a `git-bundle` source.
public struct GitBundleSourceConfig: Sendable, Equatable {
    /// The repository to bundle: a local path or a URL git can fetch.
    public var repo: GitLocation
    /// Absolute path the repository is restored to, if configured.
    public var restorePath: String?
    /// When to start a new chain with a full bundle (`full_every:`); nil chains until a
    /// history rewrite. Needed for retention to be able to forget old bundles.
    public var fullEvery: FullEvery?

    /// Creates git-bundle settings.
    public init(repo: GitLocation, restorePath: String? = nil) {
        self.repo = repo
        self.restorePath = restorePath
    }
}

/// A git repository location as written in the configuration.
public enum GitLocation: Sendable, Equatable {
    /// A local repository (absolute, standardized path).
    case path(String)
    /// A URL git can fetch (`scheme://…` or scp-like `user@host:path`), kept verbatim.
    case url(String)
}
