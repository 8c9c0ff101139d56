#if canImport(Glibc)
import Glibc
#endif
import CCurl
import Foundation

/// One HTTP request to S3, already signed.
struct S3HTTPRequest: Sendable {
    var method: String
    var url: String
    /// Header lines (`Name: value`), `Authorization` and `Host` included.
    var headers: [String]
}

/// What a request sends.
enum S3RequestBody: Sendable {
    case none
    case bytes([UInt8])
    /// `length` bytes of a file from `offset`, read as curl sends them.
    case file(path: String, offset: Int64, length: Int64)

    var length: Int64 {
        switch self {
        case .none: 0
        case .bytes(let bytes): Int64(bytes.count)
        case .file(_, _, let length): length
        }
    }
}

/// The answer: status, headers, and the body when it was collected (errors, XML listings).
struct S3HTTPResponse: Sendable {
    var status: Int
    /// Names lowercased; the last value wins.
    var headers: [String: String]
    /// Collected body (non-2xx answers always; 2xx ones unless streamed to a consumer).
    var body: [UInt8]
    /// Bytes passed to the consumer.
    var streamed: Int64 = 0
}

/// No HTTP answer: connection, TLS or timeout failure (or an abort asked for by the caller).
struct S3TransportFailure: Error, Sendable {
    var curlCode: Int
    var message: String

    /// Connection refused, DNS, resets, timeouts, a connection closed mid-answer.
    var isConnectionFailure: Bool { [5, 6, 7, 16, 18, 28, 52, 55, 56, 92].contains(curlCode) }
    var isTLS: Bool { [35, 53, 54, 58, 59, 60, 64, 66, 77, 80, 82, 83, 90, 91, 98].contains(curlCode) }
}

/// Sends S3 requests through libcurl; idle handles are kept so connections are reused.
/// Thread-safe: each request takes its own handle.
final class S3Transport: @unchecked Sendable {
    /// The most body bytes collected in memory (listings are ~300 KiB for 1000 keys).
    static let maxCollected = 32 << 20

    private let pool = CurlHandlePool()
    private let connectTimeout: Duration
    /// Abort when fewer than 1 byte/s moved for this long (whole-transfer timeouts would
    /// cut large uploads on slow links).
    private let stallTimeout: Duration
    private let proxy: String
    private let noProxy: String?

    init(connectTimeout: Duration, stallTimeout: Duration, proxy: String, noProxy: String?) {
        self.connectTimeout = connectTimeout
        self.stallTimeout = stallTimeout
        self.proxy = proxy
        self.noProxy = noProxy
    }



    /// Sends `request` once. A 2xx body goes to `consume` when given (else it is collected);
    /// `cancelled` is polled while sending a body. Throws ``S3TransportFailure`` when no
    /// answer came back, or the error `consume` threw.
    func perform(
        _ request: S3HTTPRequest, body: S3RequestBody,
        consume: ((UnsafeRawBufferPointer) throws -> Void)? = nil,
        cancelled: (@Sendable () -> Bool)? = nil
    ) throws -> S3HTTPResponse {
        let handle = try pool.checkout()
        var reusable = true
        defer {
            if reusable { pool.checkin(handle) } else { curl_easy_cleanup(handle) }
        }
        let context = TransferContext(handle: handle, consume: consume, cancelled: cancelled)
        if case .file(let path, let offset, _) = body {
            let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw DRError(.io, "cannot open \(path) for upload", cause: POSIXError.current) }
            context.fd = fd
            context.offset = offset
        }
        defer { if context.fd >= 0 { Glibc.close(context.fd) } }
        if case .file(_, _, let length) = body { context.remaining = length }

