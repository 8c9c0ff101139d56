/// The Scheduler module: cron expressions, due computation, the run lock, retention,
/// pruning, metrics and notifications (docs/ARCHITECTURE.md, "Modules").
///
/// In drctl 0.1 schedules are parsed for shape only (`schedule:` in drctl.yaml, checked
/// by DRCore's config loader); this module holds the version of the cron dialect the
/// config documents, so callers can report it.
public enum Scheduler {
    /// The cron dialect `schedule:` accepts.
    public static let dialect = "5-field Vixie/cronie cron, or @yearly @annually @monthly @weekly @daily @midnight @hourly"
}
