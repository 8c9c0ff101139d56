#if canImport(Glibc)
import Glibc
#endif
public import Foundation
public import Logging
internal import Crypto

/// A blocking S3 client over libcurl, signing with ``SigV4``: PUT (streamed from a file,
/// multipart above a threshold), GET (whole or a range, streamed), HEAD, ListObjectsV2,
/// DELETE. Thread-safe.
///
/// Every request retries connection failures, 5xx, 429 and `SlowDown` with exponential
/// backoff and jitter; a GET that breaks mid-stream resumes with a `Range` from the byte it
/// reached. Uploads carry `x-amz-checksum-sha256` (per part for multipart) and a signed
/// payload hash, so S3 rejects bytes damaged on the way.
///
/// ```swift
/// let client = try S3Client(config: s3, credentials: credentials, environment: env, logger: logger)
/// try client.putFile(key: "backups/a", path: "/tmp/a")
/// let bytes = try client.getBytes(key: "backups/a")
/// ```
public final class S3Client: Sendable {
    /// Timeouts, retries and multipart settings.
    public struct Options: Sendable {
        /// Further attempts after the first for retryable failures.
        public var retries = 5
        /// The first backoff; it doubles with every retry, with jitter.
        public var initialBackoff: Duration = .milliseconds(250)
        /// The longest backoff between two attempts.
        public var maxBackoff: Duration = .seconds(20)
        /// The TCP + TLS connection part of one attempt.
        public var connectTimeout: Duration = .seconds(10)
        /// An attempt that moves no byte for this long is abandoned (and retried).
        public var stallTimeout: Duration = .seconds(60)
        /// Objects of at least this size are uploaded in parts.
        public var multipartThreshold: Int64 = 64 << 20
        /// The size of each part but the last (S3's minimum, 5 MiB, is enforced).
        public var partSize: Int64 = 16 << 20
        /// How many parts are uploaded at once.
        public var parallelParts = 3

        /// The defaults: 5 retries from 250 ms; parts of 16 MiB above 64 MiB, 3 at once.
        public init() {}
    }

    /// What HEAD or a listing says about an object.
    public struct ObjectInfo: Sendable, Equatable {
        /// The full key.
        public var key: String
        public var size: Int64
        public var lastModified: Date?
        public var etag: String?
    }

    /// S3's smallest part (all but the last).
    public static let minimumPartSize: Int64 = 5 << 20
    /// S3's largest number of parts.
    public static let maximumParts: Int64 = 10_000

    public let bucket: String
    public let region: String
    /// `s3://bucket` plus the endpoint when one is set, for messages.
    public let displayName: String
    let options: Options
    let logger: Logger
    private let signer: SigV4
    private let transport: S3Transport
    /// `scheme://host[:port]`.
    private let origin: String
    /// The `Host` header value signed and sent.
    private let host: String
    /// Path to the bucket: `/bucket` (path-style) or empty (virtual-hosted).
    private let bucketPath: String

