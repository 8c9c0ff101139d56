public import DRCore
import Foundation
internal import Logging
public import Snapshots

/// What happens after every `drctl backup` and `drctl run --due`: the metrics file is
/// rewritten and failures and RPO breaches are notified. Never throws: a reporting problem
/// is logged and does not change the backup's result.
public enum RunReporting {
    public static func afterRun(_ workspace: Workspace, outcomes: [BackupOutcome], notifier: Notifier?) {
        let logger = workspace.logger
        do { try Metrics.write(workspace) } catch {
            logger.error("could not write the metrics file: \(DRError.wrap(error).description)")
        }
        guard let notifier else { return }
        for outcome in outcomes where !outcome.succeeded {
            notifier.notify(.failure, source: outcome.source, error: outcome.error,
                            text: "drctl: backup of \(outcome.source) failed: \(outcome.error ?? "unknown error")")
        }
        do {
            for status in try SourceStatus.compute(workspace, now: workspace.now()) where status.breached {
                notifier.notify(.rpoBreach, source: status.source, error: nil, text: "drctl: \(status.summary)")
            }
        } catch {
            logger.error("could not check RPO targets: \(DRError.wrap(error).description)")
        }
    }
}
