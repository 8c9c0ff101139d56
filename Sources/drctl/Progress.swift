import DRCore
import Foundation
import Snapshots

/// A one-line progress display on a terminal (files, bytes, MB/s, ETA); silent otherwise,
/// so cron gets only the summary lines.
final class ProgressLine: @unchecked Sendable {
    private let lock = NSLock()
    private var last = ContinuousClock.now - .seconds(1)
    private let started = ContinuousClock.now
    private var shown = false

    /// A reporter when standard error is a terminal, else nil.
    static func make() -> (@Sendable (BackupOptions.Progress) -> Void)? {
        guard isatty(2) != 0 else { return nil }
        let line = ProgressLine()
        return { line.update($0) }
    }

    func update(_ progress: BackupOptions.Progress) {
        lock.lock()
        defer { lock.unlock() }
        let now = ContinuousClock.now
        let done = progress.files == progress.totalFiles
        guard done || now - last >= .milliseconds(200) else { return }
        last = now
        let elapsed = max(0.001, Double((now - started).components.seconds) + Double((now - started).components.attoseconds) / 1e18)
        let rate = Double(progress.bytes) / elapsed
        let left = rate > 0 ? Double(progress.totalBytes - progress.bytes) / rate : 0
        let text = String(format: "\r%@: %lld/%lld files, %@/%@, %.1f MB/s, ETA %.0fs   ", progress.source,
                          progress.files, progress.totalFiles, Terminal.bytes(progress.bytes),
                          Terminal.bytes(progress.totalBytes), rate / 1e6, left)
        FileHandle.standardError.write(Data(text.utf8))
        shown = true
        if done { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