    /// A client for the bucket of `config`, signing with `credentials`. `environment`
    /// supplies `AWS_REGION` / `AWS_DEFAULT_REGION` and proxy settings.
    public init(
        config: S3RepositoryConfig, credentials: S3Credentials, environment: [String: String],
        options: Options = Options(), logger: Logger
    ) throws {
        bucket = config.bucket
        let region = config.region ?? environment["AWS_REGION"].flatMap { $0.isEmpty ? nil : $0 }
            ?? environment["AWS_DEFAULT_REGION"].flatMap { $0.isEmpty ? nil : $0 } ?? "us-east-1"
        self.region = region
        var options = options
        options.partSize = max(options.partSize, Self.minimumPartSize)
        options.multipartThreshold = max(options.multipartThreshold, options.partSize)
        options.parallelParts = min(max(options.parallelParts, 1), 8)
        self.options = options
        self.logger = logger
        signer = SigV4(credentials: credentials, region: region)

        let scheme: String
        let endpointHost: String
        if let endpoint = config.endpoint {
            guard let components = URLComponents(string: endpoint), let parsedScheme = components.scheme?.lowercased(),
                  ["http", "https"].contains(parsedScheme), let rawHost = components.host, !rawHost.isEmpty else {
                throw DRError(.config, "S3 endpoint \(endpoint) is not an http(s) URL")
            }
            let bracketed = rawHost.contains(":") && !rawHost.hasPrefix("[") ? "[\(rawHost)]" : rawHost
            scheme = parsedScheme
            endpointHost = components.port.map { "\(bracketed):\($0)" } ?? bracketed
        } else {
            scheme = "https"
            endpointHost = "s3.\(region).amazonaws.com"
        }
        // Bucket names with dots break TLS for virtual-hosted names: path-style for them.
        let pathStyle = config.pathStyle ?? (config.endpoint != nil || config.bucket.contains("."))
        if pathStyle {
            host = endpointHost
            bucketPath = "/\(SigV4.uriEncode(config.bucket))"
        } else {
            host = "\(config.bucket).\(endpointHost)"
            bucketPath = ""
        }
        origin = "\(scheme)://\(host)"
        displayName = config.endpoint.map { "s3://\(config.bucket) at \($0)" } ?? "s3://\(config.bucket)"

        let proxyNames = scheme == "https" ? ["HTTPS_PROXY", "https_proxy"] : ["HTTP_PROXY", "http_proxy"]
        transport = S3Transport(
            connectTimeout: options.connectTimeout, stallTimeout: options.stallTimeout,
            proxy: proxyNames.lazy.compactMap { environment[$0] }.first { !$0.isEmpty } ?? "",
            noProxy: environment["NO_PROXY"] ?? environment["no_proxy"])
    }

    // MARK: - Requests

    /// One S3 request before signing.
    struct Operation {
        var method: String
        /// The object key; nil for bucket requests (listings).
        var key: String?
        var query: [(String, String)] = []
        /// Extra headers, all signed.
        var headers: [(String, String)] = []
        var body: S3RequestBody = .none
        /// Hex SHA-256 of the body (or ``SigV4/unsignedPayload``).
        var payloadHash = SigV4.emptyPayloadHash

        /// `PUT s3://bucket/key`, for logs and errors (no query: it may hold upload ids).
        func summary(bucket: String) -> String { "\(method) s3://\(bucket)/\(key ?? "")" }
    }

    /// Signs an operation for sending now.
    func signed(_ operation: Operation) -> S3HTTPRequest {
        let path = bucketPath + (operation.key.map { "/" + SigV4.uriEncode($0, keepSlash: true) } ?? (bucketPath.isEmpty ? "/" : ""))
        let amzDate = SigV4.timestamp(Date())
        var headers: [(String, String)] = [
            ("host", host), ("x-amz-date", amzDate), ("x-amz-content-sha256", operation.payloadHash),
        ]
        if let token = signer.credentials.sessionToken { headers.append(("x-amz-security-token", token)) }
        headers += operation.headers
        let signature = signer.sign(
            SigV4.Request(method: operation.method, path: path, query: operation.query, headers: headers,
                          payloadHash: operation.payloadHash),
            amzDate: amzDate)
        var url = origin + path
        if !operation.query.isEmpty { url += "?" + SigV4.canonicalQuery(operation.query) }
        var lines = headers.map { "\($0.0): \($0.1)" }
        lines.append("Authorization: \(signature.authorization)")
        return S3HTTPRequest(method: operation.method, url: url, headers: lines)
    }

    /// Answers worth another attempt.
    static func isRetryable(_ response: S3HTTPResponse) -> Bool {
        if [500, 502, 503, 504, 429].contains(response.status) { return true }
        if response.status == 400 {
            let code = S3ServiceError(status: 400, body: response.body, headers: response.headers).code
            return code == "RequestTimeout" || code == "SlowDown"
        }
        return false
    }

