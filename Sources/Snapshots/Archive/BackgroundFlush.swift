#if canImport(Glibc)
import Glibc
#endif
internal import CDRSystem
import Foundation

/// Flushes a filesystem (`syncfs`) on its own thread each time enough new data was
/// written to it, so that the disk writes a freshly extracted tree while the rest is
/// still being decoded: the `syncfs` that makes the finished tree durable before it is
/// renamed into place then has little left to wait for. Failures here are ignored; that
/// final `syncfs` reports them. The owner calls `stop()` when done writing.
final class BackgroundFlush: @unchecked Sendable {
    /// Bytes written between two flushes.
    let interval: Int64
    private var completed = 0

    private let condition = NSCondition()
    private var pending = false
    private var stopped = false
    private var finished = false
    private var written: Int64 = 0
    private let descriptor: Int32

    /// Starts the flushing thread for the filesystem holding `path`, flushing after every
    /// `interval` bytes written; nil if `path` cannot be opened.
    init?(path: String, interval: Int64 = 64 << 20) {
        self.interval = max(1, interval)
        descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        let thread = Thread { [self] in run() }
        thread.stackSize = 256 << 10
        thread.start()
    }

    deinit { close(descriptor) }

    /// Counts `bytes` written; wakes the flusher when another interval was written.
    func wrote(_ bytes: Int) {
        let before = written
        written += Int64(bytes)
        guard written / interval != before / interval else { return }
        condition.lock()
        pending = true
        condition.signal()
        condition.unlock()
    }

    /// Waits until at least `count` flushes completed or `timeout` passed; true if they did.
    func waitForFlushes(_ count: Int, timeout: TimeInterval) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date(timeIntervalSinceNow: timeout)
        while completed < count {
            if !condition.wait(until: deadline) { return completed >= count }
        }
        return true
    }

    /// Flushes completed so far.
    var flushes: Int {
        condition.lock()
        defer { condition.unlock() }
        return completed
    }

    /// Stops the thread and waits for a flush in progress to end.
    func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        while !finished { condition.wait() }
        condition.unlock()
    }

    private func run() {
        condition.lock()
        while true {
            while !pending && !stopped { condition.wait() }
            if stopped { break }
            pending = false
            condition.unlock()
            _ = drctl_syncfs(descriptor)
            condition.lock()
            completed += 1
            condition.broadcast()
        }
        finished = true
        condition.broadcast()
        condition.unlock()
    }
}
