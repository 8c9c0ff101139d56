import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A plain-HTTP server on loopback that answers requests with canned responses, in order,
/// one per connection. For the few cases the fake API server does not script (Retry-After).
final class ScriptedHTTPServer: @unchecked Sendable {
    struct Response {
        var status: Int
        var headers: [String: String] = [:]
        var body: String
        /// How long to wait before answering.
        var delay: TimeInterval = 0
    }

    let port: Int
    private let listener: Int32
    private let lock = NSLock()
    private var script: [Response]
    private var received: [Request] = []
    private let finished = DispatchSemaphore(value: 0)

    /// One request as received.
    struct Request {
        /// `GET /version HTTP/1.1`.
        var line: String
        /// Header names lowercased; repeated headers joined with `, `.
        var headers: [String: String]
        var body: [UInt8]
        var at: Date
    }

    /// Requests in the order they arrived.
    var requests: [Request] {
        lock.lock()
        defer { lock.unlock() }
        return received
    }

    init(_ script: [Response]) throws {
        self.script = script
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            close(fd)
            throw POSIXError(.EADDRINUSE)
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        let thread = Thread { [self] in serve() }
        thread.start()
    }

    /// `http://127.0.0.1:PORT`.
    var url: String { "http://127.0.0.1:\(port)" }

    /// Stops accepting once the script is used up (or now); waits for the serving thread.
    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        _ = finished.wait(timeout: .now() + 5)
    }

    private func serve() {
        defer { finished.signal() }
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 { return }
            var request: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            var headEnd: Int?
            while headEnd == nil {
                let count = buffer.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
                if count <= 0 { break }
                request.append(contentsOf: buffer[0..<count])
                headEnd = request.endOfHead()
            }
            let end = headEnd ?? request.count
            let lines = String(decoding: request[..<end], as: UTF8.self).components(separatedBy: "\r\n")
            var headers: [String: String] = [:]
            for header in lines.dropFirst() {
                guard let colon = header.firstIndex(of: ":") else { continue }
                let name = header[..<colon].lowercased()
                let value = header[header.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                headers[name] = headers[name].map { "\($0), \(value)" } ?? value
            }
            var body = Array(request[min(end + 4, request.count)...])
            let expected = Int(headers["content-length"] ?? "") ?? 0
            while body.count < expected {
                let count = buffer.withUnsafeMutableBytes { recv(client, $0.baseAddress, min($0.count, expected - body.count), 0) }
                if count <= 0 { break }
                body.append(contentsOf: buffer[0..<count])
            }
            lock.lock()
            received.append(Request(line: lines.first ?? "", headers: headers, body: body, at: Date()))
            let response = script.isEmpty ? Response(status: 500, body: "script exhausted") : script.removeFirst()
            lock.unlock()
            if response.delay > 0 { Thread.sleep(forTimeInterval: response.delay) }
            var text = "HTTP/1.1 \(response.status) Scripted\r\nContent-Type: application/json\r\nConnection: close\r\n"
            text += "Content-Length: \(response.body.utf8.count)\r\n"
            for (name, value) in response.headers { text += "\(name): \(value)\r\n" }
            text += "\r\n" + response.body
            let bytes = Array(text.utf8)
            _ = bytes.withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            close(client)
        }
    }
}

extension Array where Element == UInt8 {
    /// Where the blank line ending an HTTP head starts, if it arrived.
    fileprivate func endOfHead() -> Int? {
        guard count >= 4 else { return nil }
        for index in 0...(count - 4) where self[index] == 13 && self[index + 1] == 10 && self[index + 2] == 13 && self[index + 3] == 10 {
            return index
        }
        return nil
    }
}