    /// Sends the operation `make` builds (called again for every attempt), retrying
    /// connection failures and retryable answers. Returns the last answer, whatever its status.
    func execute(
        summary: String, _ make: () -> Operation,
        consume: ((UnsafeRawBufferPointer) throws -> Void)? = nil,
        cancelled: (@Sendable () -> Bool)? = nil
    ) throws -> S3HTTPResponse {
        var attempt = 0
        while true {
            if cancelled?() == true { throw S3Cancelled() }
            let operation = make()
            let started = ContinuousClock.now
            do {
                let response = try transport.perform(signed(operation), body: operation.body, consume: consume, cancelled: cancelled)
                logger.debug("s3 request", metadata: [
                    "request": "\(summary)", "status": "\(response.status)", "duration": "\(ContinuousClock.now - started)",
                ])
                if Self.isRetryable(response), attempt < options.retries {
                    let error = S3ServiceError(status: response.status, body: response.body, headers: response.headers)
                    let delay = backoff(attempt)
                    logger.notice("S3 busy or failing; retrying", metadata: [
                        "request": "\(summary)", "status": "\(error)", "attempt": "\(attempt + 1)", "retry_in": "\(delay)",
                    ])
                    try pause(delay, cancelled: cancelled)
                    attempt += 1
                    continue
                }
                return response
            } catch let failure as S3TransportFailure {
                if cancelled?() == true { throw S3Cancelled() }
                guard failure.isConnectionFailure, attempt < options.retries else {
                    throw transportError(failure, summary: summary, attempts: attempt + 1)
                }
                let delay = backoff(attempt)
                logger.notice("S3 request failed; retrying", metadata: [
                    "request": "\(summary)", "error": "\(failure.message)", "attempt": "\(attempt + 1)", "retry_in": "\(delay)",
                ])
                try pause(delay, cancelled: cancelled)
                attempt += 1
            }
        }
    }

    /// `initialBackoff · 2^attempt`, capped, with "equal jitter": half fixed, half random.
    func backoff(_ attempt: Int) -> Duration {
        let capped = min(options.initialBackoff * (1 << min(attempt, 20)), options.maxBackoff)
        return capped / 2 + capped / 2 * Double.random(in: 0...1)
    }

    func pause(_ duration: Duration, cancelled: (@Sendable () -> Bool)?) throws {
        let (seconds, attoseconds) = duration.components
        Thread.sleep(forTimeInterval: Double(seconds) + Double(attoseconds) / 1e18)
        if cancelled?() == true { throw S3Cancelled() }
    }

    /// The error for a failed answer: `PUT s3://bucket/key: S3 answered 403 SignatureDoesNotMatch: …`.
    func serviceError(_ response: S3HTTPResponse, summary: String) -> DRError {
        let error = S3ServiceError(status: response.status, body: response.body, headers: response.headers)
        var text = "\(summary): S3 answered \(response.status)"
        if let code = error.code { text += " \(code)" }
        if let message = error.message { text += ": \(message)" }
        let code: DRError.Code
        var hint: String?
        switch (response.status, error.code) {
        case (_, "NoSuchBucket"):
            code = .notFound
            hint = "create the bucket, or fix the bucket name in the repository's `url:`"
        case (404, _):
            code = .notFound
        case (_, "SignatureDoesNotMatch"), (_, "InvalidAccessKeyId"), (_, "InvalidClientTokenId"), (_, "ExpiredToken"),
             (_, "InvalidToken"):
            code = .failed
            hint = "S3 rejected the credentials (\(signer.credentials)); check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or the credentials file, and the region (\(region))"
        case (403, _):
            code = .failed
            hint = "the credentials are valid but not allowed to do this; check the IAM policy (docs/S3.md)"
        case (429, _), (503, "SlowDown"):
            code = .unreachable
            hint = "S3 kept throttling requests"
        case (502, _), (503, _), (504, _), (500, _):
            code = .unreachable
            hint = "S3 kept failing (\(options.retries + 1) attempts)"
        default:
            code = .failed
        }
        return DRError(code, text, hint: hint, cause: error)
    }

