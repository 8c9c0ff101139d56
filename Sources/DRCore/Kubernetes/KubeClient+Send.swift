import Foundation
import Logging

/// The `Status` the API server sent with a failed request, kept as an error's `cause`.
public struct KubeAPIStatus: Error, Sendable, CustomStringConvertible {
    /// The HTTP status code (404, 409 …).
    public var code: Int
    /// The machine-readable reason (`NotFound`, `AlreadyExists`, `Conflict`, `Expired` …), when given.
    public var reason: String?
    /// The server's human message, or a summary of a non-Status answer.
    public var message: String

    /// `HTTP 404 NotFound`.
    public var description: String { "HTTP \(code)" + (reason.map { " \($0)" } ?? "") }
}

extension DRError {
    /// The API server's `Status` when this error is a failed Kubernetes request.
    public var kubeStatus: KubeAPIStatus? { cause as? KubeAPIStatus }
}

extension KubeClient {
    /// Answers worth another attempt.
    static let retryableStatuses: Set<Int> = [429, 500, 502, 503, 504]
    /// Answers retried even for a POST: the server did not act on the request.
    static let notProcessedStatuses: Set<Int> = [429, 503]

    /// Sends `request` with retries and one credential refresh after a 401. Returns the last
    /// answer whatever its status; throws when no answer came back.
    func send(_ request: KubeHTTPRequest) throws -> KubeHTTPResponse {
        var attempt = 0
        var refreshed = false
        while true {
            let credentials = try self.credentials.current()
            let started = ContinuousClock.now
            var response: KubeHTTPResponse
            do {
                response = try transport.perform(
                    request, credentials: credentials, timeout: options.timeout, connectTimeout: options.connectTimeout)
            } catch let failure as KubeTransportFailure {
                let retryable = (failure.isConnectionFailure && (request.idempotent || failure.isBeforeSend))
                    || (failure.curlCode == 35 && request.idempotent)
                if retryable, attempt < options.retries {
                    let delay = backoff(attempt)
                    logger.notice("kubernetes request failed; retrying", metadata: [
                        "request": "\(request.summary)", "error": "\(failure.message)",
                        "attempt": "\(attempt + 1)", "retry_in": "\(delay)",
                    ])
                    sleep(delay)
                    attempt += 1
                    continue
                }
                throw transportError(failure, request, attempts: attempt + 1)
            }
            response.attempts = attempt + 1
            logger.debug("kubernetes request", metadata: [
                "request": "\(request.summary)", "status": "\(response.status)",
                "duration": "\(ContinuousClock.now - started)",
            ])
            if response.status == 401, !refreshed, self.credentials.canRefresh {
                refreshed = true
                self.credentials.invalidate(generation: credentials.generation)
                logger.notice("kubernetes API answered 401; fetching credentials again", metadata: ["request": "\(request.summary)"])
                continue
            }
            let retryable = request.idempotent
                ? Self.retryableStatuses.contains(response.status) : Self.notProcessedStatuses.contains(response.status)
            if retryable, attempt < options.retries {
                var delay = backoff(attempt)
                if let retryAfter = Self.retryAfter(response.headers["retry-after"]) {
                    delay = min(retryAfter, options.maxBackoff)
                }
                logger.notice("kubernetes API busy or failing; retrying", metadata: [
                    "request": "\(request.summary)", "status": "\(response.status)",
                    "attempt": "\(attempt + 1)", "retry_in": "\(delay)",
                ])
                sleep(delay)
                attempt += 1
                continue
            }
            return response
        }
    }

    /// `initialBackoff · 2^attempt`, capped, with "equal jitter": half fixed, half random.
    func backoff(_ attempt: Int) -> Duration {
        let base = options.initialBackoff * (1 << min(attempt, 20))
        let capped = min(base, options.maxBackoff)
        return capped / 2 + capped / 2 * Double.random(in: 0...1)
    }

    /// A `Retry-After` header: delay seconds or an HTTP date.
    static func retryAfter(_ value: String?) -> Duration? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        if let seconds = Int(value) { return .seconds(max(0, seconds)) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: value) else { return nil }
        return .milliseconds(max(0, Int(date.timeIntervalSinceNow * 1000)))
    }

    private func sleep(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        Thread.sleep(forTimeInterval: Double(seconds) + Double(attoseconds) / 1e18)
    }

    /// The response when it is a success (2xx), else the matching error.
    func checked(_ response: KubeHTTPResponse, _ request: KubeHTTPRequest) throws -> KubeHTTPResponse {
        guard !(200..<300).contains(response.status) else { return response }
        throw apiError(response, request)
    }

    static let reasonPhrases: [Int: String] = [
        400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
        406: "Not Acceptable", 409: "Conflict", 410: "Gone", 413: "Payload Too Large", 415: "Unsupported Media Type",
        422: "Unprocessable Entity", 429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
        503: "Service Unavailable", 504: "Gateway Timeout",
    ]

    /// A ``DRError`` for a failed answer: `METHOD /path: <Status.message>`.
    func apiError(_ response: KubeHTTPResponse, _ request: KubeHTTPRequest) -> DRError {
        let status = Self.status(of: response, sensitive: request.sensitive)
        let code: DRError.Code
        var hint: String?
        switch response.status {
        case 404:
            code = .notFound
        case 409:
            code = .refused
        case 401:
            code = .failed
            hint = "the API server rejected drctl's credentials (\(endpoint.auth.summary)); check the kubeconfig user or token"
        case 403:
            code = .failed
            hint = "the credentials are valid but not allowed to do this; check RBAC for drctl's user or service account"
        case 429:
            code = .failed
            hint = "the API server is throttling requests (still after \(response.attempts) attempts)"
        case 502, 503, 504:
            code = .unreachable
            hint = "the API server kept failing (\(response.attempts) attempts)"
        default:
            code = .failed
        }
        return DRError(code, "\(request.summary): \(status.message)", hint: hint, cause: status)
    }

    /// The `Status` in a failed answer, or a summary when the body is something else.
    static func status(of response: KubeHTTPResponse, sensitive: Bool) -> KubeAPIStatus {
        if let document = try? JSONValue.parse(json: Data(response.body)), document["kind"]?.stringValue == "Status" {
            let reason = document["reason"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
            let message = document["message"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
            return KubeAPIStatus(code: response.status, reason: reason, message: message ?? reason ?? "HTTP \(response.status)")
        }
        var message = "HTTP \(response.status)"
        if let phrase = reasonPhrases[response.status] { message += " \(phrase)" }
        if !sensitive {
            let text = String(decoding: response.body.prefix(200), as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)
                .replacingOccurrences(of: "\n", with: " ")
            if !text.isEmpty { message += " (\(text))" }
        }
        return KubeAPIStatus(code: response.status, reason: nil, message: message)
    }

    private func transportError(_ failure: KubeTransportFailure, _ request: KubeHTTPRequest, attempts: Int) -> DRError {
        let tries = attempts > 1 ? " (after \(attempts) attempts)" : ""
        if failure.isConnectionFailure {
            return DRError(
                .unreachable, "\(request.summary): cannot reach the Kubernetes API at \(endpoint.server): \(failure.message)\(tries)",
                hint: "check that the cluster is up and the server address in the kubeconfig is right")
        }
        if failure.isTLS {
            return DRError(
                .failed, "\(request.summary): TLS with \(endpoint.server) failed: \(failure.message)\(tries)",
                hint: "check the cluster's certificate-authority, tls-server-name and the client certificate")
        }
        return DRError(.failed, "\(request.summary): request to \(endpoint.server) failed: \(failure.message)\(tries)")
    }
}
