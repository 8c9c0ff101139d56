/// The `drills:` section: where DR drills rehearse runbooks.
public struct DrillsConfig: Sendable {
    /// The cluster that Kubernetes steps run against in a drill; nil means they are not rehearsed.
    public var cluster: ClusterConfig?
    /// Folder under which every drill gets a fresh sandbox (default `<data_dir>/drills`).
    public var sandboxDir: String
    /// Appended to every namespace a drill addresses in the drill cluster, for a drill cluster
    /// shared with other workloads; nil (the default) for a dedicated drill cluster.
    public var namespaceSuffix: String?
    /// Per-runbook drill settings (`runbooks:`): schedules and RTO targets.
    public var runbooks: [DrillRunbookConfig] = []

    /// Creates a drills section.
    public init(cluster: ClusterConfig? = nil, sandboxDir: String, namespaceSuffix: String? = nil) {
        self.cluster = cluster
        self.sandboxDir = sandboxDir
        self.namespaceSuffix = namespaceSuffix
    }
}

/// One entry of `drills.runbooks`: when a runbook is drilled and the RTO it must meet.
public struct DrillRunbookConfig: Sendable, Equatable {
    /// The runbook's name (as `drctl drill` takes it).
    public var runbook: String
    /// A 5-field cron line or macro; nil means the runbook is drilled by hand only.
    public var schedule: String?
    /// IANA time zone of `schedule` (default UTC).
    public var timeZone: String
    /// The recovery-time objective for this runbook, in seconds (`rto_target:`).
    public var rtoTargetSeconds: Int?
    /// Where the entry is in the config file.
    public var line: Int

    /// Creates an entry.
    public init(runbook: String, schedule: String? = nil, timeZone: String = "UTC", rtoTargetSeconds: Int? = nil, line: Int = 0) {
        self.runbook = runbook
        self.schedule = schedule
        self.timeZone = timeZone
        self.rtoTargetSeconds = rtoTargetSeconds
        self.line = line
    }
}

extension DrillsConfig {
    /// The settings of `runbook`, if `drills.runbooks` lists it.
    public func settings(for runbook: String) -> DrillRunbookConfig? {
        runbooks.first { $0.runbook == runbook }
    }
}

extension DRConfig {
    /// The `drills:` section, or the defaults when the file has none.
    public var drillSettings: DrillsConfig {
        drills ?? DrillsConfig(sandboxDir: "\(dataDir)/drills")
    }
}