    private func transportError(_ failure: S3TransportFailure, summary: String, attempts: Int) -> DRError {
        let tries = attempts > 1 ? " (after \(attempts) attempts)" : ""
        if failure.isConnectionFailure {
            return DRError(
                .unreachable, "\(summary): cannot reach \(displayName) (\(origin)): \(failure.message)\(tries)",
                hint: "check the endpoint, the network and that the S3 service is up")
        }
        if failure.isTLS {
            return DRError(.failed, "\(summary): TLS with \(origin) failed: \(failure.message)\(tries)",
                           hint: "check the endpoint's certificate (the system CA store is used)")
        }
        return DRError(.failed, "\(summary): request to \(origin) failed: \(failure.message)\(tries)")
    }

    /// The response when it is a success, else the matching error.
    func checked(_ response: S3HTTPResponse, summary: String) throws -> S3HTTPResponse {
        guard (200..<300).contains(response.status) else { throw serviceError(response, summary: summary) }
        return response
    }

    // MARK: - Objects

    /// Uploads a file to `key`, in parts when it is at least ``Options/multipartThreshold``.
    /// `sha256` is the file's hex SHA-256 when the caller already has it.
    public func putFile(key: String, path: String, sha256: String? = nil) throws {
        guard let size = FileIO.size(path) else { throw DRError(.io, "cannot read \(path) to upload it") }
        if size >= options.multipartThreshold {
            try putMultipart(key: key, path: path, size: size)
            return
        }
        let digest = try sha256 ?? Self.hashFile(path, offset: 0, length: size).hex
        let summary = "PUT s3://\(bucket)/\(key)"
        let response = try execute(summary: summary) {
            Operation(
                method: "PUT", key: key,
                headers: Self.checksumHeaders(hex: digest), body: .file(path: path, offset: 0, length: size),
                payloadHash: digest)
        }
        _ = try checked(response, summary: summary)
    }

    /// Uploads bytes held in memory (small objects: the repository config).
    public func put(key: String, bytes: [UInt8]) throws {
        let digest = SigV4.sha256Hex(bytes)
        let summary = "PUT s3://\(bucket)/\(key)"
        let response = try execute(summary: summary) {
            Operation(method: "PUT", key: key, headers: Self.checksumHeaders(hex: digest), body: .bytes(bytes), payloadHash: digest)
        }
        _ = try checked(response, summary: summary)
    }

    /// `x-amz-checksum-sha256` (base64) and the algorithm name, for a body with this hex SHA-256.
    static func checksumHeaders(hex: String) -> [(String, String)] {
        [("x-amz-checksum-sha256", base64(hex: hex)), ("x-amz-sdk-checksum-algorithm", "SHA256")]
    }

    static func base64(hex: String) -> String {
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex, let next = hex.index(index, offsetBy: 2, limitedBy: hex.endIndex) {
            bytes.append(UInt8(hex[index..<next], radix: 16) ?? 0)
            index = next
        }
        return Data(bytes).base64EncodedString()
    }

