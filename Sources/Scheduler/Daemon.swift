public import DRCore
public import Foundation
public import Logging
public import Snapshots

/// Requests to a running daemon (from signal handlers or tests) and its interruptible sleep.
public final class DaemonControl: @unchecked Sendable {
    /// Why a sleep ended.
    public enum Wake: Sendable, Equatable {
        case deadline, stop, reload
    }

    private let condition = NSCondition()
    private var stopRequested = false
    private var reloadRequested = false

    public init() {}

    /// Ask the daemon to exit after the current run (SIGTERM, SIGINT).
    public func requestStop() {
        condition.lock()
        stopRequested = true
        condition.broadcast()
        condition.unlock()
    }

    /// Ask the daemon to re-read its config before the next run (SIGHUP).
    public func requestReload() {
        condition.lock()
        reloadRequested = true
        condition.broadcast()
        condition.unlock()
    }

    /// Whether a stop was requested.
    public var isStopping: Bool {
        condition.lock()
        defer { condition.unlock() }
        return stopRequested
    }

    /// Returns and clears a pending reload request.
    public func takeReload() -> Bool {
        condition.lock()
        defer { condition.unlock() }
        let pending = reloadRequested
        reloadRequested = false
        return pending
    }

    /// Sleeps until `date` on the wall clock, or until a stop or reload request. Waits in
    /// slices of at most a minute so a changed system clock (suspend, NTP step) is noticed.
    public func sleep(until date: Date) -> Wake {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if stopRequested { return .stop }
            if reloadRequested { return .reload }
            let remaining = date.timeIntervalSinceNow
            if remaining <= 0 { return .deadline }
            _ = condition.wait(until: Date(timeIntervalSinceNow: min(remaining, 60)))
        }
    }
}

/// `drctl daemon`: runs what is due, sleeps until the next fire time over all sources,
/// and repeats; reloads the config on request and exits after the current run when asked
/// to stop.
public struct Daemon {
    /// Opens the workspace; called at start and after each reload request.
    public var open: () throws -> Workspace
    public var control: DaemonControl
    /// Waits until a date (tests advance a simulated clock instead of sleeping).
    public var sleeper: (Date) -> DaemonControl.Wake
    public var options: BackupOptions
    public var logger: Logger

    public init(open: @escaping () throws -> Workspace, control: DaemonControl, logger: Logger,
                options: BackupOptions = BackupOptions(), sleeper: ((Date) -> DaemonControl.Wake)? = nil) {
        self.open = open
        self.control = control
        self.logger = logger
        self.options = options
        self.sleeper = sleeper ?? { control.sleep(until: $0) }
    }

    /// Loops until a stop is requested or `iterations` due passes ran; returns the reports.
    /// A failing pass is logged and the loop goes on; only the first open may throw.
    @discardableResult
    public func run(iterations: Int? = nil) throws -> [DueReport] {
        var workspace = try open()
        var reports: [DueReport] = []
        var passes = 0
        logger.info("daemon started with \(workspace.config.file)")
        while !control.isStopping {
            if control.takeReload() {
                do {
                    workspace = try open()
                    logger.info("configuration reloaded from \(workspace.config.file)")
                } catch {
                    logger.error("reload failed, keeping the previous configuration: \(DRError.wrap(error).description)")
                }
            }
            do {
                let report = try DueRuns.run(workspace, options: options, notifier: Notifier.make(workspace.config, logger: logger))
                reports.append(report)
                for outcome in report.outcomes where !outcome.succeeded {
                    logger.error("source \(outcome.source) failed: \(outcome.error ?? "unknown error")")
                }
            } catch {
                logger.error("due run failed: \(DRError.wrap(error).description)")
            }
            passes += 1
            if let iterations, passes >= iterations { break }
            if control.isStopping { break }
            let next: Date
            do {
                next = try DueRuns.nextFire(workspace.config, after: workspace.now()) ?? .distantFuture
            } catch {
                logger.error("cannot compute the next run: \(DRError.wrap(error).description)")
                next = workspace.now().addingTimeInterval(60)
            }
            logger.info("next run at \(next == .distantFuture ? "never (no schedules)" : ISO8601.format(next))")
            if sleeper(next) == .stop { break }
        }
        logger.info("daemon stopping")
        return reports
    }
}
