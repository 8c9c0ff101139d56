/// How a source is scheduled, kept, and held to its recovery-point target.
public struct SourceScheduling: Sendable, Equatable {
    /// IANA time zone of `schedule:` and of retention buckets (`timezone:`), default UTC.
    public var timeZone: String
    /// Skip a due run that is more than this many seconds late (`starting_deadline:`).
    public var startingDeadlineSeconds: Int?
    /// The recovery-point objective: the newest verified snapshot may be at most this old
    /// (`rpo_target:`, seconds); `drctl status` exits 1 when it is breached.
    public var rpoTargetSeconds: Int?
    /// Which snapshots `drctl prune` keeps (`retention:`); nil keeps everything.
    public var retention: RetentionPolicy?

    public init(timeZone: String = "UTC", startingDeadlineSeconds: Int? = nil, rpoTargetSeconds: Int? = nil,
                retention: RetentionPolicy? = nil) {
        self.timeZone = timeZone
        self.startingDeadlineSeconds = startingDeadlineSeconds
        self.rpoTargetSeconds = rpoTargetSeconds
        self.retention = retention
    }
}

/// A source's `retention:` policy, with restic `forget` semantics: a snapshot is kept
/// when any rule keeps it (docs/CONFIG.md).
public struct RetentionPolicy: Sendable, Equatable {
    public var keepLast: Int?
    public var keepHourly: Int?
    public var keepDaily: Int?
    public var keepWeekly: Int?
    public var keepMonthly: Int?
    public var keepYearly: Int?
    /// Keep everything within this many seconds of the newest snapshot (`keep_within:`).
    public var keepWithinSeconds: Int?

    public init(keepLast: Int? = nil, keepHourly: Int? = nil, keepDaily: Int? = nil, keepWeekly: Int? = nil,
                keepMonthly: Int? = nil, keepYearly: Int? = nil, keepWithinSeconds: Int? = nil) {
        self.keepLast = keepLast
        self.keepHourly = keepHourly
        self.keepDaily = keepDaily
        self.keepWeekly = keepWeekly
        self.keepMonthly = keepMonthly
        self.keepYearly = keepYearly
        self.keepWithinSeconds = keepWithinSeconds
    }
}

/// The `notify:` section: where failures and breaches are reported.
public struct NotifyConfig: Sendable, Equatable {
    /// Events that may be notified.
    public enum Event: String, Sendable, CaseIterable {
        case failure
        case rpoBreach = "rpo-breach"
        case drillFailure = "drill-failure"
        case verifyFailure = "verify-failure"
    }

    /// The URL a JSON message (with a Slack-compatible `text`) is POSTed to.
    public var webhook: String
    public var on: [Event]

    public init(webhook: String, on: [Event] = Event.allCases) {
        self.webhook = webhook
        self.on = on
    }
}

/// What `drctl run --due` does when another run holds the data folder's lock (`on_locked:`).
public enum LockPolicy: String, Sendable, CaseIterable {
    /// Exit 0 with a message: the other run does the work (the default, right for cron).
    case skip
    /// Wait for the other run to finish, then run what is still due.
    case wait
}

/// The `verify:` section: when `drctl run --due` and the daemon run `drctl verify`.
public struct VerifyScheduleConfig: Sendable, Equatable {
    /// A 5-field cron line or macro.
    public var schedule: String
    /// IANA time zone of `schedule` (default UTC).
    public var timeZone: String
    /// Re-read every object (`read_data: true`).
    public var readData: Bool
    /// Re-read this share of the objects per run, rotating (`read_data_subset: 10%`).
    public var subsetPercent: Double?
    /// Where the section is in the config file.
    public var line: Int

    public init(schedule: String, timeZone: String = "UTC", readData: Bool = false, subsetPercent: Double? = nil, line: Int = 0) {
        self.schedule = schedule
        self.timeZone = timeZone
        self.readData = readData
        self.subsetPercent = subsetPercent
        self.line = line
    }
}
