import CCurl
import Foundation

/// One HTTP request to the API server.
struct KubeHTTPRequest: Sendable {
    var method: String
    /// The API path, already percent-encoded (`/api/v1/namespaces/x/pods`).
    var path: String
    var query: [(String, String)] = []
    var body: [UInt8]?
    var contentType: String?
    /// True for Secrets: bodies are never logged or quoted (they never are anyway; this also
    /// keeps non-Status error bodies out of messages).
    var sensitive = false

    /// `METHOD /path`, as shown in logs and errors (no query: it may hold continue tokens).
    var summary: String { "\(method) \(path)" }
    /// Requests that change nothing and may be sent again safely.
    var idempotent: Bool { method != "POST" }
}

/// The server's answer.
struct KubeHTTPResponse: Sendable {
    var status: Int
    /// Header names lowercased; the last value wins.
    var headers: [String: String]
    var body: [UInt8]
    /// How many attempts the client made to get this answer.
    var attempts = 1
}

/// A request that got no HTTP answer: connection, TLS or timeout failure.
struct KubeTransportFailure: Error, Sendable {
    var curlCode: Int
    var message: String

    /// Connection refused, DNS, timeouts, resets: worth another try and `.unreachable` in the end.
    var isConnectionFailure: Bool {
        [5, 6, 7, 16, 18, 28, 52, 55, 56, 92].contains(curlCode)
    }
    /// Failures before anything was sent, safe to retry even for a POST.
    var isBeforeSend: Bool { [5, 6, 7].contains(curlCode) }
    /// TLS handshake or certificate problems.
    var isTLS: Bool { [35, 53, 54, 58, 59, 60, 64, 66, 77, 80, 82, 83, 90, 91, 98].contains(curlCode) }
}

/// Sends requests through libcurl, one easy handle per request at a time; idle handles are
/// kept for reuse so connections and TLS sessions stay open.
final class KubeTransport: @unchecked Sendable {
    /// The user agent sent with every request.
    static let userAgent = "drctl/\(DRVersion.current)"
    private static let maxBodyBytes = 512 << 20

    private let baseURL: String
    private let hostHeader: String?
    private let connectTo: String?
    private let endpoint: KubeEndpoint
    private let proxy: String
    private let noProxy: String?
    private let pool = CurlHandlePool()

    init(endpoint: KubeEndpoint) throws {
        self.endpoint = endpoint
        guard let components = URLComponents(string: endpoint.server), let scheme = components.scheme?.lowercased(),
              let rawHost = components.host, !rawHost.isEmpty else {
            throw DRError(.config, "server \(endpoint.server) is not an http(s) URL")
        }
        let host = rawHost.contains(":") && !rawHost.hasPrefix("[") ? "[\(rawHost)]" : rawHost
        let port = components.port ?? (scheme == "https" ? 443 : 80)
        var prefix = components.percentEncodedPath
        while prefix.hasSuffix("/") { prefix.removeLast() }
        if let name = endpoint.tlsServerName, scheme == "https" {
            // curl verifies against the URL's host: put the TLS name there and connect to the real address.
            let nameHost = name.contains(":") && !name.hasPrefix("[") ? "[\(name)]" : name
            baseURL = "\(scheme)://\(nameHost):\(port)\(prefix)"
            connectTo = "\(nameHost):\(port):\(host):\(port)"
            hostHeader = components.port == nil ? host : "\(host):\(port)"
        } else {
            baseURL = "\(scheme)://\(host):\(port)\(prefix)"
            connectTo = nil
            hostHeader = nil
        }
        let env = endpoint.environment
        if let proxyURL = endpoint.proxyURL {
            proxy = proxyURL
            noProxy = nil
        } else {
            let names = scheme == "https" ? ["HTTPS_PROXY", "https_proxy"] : ["HTTP_PROXY", "http_proxy"]
            proxy = names.lazy.compactMap { env[$0] }.first { !$0.isEmpty } ?? ""
            noProxy = env["NO_PROXY"] ?? env["no_proxy"]
        }
    }


