/// The Scheduler module: cron expressions, due computation, the run lock, retention,
/// pruning, metrics and notifications (docs/ARCHITECTURE.md, "Modules").
///
/// Cron lines are parsed and evaluated by ``CronSchedule`` (docs/SCHEDULING.md);
/// ``ScheduleValidation`` checks every source's `schedule:` when a config is loaded.
public enum Scheduler {
    /// The cron dialect `schedule:` accepts.
    public static let dialect = "5-field Vixie/cronie cron, or @yearly @annually @monthly @weekly @daily @midnight @hourly"
}