    /// SHA-256 of `length` bytes of a file from `offset`, read 1 MiB at a time.
    static func hashFile(_ path: String, offset: Int64, length: Int64) throws -> (hex: String, count: Int64) {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw DRError(.io, "cannot open \(path)", cause: POSIXError.current) }
        defer { Glibc.close(fd) }
        var hasher = SHA256()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var position = offset
        let end = offset + length
        while position < end {
            let want = Int(min(Int64(buffer.count), end - position))
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, want, off_t(position)) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else {
                throw DRError(.io, "cannot read \(path) at offset \(position)", cause: n < 0 ? POSIXError.current : nil)
            }
            buffer.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            position += Int64(n)
        }
        return (Data(hasher.finalize()).hexString, length)
    }

    /// Streams an object (or `range`, inclusive byte offsets) to `consume`; returns the byte
    /// count. A transfer that breaks is resumed from the byte it reached, so `consume` sees
    /// every byte once, in order.
    @discardableResult
    public func get(
        key: String, range: ClosedRange<Int64>? = nil, _ consume: (UnsafeRawBufferPointer) throws -> Void
    ) throws -> Int64 {
        let summary = "GET s3://\(bucket)/\(key)"
        let delivered = Counter()
        let start = range?.lowerBound ?? 0
        let response = try withoutActuallyEscaping(consume) { consume in
            try execute(summary: summary, {
                var operation = Operation(method: "GET", key: key)
                let from = start + delivered.value
                if let range {
                    operation.headers.append(("range", "bytes=\(from)-\(range.upperBound)"))
                } else if from > 0 {
                    operation.headers.append(("range", "bytes=\(from)-"))
                }
                return operation
            }, consume: { bytes in
                try consume(bytes)
                delivered.value += Int64(bytes.count)
            })
        }
        if response.status == 416, range == nil, delivered.value > 0 {
            return delivered.value  // resumed exactly at the end
        }
        _ = try checked(response, summary: summary)
        return delivered.value
    }

    /// A whole (small) object in memory.
    public func getBytes(key: String) throws -> [UInt8] {
        var bytes: [UInt8] = []
        try get(key: key) { bytes.append(contentsOf: $0) }
        return bytes
    }

    /// Size and date of an object, or nil when it does not exist.
    public func head(key: String) throws -> ObjectInfo? {
        let summary = "HEAD s3://\(bucket)/\(key)"
        let response = try execute(summary: summary) { Operation(method: "HEAD", key: key) }
        if response.status == 404 { return nil }
        _ = try checked(response, summary: summary)
        return ObjectInfo(
            key: key, size: response.headers["content-length"].flatMap { Int64($0) } ?? 0,
            lastModified: response.headers["last-modified"].flatMap(Self.httpDate),
            etag: response.headers["etag"])
    }

    /// Deletes an object; deleting a missing one succeeds (S3's rule).
    public func delete(key: String) throws {
        let summary = "DELETE s3://\(bucket)/\(key)"
        let response = try execute(summary: summary) { Operation(method: "DELETE", key: key) }
        _ = try checked(response, summary: summary)
    }

    /// Every object under `prefix`, page by page (ListObjectsV2 with continuation tokens).
    public func list(prefix: String, maxKeys: Int = 1000, _ each: (ObjectInfo) throws -> Void) throws {
        var token: String?
        let summary = "LIST s3://\(bucket)/\(prefix)"
        repeat {
            let current = token
            let response = try checked(try execute(summary: summary) {
                var query = [("list-type", "2"), ("prefix", prefix), ("max-keys", String(maxKeys))]
                if let current { query.append(("continuation-token", current)) }
                return Operation(method: "GET", key: nil, query: query)
            }, summary: summary)
            let xml = S3XML(response.body)
            for item in xml.elements("Contents") {
                guard let key = item.value("Key") else { continue }
                try each(ObjectInfo(
                    key: key, size: item.value("Size").flatMap { Int64($0) } ?? 0,
                    lastModified: item.value("LastModified").flatMap { ISO8601.parse($0) }, etag: item.value("ETag")))
            }
            let truncated = xml.value("IsTruncated") == "true"
            token = truncated ? xml.value("NextContinuationToken") : nil
            if truncated, token == nil {
                throw DRError(.failed, "\(summary): S3 said the listing is truncated but gave no continuation token")
            }
        } while token != nil
    }

    /// All objects under `prefix`.
    public func list(prefix: String, maxKeys: Int = 1000) throws -> [ObjectInfo] {
        var result: [ObjectInfo] = []
        try list(prefix: prefix, maxKeys: maxKeys) { result.append($0) }
        return result
    }

    /// `Last-Modified: Sun, 06 Nov 1994 08:49:37 GMT`.
    static func httpDate(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: text)
    }
}

/// Thrown inside a multipart upload once another part failed.
struct S3Cancelled: Error {}

/// A mutable count shared with a callback.
final class Counter: @unchecked Sendable {
    var value: Int64 = 0
}