    /// The full URL of a request.
    func url(for request: KubeHTTPRequest) -> String {
        var url = baseURL + request.path
        if !request.query.isEmpty { url += "?" + KubePaths.query(request.query) }
        return url
    }


    /// Sends `request` once. Throws ``KubeTransportFailure`` when no HTTP answer came back.
    func perform(
        _ request: KubeHTTPRequest, credentials: KubeRequestCredentials, timeout: Duration, connectTimeout: Duration
    ) throws -> KubeHTTPResponse {
        let handle = try pool.checkout()
        defer { pool.checkin(handle) }
        let sink = ResponseSink()
        var headers: UnsafeMutablePointer<curl_slist>?
        var connectList: UnsafeMutablePointer<curl_slist>?
        defer {
            curl_slist_free_all(headers)
            curl_slist_free_all(connectList)
        }
        var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)

        func set(_ option: CURLoption, _ value: Int) { _ = drctl_curl_setopt_long(handle, option, value) }
        func set(_ option: CURLoption, _ value: String?) { _ = drctl_curl_setopt_string(handle, option, value) }
        func setBlob(_ option: CURLoption, _ bytes: [UInt8]) {
            var copy = bytes
            copy.withUnsafeMutableBytes { raw in
                var blob = curl_blob(data: raw.baseAddress, len: raw.count, flags: UInt32(CURL_BLOB_COPY))
                _ = drctl_curl_setopt_blob(handle, option, &blob)
            }
        }

        set(CURLOPT_URL, url(for: request))
        set(CURLOPT_NOSIGNAL, 1)
        set(CURLOPT_TIMEOUT_MS, Self.milliseconds(timeout))
        set(CURLOPT_CONNECTTIMEOUT_MS, Self.milliseconds(min(connectTimeout, timeout)))
        set(CURLOPT_USERAGENT, Self.userAgent)
        set(CURLOPT_ACCEPT_ENCODING, "")
        set(CURLOPT_FOLLOWLOCATION, 0)
        set(CURLOPT_PROXY, proxy)
        if let noProxy { set(CURLOPT_NOPROXY, noProxy) }

        // TLS: only the configured CA is trusted when one is given.
        if endpoint.insecureSkipTLSVerify {
            set(CURLOPT_SSL_VERIFYPEER, 0)
            set(CURLOPT_SSL_VERIFYHOST, 0)
        } else {
            set(CURLOPT_SSL_VERIFYPEER, 1)
            set(CURLOPT_SSL_VERIFYHOST, 2)
            switch endpoint.certificateAuthority {
            case .file(let path):
                set(CURLOPT_CAPATH, nil)
                set(CURLOPT_CAINFO, path)
            case .data(let bytes):
                set(CURLOPT_CAPATH, nil)
                set(CURLOPT_CAINFO, nil)
                setBlob(CURLOPT_CAINFO_BLOB, bytes)
            case nil:
                break
            }
        }
        if let certificate = credentials.clientCertificate, let key = credentials.clientKey {
            set(CURLOPT_SSLCERTTYPE, "PEM")
            set(CURLOPT_SSLKEYTYPE, "PEM")
            switch certificate {
            case .file(let path): set(CURLOPT_SSLCERT, path)
            case .data(let bytes): setBlob(CURLOPT_SSLCERT_BLOB, bytes)
            }
            switch key {
            case .file(let path): set(CURLOPT_SSLKEY, path)
            case .data(let bytes): setBlob(CURLOPT_SSLKEY_BLOB, bytes)
            }
        }
        if let connectTo {
            connectList = curl_slist_append(connectList, connectTo)
            _ = drctl_curl_setopt_slist(handle, CURLOPT_CONNECT_TO, connectList)
        }

