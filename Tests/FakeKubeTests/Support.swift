import DRCore
import FakeKube
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// A per-test temporary directory, removed by `cleanup()`.
struct TempDir {
    let url: URL
    var path: String { url.path }

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("fakekube-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { url.appendingPathComponent(name).path }

    func write(_ name: String, _ text: String) throws -> String {
        let path = file(name)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    func cleanup() { try? FileManager.default.removeItem(at: url) }
}

/// How a test request authenticates.
enum Credential {
    case token(String)
    case certificate(certificatePEM: String, privateKeyPEM: String)
    case none
}

struct HTTPResult: Sendable {
    var status: Int
    var body: Data
    var json: JSONValue? { try? JSONValue.parse(json: body) }
    var text: String { String(decoding: body, as: UTF8.self) }
}

/// A minimal HTTPS client that trusts only the fake CA and checks the `localhost` SAN.
enum TestClient {
    static func send(
        _ server: FakeKubeServer, _ method: String, _ path: String, body: JSONValue? = nil, rawBody: Data? = nil,
        contentType: String = "application/json", accept: String = "application/json", credential: Credential
    ) async throws -> HTTPResult {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates([try NIOSSLCertificate(bytes: Array(server.caPEM.utf8), format: .pem)])
        tls.certificateVerification = .fullVerification
        if case .certificate(let certificate, let key) = credential {
            tls.certificateChain = [.certificate(try NIOSSLCertificate(bytes: Array(certificate.utf8), format: .pem))]
            tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: Array(key.utf8), format: .pem))
        }
        let context = try NIOSSLContext(configuration: tls)
        let group = MultiThreadedEventLoopGroup.singleton
        let promise = group.next().makePromise(of: HTTPResult.self)
        let channel = try await ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: "localhost"))
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(ResponseCollector(promise: promise))
                }
            }
            .connect(host: "127.0.0.1", port: server.port).get()
        let payload = try rawBody ?? body.map { try $0.jsonData() } ?? Data()
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: "127.0.0.1:\(server.port)")
        headers.add(name: "Accept", value: accept)
        headers.add(name: "Connection", value: "close")
        headers.add(name: "User-Agent", value: "fakekube-tests/1.0")
        headers.add(name: "Content-Length", value: String(payload.count))
        if !payload.isEmpty { headers.add(name: "Content-Type", value: contentType) }
        if case .token(let token) = credential { headers.add(name: "Authorization", value: "Bearer \(token)") }
        let head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: method), uri: path, headers: headers)
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        channel.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(bytes: payload))), promise: nil)
        try await channel.writeAndFlush(HTTPClientRequestPart.end(nil))
        return try await promise.futureResult.get()
    }

    private final class ResponseCollector: ChannelInboundHandler {
        typealias InboundIn = HTTPClientResponsePart
        let promise: EventLoopPromise<HTTPResult>
        var status = 0
        var body = Data()
        var done = false

        init(promise: EventLoopPromise<HTTPResult>) { self.promise = promise }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head): status = Int(head.status.code)
            case .body(let buffer): body.append(contentsOf: buffer.readableBytesView)
            case .end:
                done = true
                promise.succeed(HTTPResult(status: status, body: body))
                context.close(promise: nil)
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            if !done { promise.fail(ChannelError.eof) }
            done = true
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            if !done { promise.fail(error) }
            done = true
            context.close(promise: nil)
        }
    }
}

struct CommandResult: Sendable {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs a program with a timeout, no terminal, an explicit environment and output captured in files.
func runCommand(_ executable: String, _ arguments: [String], in dir: TempDir, environment: [String: String] = [:],
                timeoutSeconds: Int = 60) async throws -> CommandResult {
    let id = UUID().uuidString
    let outPath = dir.file("stdout-\(id)"), errPath = dir.file("stderr-\(id)")
    _ = FileManager.default.createFile(atPath: outPath, contents: nil)
    _ = FileManager.default.createFile(atPath: errPath, contents: nil)
    let out = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
    let err = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
    defer {
        try? out.close()
        try? err.close()
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
    process.arguments = ["--kill-after=5", String(timeoutSeconds), executable] + arguments
    var env = ["PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": dir.path, "LC_ALL": "C", "GIT_TERMINAL_PROMPT": "0",
               "GIT_CONFIG_NOSYSTEM": "1"]
    env.merge(environment) { $1 }
    process.environment = env
    process.currentDirectoryURL = dir.url
    process.standardInput = FileHandle.nullDevice
    process.standardOutput = out
    process.standardError = err
    let status: Int32 = try await withCheckedThrowingContinuation { continuation in
        process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
        do {
            try process.run()
        } catch {
            process.terminationHandler = nil
            continuation.resume(throwing: error)
        }
    }
    return CommandResult(
        status: status,
        stdout: String(decoding: (try? Data(contentsOf: URL(fileURLWithPath: outPath))) ?? Data(), as: UTF8.self),
        stderr: String(decoding: (try? Data(contentsOf: URL(fileURLWithPath: errPath))) ?? Data(), as: UTF8.self))
}

/// Polls `condition` until it holds or `timeout` passes; returns whether it held.
func eventually(timeout: Duration = .seconds(30), _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now.advanced(by: timeout)
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}

/// Builds JSON objects tersely from YAML text.
func yaml(_ text: String) throws -> JSONValue {
    guard let first = try JSONValue.parseYAMLDocuments(text).first else { throw CancellationError() }
    return first
}

/// A started server with a token for user `tester`.
func startServer(_ options: FakeKubeServer.Options = .init()) async throws -> (FakeKubeServer, Credential) {
    let server = try await FakeKubeServer.start(options: options)
    server.addToken("t0ken", user: "tester")
    return (server, .token("t0ken"))
}