        var headers: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headers) }
        var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        func set(_ option: CURLoption, _ value: Int) { _ = drctl_curl_setopt_long(handle, option, value) }
        func set(_ option: CURLoption, _ value: String?) { _ = drctl_curl_setopt_string(handle, option, value) }

        set(CURLOPT_URL, request.url)
        set(CURLOPT_NOSIGNAL, 1)
        set(CURLOPT_CONNECTTIMEOUT_MS, Self.milliseconds(connectTimeout))
        set(CURLOPT_LOW_SPEED_LIMIT, 1)
        set(CURLOPT_LOW_SPEED_TIME, max(1, Int(stallTimeout.components.seconds)))
        set(CURLOPT_USERAGENT, "drctl/\(DRVersion.current)")
        set(CURLOPT_FOLLOWLOCATION, 0)
        set(CURLOPT_PROXY, proxy)
        if let noProxy { set(CURLOPT_NOPROXY, noProxy) }
        set(CURLOPT_SSL_VERIFYPEER, 1)
        set(CURLOPT_SSL_VERIFYHOST, 2)
        // No `Expect: 100-continue` round trip; no transparent decompression (bytes are hashed as stored).
        for line in request.headers + ["Expect:", "Accept-Encoding: identity"] {
            headers = curl_slist_append(headers, line)
        }
        _ = drctl_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, headers)

        let contextPointer = Unmanaged.passUnretained(context).toOpaque()
        _ = drctl_curl_setopt_io_callback(handle, CURLOPT_WRITEFUNCTION) { buffer, size, count, userdata in
            guard let userdata else { return 0 }
            let context = Unmanaged<TransferContext>.fromOpaque(userdata).takeUnretainedValue()
            let length = size * count
            guard let buffer, length > 0 else { return length }
            return context.received(UnsafeRawBufferPointer(start: buffer, count: length)) ? length : 0
        }
        _ = drctl_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, contextPointer)
        _ = drctl_curl_setopt_io_callback(handle, CURLOPT_HEADERFUNCTION) { buffer, size, count, userdata in
            guard let userdata else { return 0 }
            let context = Unmanaged<TransferContext>.fromOpaque(userdata).takeUnretainedValue()
            let length = size * count
            guard let buffer, length > 0 else { return length }
            context.header(String(decoding: UnsafeRawBufferPointer(start: buffer, count: length), as: UTF8.self))
            return length
        }
        _ = drctl_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, contextPointer)

        let code: CURLcode = errorBuffer.withUnsafeMutableBufferPointer { errorPointer in
            _ = drctl_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorPointer.baseAddress)
            switch request.method {
            case "GET": set(CURLOPT_HTTPGET, 1)
            case "HEAD": set(CURLOPT_NOBODY, 1)
            case "PUT": set(CURLOPT_UPLOAD, 1)
            default: set(CURLOPT_CUSTOMREQUEST, request.method)
            }
            switch body {
            case .none:
                if request.method == "PUT" {
                    _ = drctl_curl_setopt_off_t(handle, CURLOPT_INFILESIZE_LARGE, 0)
                } else if request.method == "POST" {
                    _ = drctl_curl_setopt_off_t(handle, CURLOPT_POSTFIELDSIZE_LARGE, 0)
                    set(CURLOPT_POSTFIELDS, "")
                }
                return curl_easy_perform(handle)
            case .bytes(let bytes) where request.method != "PUT":
                // libcurl does not copy POSTFIELDS: the storage lives until the transfer ends.
                let storage = bytes.isEmpty ? [0] : bytes
                return storage.withUnsafeBytes { raw in
                    _ = drctl_curl_setopt_off_t(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(bytes.count))
                    _ = drctl_curl_setopt_pointer(handle, CURLOPT_POSTFIELDS, UnsafeMutableRawPointer(mutating: raw.baseAddress))
                    return curl_easy_perform(handle)
                }
            case .bytes(let bytes):
                context.memory = bytes
                context.remaining = Int64(bytes.count)
                fallthrough
            case .file:
                _ = drctl_curl_setopt_off_t(handle, CURLOPT_INFILESIZE_LARGE, curl_off_t(body.length))
                _ = drctl_curl_setopt_io_callback(handle, CURLOPT_READFUNCTION) { buffer, size, count, userdata in
                    guard let userdata, let buffer else { return Int(CURL_READFUNC_ABORT) }
                    let context = Unmanaged<TransferContext>.fromOpaque(userdata).takeUnretainedValue()
                    return context.send(UnsafeMutableRawBufferPointer(start: buffer, count: size * count))
                }
                _ = drctl_curl_setopt_pointer(handle, CURLOPT_READDATA, contextPointer)
                return curl_easy_perform(handle)
            }
        }
        _ = drctl_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, nil)

        if let error = context.error {
            reusable = false
            throw error
        }
        guard code == CURLE_OK else {
            reusable = false
            var detail = errorBuffer.withUnsafeBufferPointer { $0.baseAddress.map { String(cString: $0) } ?? "" }
            if detail.isEmpty { detail = String(cString: curl_easy_strerror(code)) }
            throw S3TransportFailure(curlCode: Int(code.rawValue), message: detail)
        }
        var status = 0
        _ = drctl_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return S3HTTPResponse(status: status, headers: context.headers, body: context.collected, streamed: context.streamed)
    }

    static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        return max(1, Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000))
    }
}

/// State shared with libcurl's callbacks during one transfer.
private final class TransferContext {
    let handle: UnsafeMutableRawPointer
    let consume: ((UnsafeRawBufferPointer) throws -> Void)?
    let cancelled: (@Sendable () -> Bool)?
    var fd: Int32 = -1
    var offset: Int64 = 0
    var remaining: Int64 = 0
    var memory: [UInt8] = []
    var memoryOffset = 0
    var headers: [String: String] = [:]
    var collected: [UInt8] = []
    var streamed: Int64 = 0
    var error: (any Error)?

    init(handle: UnsafeMutableRawPointer, consume: ((UnsafeRawBufferPointer) throws -> Void)?, cancelled: (@Sendable () -> Bool)?) {
        self.handle = handle
        self.consume = consume
        self.cancelled = cancelled
    }

    func header(_ line: String) {
        if line.hasPrefix("HTTP/") {
            headers = [:]
            return
        }
        guard let colon = line.firstIndex(of: ":") else { return }
        let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
        headers[name] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A chunk of the answer's body; false aborts the transfer.
    func received(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var status = 0
        _ = drctl_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        if let consume, (200..<300).contains(status) {
            do {
                try consume(bytes)
                streamed += Int64(bytes.count)
                return true
            } catch {
                self.error = error
                return false
            }
        }
        guard collected.count + bytes.count <= S3Transport.maxCollected else {
            self.error = DRError(.failed, "S3 answered with more than \(S3Transport.maxCollected >> 20) MiB where a short document was expected")
            return false
        }
        collected.append(contentsOf: bytes)
        return true
    }

    /// Fills `buffer` with the next bytes of the request body.
    func send(_ buffer: UnsafeMutableRawBufferPointer) -> Int {
        if cancelled?() == true { return Int(CURL_READFUNC_ABORT) }
        let want = Int(min(Int64(buffer.count), remaining))
        guard want > 0 else { return 0 }
        if fd < 0 {
            memory.withUnsafeBytes { raw in
                buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[memoryOffset..<memoryOffset + want]))
            }
            memoryOffset += want
            remaining -= Int64(want)
            return want
        }
        while true {
            let n = pread(fd, buffer.baseAddress, want, off_t(offset))
            if n < 0, errno == EINTR { continue }
            guard n > 0 else {
                error = DRError(.io, "cannot read the upload's source file", cause: n < 0 ? POSIXError.current : nil)
                return Int(CURL_READFUNC_ABORT)
            }
            offset += Int64(n)
            remaining -= Int64(n)
            return n
        }
    }
}
