import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL

/// Collects one HTTP/1.1 request, authenticates it (bearer token or verified client certificate)
/// and writes the backend's answer.
final class HTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let backend: Backend
    private var head: HTTPRequestHead?
    private var body = ByteBuffer()

    init(backend: Backend) {
        self.backend = backend
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body.clear()
        case .body(var chunk):
            body.writeBuffer(&chunk)
        case .end:
            guard let head else { return }
            self.head = nil
            respond(context: context, head: head)
        }
    }

    private func respond(context: ChannelHandlerContext, head: HTTPRequestHead) {
        let (path, rawQuery) = Self.split(head.uri)
        var headers: [String: String] = [:]
        for (name, value) in head.headers {
            let key = name.lowercased()
            headers[key] = headers[key].map { "\($0),\(value)" } ?? value
        }
        var token: String?
        if let authorization = headers["authorization"], authorization.lowercased().hasPrefix("bearer ") {
            token = String(authorization.dropFirst(7)).trimmingCharacters(in: .whitespaces)
        }
        let request = APIRequest(
            method: head.method.rawValue, path: path, query: Self.parseQuery(rawQuery), rawQuery: rawQuery,
            headers: headers, body: Data(body.readableBytesView), user: nil)
        let response = backend.handle(request, bearerToken: token, certificateUser: certificateUser(context))

        let keepAlive = head.isKeepAlive && !response.close
        var responseHeaders = HTTPHeaders()
        responseHeaders.add(name: "Content-Type", value: response.contentType)
        responseHeaders.add(name: "Content-Length", value: String(response.body.count))
        responseHeaders.add(name: "Cache-Control", value: "no-cache, private")
        if response.status == 401 { responseHeaders.add(name: "WWW-Authenticate", value: "Bearer realm=\"kubernetes\"") }
        responseHeaders.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
        let responseHead = HTTPResponseHead(version: head.version, status: HTTPResponseStatus(statusCode: response.status),
                                            headers: responseHeaders)
        context.write(wrapOutboundOut(.head(responseHead)), promise: nil)
        var buffer = context.channel.allocator.buffer(capacity: response.body.count)
        buffer.writeBytes(response.body)
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        if keepAlive {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        } else {
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
        }
    }

    /// The user named by a client certificate the TLS layer verified against the CA.
    private func certificateUser(_ context: ChannelHandlerContext) -> String? {
        guard let handler = try? context.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self),
              let certificate = handler.peerCertificate, let der = try? certificate.toDERBytes() else { return nil }
        return CertificateAuthority.identity(fromDER: der)?.user
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    static func split(_ uri: String) -> (String, String) {
        guard let index = uri.firstIndex(of: "?") else { return (uri.removingPercentEncoding ?? uri, "") }
        let path = String(uri[..<index])
        return (path.removingPercentEncoding ?? path, String(uri[uri.index(after: index)...]))
    }

    static func parseQuery(_ raw: String) -> [String: String] {
        var result: [String: String] = [:]
        for pair in raw.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let decode = { (text: Substring) in
                String(text).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(text)
            }
            guard let key = parts.first else { continue }
            let name = decode(key)
            if result[name] == nil { result[name] = parts.count > 1 ? decode(parts[1]) : "" }
        }
        return result
    }
}
