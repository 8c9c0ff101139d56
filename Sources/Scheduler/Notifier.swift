internal import CCurl
public import DRCore
import Foundation
public import Logging

/// Posts events to the `notify:` webhook: a JSON object with a Slack-compatible `text` plus
/// `event`, `source` and `error`. Each POST has a timeout and is retried; a notification
/// that cannot be delivered is logged and never fails the caller.
public struct Notifier: Sendable {
    public var config: NotifyConfig
    public var logger: Logger
    /// Seconds allowed for one attempt (connect and transfer).
    public var timeoutSeconds: Int
    /// Further attempts after a failed one.
    public var retries: Int
    /// Pause between attempts.
    public var retryDelaySeconds: Double

    public init(config: NotifyConfig, logger: Logger, timeoutSeconds: Int = 10, retries: Int = 2,
                retryDelaySeconds: Double = 1) {
        self.config = config
        self.logger = logger
        self.timeoutSeconds = timeoutSeconds
        self.retries = retries
        self.retryDelaySeconds = retryDelaySeconds
    }

    /// The notifier of a config, or nil without `notify:`.
    public static func make(_ config: DRConfig, logger: Logger) -> Notifier? {
        config.notify.map { Notifier(config: $0, logger: logger) }
    }

    /// The JSON body of an event.
    public static func body(_ event: NotifyConfig.Event, source: String?, error: String?, text: String) -> [UInt8] {
        var object: [String: String] = ["text": text, "event": event.rawValue]
        if let source { object["source"] = source }
        if let error { object["error"] = error }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return Array(data)
    }

    /// Sends `event` unless the config leaves it out; returns whether it was delivered
    /// (or deliberately not sent).
    @discardableResult
    public func notify(_ event: NotifyConfig.Event, source: String?, error: String?, text: String) -> Bool {
        guard config.on.contains(event) else { return true }
        let body = Self.body(event, source: source, error: error, text: text)
        var problem = ""
        attempts: for attempt in 0...retries {
            if attempt > 0 { Thread.sleep(forTimeInterval: retryDelaySeconds) }
            switch post(body) {
            case .success(let status) where (200..<300).contains(status):
                logger.info("notified \(event.rawValue)\(source.map { " for \($0)" } ?? "")")
                return true
            case .success(let status):
                problem = "HTTP status \(status)"
                if (400..<500).contains(status) && status != 429 { break attempts }
            case .failure(let message):
                problem = message
            }
        }
        logger.error("notification \(event.rawValue)\(source.map { " for \($0)" } ?? "") to the webhook failed after \(retries + 1) attempts: \(problem)")
        return false
    }

    private enum PostResult {
        case success(Int)
        case failure(String)
    }

    private static let globalInit: Void = { _ = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    private func post(_ body: [UInt8]) -> PostResult {
        _ = Self.globalInit
        guard let handle = curl_easy_init() else { return .failure("libcurl could not create a handle") }
        defer { curl_easy_cleanup(handle) }
        var headers: UnsafeMutablePointer<curl_slist>?
        headers = curl_slist_append(headers, "Content-Type: application/json")
        defer { curl_slist_free_all(headers) }
        _ = drctl_curl_setopt_string(handle, CURLOPT_URL, config.webhook)
        _ = drctl_curl_setopt_long(handle, CURLOPT_TIMEOUT, timeoutSeconds)
        _ = drctl_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT, timeoutSeconds)
        _ = drctl_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        _ = drctl_curl_setopt_long(handle, CURLOPT_POST, 1)
        _ = drctl_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, headers)
        // The response body is discarded.
        _ = drctl_curl_setopt_io_callback(handle, CURLOPT_WRITEFUNCTION) { _, size, count, _ in size * count }
        var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        let code: CURLcode = errorBuffer.withUnsafeMutableBufferPointer { errorPointer in
            _ = drctl_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorPointer.baseAddress)
            defer { _ = drctl_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, nil) }
            return body.withUnsafeBytes { raw in
                _ = drctl_curl_setopt_off_t(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(raw.count))
                return drctl_curl_setopt_pointer(handle, CURLOPT_POSTFIELDS, UnsafeMutableRawPointer(mutating: raw.baseAddress)) == CURLE_OK
                    ? curl_easy_perform(handle) : CURLE_FAILED_INIT
            }
        }
        guard code == CURLE_OK else {
            let detail = String(decoding: errorBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            return .failure(detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail)
        }
        var status = 0
        _ = drctl_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return .success(status)
    }
}
