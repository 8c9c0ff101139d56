import Foundation
public import Logging

/// Collects every log line (message and metadata) at debug level, for tests that check what
/// drctl logs, such as that no secret value reaches the logs.
public final class LogCapture: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []

    public init() {}

    /// A logger at `.debug` writing into this capture.
    public var logger: Logger {
        var logger = Logger(label: "drctl-capture") { label in Handler(capture: self, label: label) }
        logger.logLevel = .debug
        return logger
    }

    /// Everything logged so far, one line per message.
    public var text: String {
        lock.lock()
        defer { lock.unlock() }
        return lines.joined(separator: "\n")
    }

    fileprivate func append(_ line: String) {
        lock.lock()
        lines.append(line)
        lock.unlock()
    }

    struct Handler: LogHandler {
        let capture: LogCapture
        let label: String
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .debug

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
            let details = merged.isEmpty ? "" : " " + merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            let error = event.error.map { " error=\($0)" } ?? ""
            capture.append("\(event.level) \(label): \(event.message)\(details)\(error)")
        }
    }
}