        var headerLines = ["Accept: application/json", "Expect:"]
        if let hostHeader { headerLines.append("Host: \(hostHeader)") }
        if let contentType = request.contentType { headerLines.append("Content-Type: \(contentType)") }
        if let token = credentials.bearerToken, !token.isEmpty {
            headerLines.append("Authorization: Bearer \(token)")
        } else if let basic = credentials.basicAuth {
            headerLines.append("Authorization: Basic \(Data("\(basic.user):\(basic.password)".utf8).base64EncodedString())")
        }
        let auth = endpoint.auth
        if let user = auth.impersonateUser { headerLines.append("Impersonate-User: \(user)") }
        if let uid = auth.impersonateUID { headerLines.append("Impersonate-Uid: \(uid)") }
        for group in auth.impersonateGroups { headerLines.append("Impersonate-Group: \(group)") }
        for line in headerLines { headers = curl_slist_append(headers, line) }
        _ = drctl_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, headers)

        let sinkPointer = Unmanaged.passUnretained(sink).toOpaque()
        _ = drctl_curl_setopt_io_callback(handle, CURLOPT_WRITEFUNCTION) { buffer, size, count, userdata in
            guard let userdata else { return 0 }
            let sink = Unmanaged<ResponseSink>.fromOpaque(userdata).takeUnretainedValue()
            let length = size * count
            guard let buffer, length > 0 else { return length }
            guard sink.body.count + length <= KubeTransport.maxBodyBytes else { return 0 }
            buffer.withMemoryRebound(to: UInt8.self, capacity: length) {
                sink.body.append(contentsOf: UnsafeBufferPointer(start: $0, count: length))
            }
            return length
        }
        _ = drctl_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, sinkPointer)
        _ = drctl_curl_setopt_io_callback(handle, CURLOPT_HEADERFUNCTION) { buffer, size, count, userdata in
            guard let userdata else { return 0 }
            let sink = Unmanaged<ResponseSink>.fromOpaque(userdata).takeUnretainedValue()
            let length = size * count
            guard let buffer, length > 0 else { return length }
            let line = buffer.withMemoryRebound(to: UInt8.self, capacity: length) {
                String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
            }
            sink.header(line)
            return length
        }
        _ = drctl_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, sinkPointer)

        let code: CURLcode = errorBuffer.withUnsafeMutableBufferPointer { errorPointer in
            _ = drctl_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorPointer.baseAddress)
            switch request.method {
            case "GET":
                set(CURLOPT_HTTPGET, 1)
            case "HEAD":
                set(CURLOPT_NOBODY, 1)
            default:
                set(CURLOPT_CUSTOMREQUEST, request.method)
            }
            let sendsBody = ["POST", "PATCH", "PUT"].contains(request.method)
            guard let body = request.body ?? (sendsBody ? [] : nil) else {
                return curl_easy_perform(handle)
            }
            // libcurl does not copy POSTFIELDS: the storage lives until the transfer ends.
            // An empty body still gets a real (one byte, unsent) buffer so curl never reads stdin.
            let storage = body.isEmpty ? [0] : body
            return storage.withUnsafeBytes { raw in
                _ = drctl_curl_setopt_off_t(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count))
                _ = drctl_curl_setopt_pointer(handle, CURLOPT_POSTFIELDS, UnsafeMutableRawPointer(mutating: raw.baseAddress))
                return curl_easy_perform(handle)
            }
        }
        // The error buffer pointer must not outlive the buffer.
        _ = drctl_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, nil)

        guard code == CURLE_OK else {
            var detail = errorBuffer.withUnsafeBufferPointer { pointer in
                pointer.baseAddress.map { String(cString: $0) } ?? ""
            }
            if detail.isEmpty { detail = String(cString: curl_easy_strerror(code)) }
            throw KubeTransportFailure(curlCode: Int(code.rawValue), message: detail)
        }
        var status = 0
        _ = drctl_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return KubeHTTPResponse(status: status, headers: sink.headers, body: sink.body)
    }

    private static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        return max(1, Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000))
    }
}

/// Collects a response's body and headers from libcurl callbacks.
private final class ResponseSink {
    var body: [UInt8] = []
    var headers: [String: String] = [:]

    func header(_ line: String) {
        if line.hasPrefix("HTTP/") {
            headers = [:]  // a new response (after 100 Continue or a proxy CONNECT)
            return
        }
        guard let colon = line.firstIndex(of: ":") else { return }
        let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
        let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
        headers[name] = value
    }
}
