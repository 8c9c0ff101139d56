#if canImport(Glibc)
import Glibc
#endif
import DRCore
import Foundation

/// A plain HTTP/1.1 proxy on 127.0.0.1 in front of moto that injects failures moto cannot
/// produce: a `500 InternalError` for a chosen request, or a connection dropped halfway
/// through the request body. One request per connection (it asks moto to close after each).
final class FaultProxy: @unchecked Sendable {
    enum Action: Sendable {
        case pass
        /// Read the request, answer 500 InternalError.
        case fail500
        /// Read half of the body, then close the connection without an answer.
        case drop
    }

    let port: Int
    private let upstream: Int
    private let listener: Int32
    private let rule: @Sendable (_ method: String, _ target: String) -> Action
    private let lock = NSLock()
    private var log: [(String, Action)] = []
    private var stopped = false

    /// `METHOD target` and what was done, in arrival order.
    var requests: [(request: String, action: Action)] {
        lock.lock()
        defer { lock.unlock() }
        return log
    }

    var endpoint: String { "http://127.0.0.1:\(port)" }

    init(upstream: Int, rule: @escaping @Sendable (_ method: String, _ target: String) -> Action) throws {
        self.upstream = upstream
        self.rule = rule
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw DRError(.io, "proxy: cannot open a socket") }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = loopbackAddress(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && listen(fd, 64) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard ok else {
            close(fd)
            throw DRError(.io, "proxy: cannot listen on 127.0.0.1")
        }
        listener = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    deinit { stop() }

    func stop() {
        lock.lock()
        let wasStopped = stopped
        stopped = true
        lock.unlock()
        if !wasStopped {
            shutdown(listener, Int32(SHUT_RDWR))
            close(listener)
        }
    }

    private var isStopped: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopped
    }

    private func acceptLoop() {
        while !isStopped {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                return
            }
            let thread = Thread { [self] in
                handle(client)
                close(client)
            }
            thread.start()
        }
    }

    private func handle(_ client: Int32) {
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        guard var (head, rest) = readHead(client) else { return }
        let headText = String(decoding: head, as: UTF8.self)
        var lines = headText.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        guard !lines.isEmpty else { return }
        let requestLine = lines.removeFirst().split(separator: " ")
        guard requestLine.count >= 2 else { return }
        let method = String(requestLine[0])
        let target = String(requestLine[1])
        var contentLength = 0
        for line in lines where line.lowercased().hasPrefix("content-length:") {
            contentLength = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) ?? 0
        }
        let action = rule(method, target)
        lock.lock()
        log.append(("\(method) \(target)", action))
        lock.unlock()

        switch action {
        case .drop:
            _ = readBody(client, have: &rest, count: contentLength / 2, forward: nil)
            shutdown(client, Int32(SHUT_RDWR))
        case .fail500:
            _ = readBody(client, have: &rest, count: contentLength, forward: nil)
            let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>InternalError</Code><Message>injected by the test proxy</Message></Error>"
            let answer = "HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/xml\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
            writeAll(client, Array(answer.utf8))
        case .pass:
            let server = connectLoopback(upstream)
            guard server >= 0 else { return }
            defer { close(server) }
            var forwarded = lines.filter { !$0.lowercased().hasPrefix("connection:") }
            forwarded.insert(requestLine.joined(separator: " "), at: 0)
            forwarded.append("Connection: close")
            head = Array((forwarded.joined(separator: "\r\n") + "\r\n\r\n").utf8)
            guard writeAll(server, head), readBody(client, have: &rest, count: contentLength, forward: server) else { return }
            var buffer = [UInt8](repeating: 0, count: 64 << 10)
            while true {
                let n = buffer.withUnsafeMutableBytes { recv(server, $0.baseAddress, $0.count, 0) }
                if n <= 0 { break }
                guard writeAll(client, Array(buffer[0..<n])) else { break }
            }
        }
    }

    /// Reads until the blank line; returns the head (without it) and any bytes after it.
    private func readHead(_ fd: Int32) -> ([UInt8], [UInt8])? {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16 << 10)
        let marker: [UInt8] = [13, 10, 13, 10]
        while data.count < 1 << 20 {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return nil }
            data += buffer[0..<n]
            if let end = find(marker, in: data) {
                return (Array(data[..<end]), Array(data[(end + 4)...]))
            }
        }
        return nil
    }

    private func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for index in 0...(haystack.count - needle.count) where haystack[index..<index + needle.count].elementsEqual(needle) {
            return index
        }
        return nil
    }

    /// Reads `count` body bytes (starting with `have`), forwarding them when `forward` is set.
    private func readBody(_ fd: Int32, have: inout [UInt8], count: Int, forward: Int32?) -> Bool {
        var remaining = count
        let first = Array(have.prefix(remaining))
        have.removeFirst(first.count)
        remaining -= first.count
        if let forward, !first.isEmpty, !writeAll(forward, first) { return false }
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while remaining > 0 {
            let want = min(buffer.count, remaining)
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, want, 0) }
            if n <= 0 { return false }
            remaining -= n
            if let forward, !writeAll(forward, Array(buffer[0..<n])) { return false }
        }
        return true
    }

    @discardableResult
    private func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if n < 0, errno == EINTR { continue }
            if n <= 0 { return false }
            offset += n
        }
        return true
    }
}

/// Counts matching requests, so a rule can fire only the first time.
final class HitCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0

    /// The 1-based number of this hit.
    func next() -> Int {
        lock.lock()
        defer { lock.unlock() }
        count += 1
        return count
    }
}
