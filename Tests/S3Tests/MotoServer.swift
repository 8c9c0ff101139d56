#if canImport(Glibc)
import Glibc
#endif
import DRCore
import Foundation
import Testing
import TestSupport

/// `moto_server` on 127.0.0.1 with SigV4 checking on: started with
/// `INITIAL_NO_AUTH_ACTION_COUNT=4`, the first four (unsigned) calls create an IAM user, a
/// policy allowing `s3:*`, its attachment and an access key; from then on every request must be
/// signed with that key. One server serves every S3 suite (``MotoSuite``); each test makes
/// its own bucket.
final class MotoServer: @unchecked Sendable {
    @TaskLocal static var current: MotoServer?

    let port: Int
    let accessKeyID: String
    let secretAccessKey: String
    let aws: String
    private let process: Process
    private let logFile: String
    private let lock = NSLock()
    private var stopped = false

    var endpoint: String { "http://127.0.0.1:\(port)" }

    /// The running server of the enclosing ``MotoSuite``.
    static func require() throws -> MotoServer {
        guard let current else {
            throw DRError(.failed, "no moto_server: S3 tests must run inside MotoSuite (its trait starts the server)")
        }
        return current
    }

    /// A tool from `DRCTL_MOTO_SERVER` / `DRCTL_AWS`, else scripts/test's venv
    /// (`.build/pyenv/bin`), else PATH.
    static func locate(_ tool: String, variable: String) -> String? {
        let environment = ProcessInfo.processInfo.environment
        if let explicit = environment[variable], !explicit.isEmpty { return explicit }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let venv = root.appendingPathComponent(".build/pyenv/bin/\(tool)").path
        if FileManager.default.isExecutableFile(atPath: venv) { return venv }
        return Environment.current.which(tool)
    }

    /// Starts the server, waits until it answers, and provisions the IAM user and key.
    static func start() throws -> MotoServer {
        guard let moto = locate("moto_server", variable: "DRCTL_MOTO_SERVER") else {
            throw DRError(.missingTool, "moto_server is not installed; scripts/test installs it (pip install 'moto[server]' into .build/pyenv), or set DRCTL_MOTO_SERVER, or DRCTL_SKIP_S3=1 to skip the S3 tests")
        }
        guard let aws = locate("aws", variable: "DRCTL_AWS") else {
            throw DRError(.missingTool, "the aws CLI is not installed; scripts/test installs it (pip install awscli into .build/pyenv), or set DRCTL_AWS, or DRCTL_SKIP_S3=1 to skip the S3 tests")
        }
        let port = try freePort()
        let logFile = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-moto-\(port).log").path
        _ = FileManager.default.createFile(atPath: logFile, contents: nil)
        let process = Process()
        // `timeout` bounds its life even if the test process dies; it forwards SIGTERM to moto.
        process.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        process.arguments = ["-s", "KILL", "3600", moto, "-H", "127.0.0.1", "-p", String(port)]
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("AWS_") && !$0.key.hasPrefix("MOTO") }
        environment["INITIAL_NO_AUTH_ACTION_COUNT"] = "4"
        // Fixtures/moto-patch/sitecustomize.py: moto verifies signatures against the query as sent (see there).
        let patch = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/moto-patch").path
        environment["PYTHONPATH"] = [patch, environment["PYTHONPATH"]].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ":")
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        let log = FileHandle(forWritingAtPath: logFile)
        process.standardOutput = log
        process.standardError = log
        try process.run()
        let deadline = ContinuousClock.now + .seconds(60)
        // /moto-api/ does not count against INITIAL_NO_AUTH_ACTION_COUNT.
        while httpStatus(port: port, path: "/moto-api/") != 200 {
            guard ContinuousClock.now < deadline, process.isRunning else {
                if process.isRunning { process.terminate() }
                process.waitUntilExit()
                let text = (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? ""
                throw DRError(.unreachable, "moto_server on 127.0.0.1:\(port) did not start: \(text.suffix(2000))")
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        let bootstrap = MotoServer(port: port, accessKeyID: "bootstrap", secretAccessKey: "bootstrap", aws: aws,
                                   process: process, logFile: logFile)
        do {
            let policy = #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#
            try bootstrap.awsChecked(["iam", "create-user", "--user-name", "drctl"])
            let created = try bootstrap.awsChecked(["iam", "create-policy", "--policy-name", "s3-all", "--policy-document", policy])
            let policyDocument = try JSONSerialization.jsonObject(with: Data(created.stdout)) as? [String: Any]
            let arn = try unwrap((policyDocument?["Policy"] as? [String: Any])?["Arn"] as? String, "create-policy gave no Arn")
            try bootstrap.awsChecked(["iam", "attach-user-policy", "--user-name", "drctl", "--policy-arn", arn])
            let key = try bootstrap.awsChecked(["iam", "create-access-key", "--user-name", "drctl"])
            let keyDocument = try JSONSerialization.jsonObject(with: Data(key.stdout)) as? [String: Any]
            let access = keyDocument?["AccessKey"] as? [String: Any]
            return MotoServer(
                port: port, accessKeyID: try unwrap(access?["AccessKeyId"] as? String, "create-access-key gave no key id"),
                secretAccessKey: try unwrap(access?["SecretAccessKey"] as? String, "create-access-key gave no secret"),
                aws: aws, process: process, logFile: logFile)
        } catch {
            bootstrap.stop()
            throw error
        }
    }

    private init(port: Int, accessKeyID: String, secretAccessKey: String, aws: String, process: Process, logFile: String) {
        self.port = port
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.aws = aws
        self.process = process
        self.logFile = logFile
    }

    /// Kills moto with SIGKILL (a test runner's children may have SIGTERM blocked) and waits
    /// until the `timeout` around it has reaped it and exited.
    func stop() {
        lock.lock()
        defer { lock.unlock() }
        guard !stopped else { return }
        stopped = true
        let pid = process.processIdentifier
        let children = (try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)) ?? ""
        for child in children.split(separator: " ").compactMap({ Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }) {
            kill(child, SIGKILL)
        }
        // `timeout` reaps moto and exits; kill it too if it does not.
        let deadline = ContinuousClock.now + .seconds(10)
        while process.isRunning, ContinuousClock.now < deadline { Thread.sleep(forTimeInterval: 0.02) }
        if process.isRunning { kill(pid, SIGKILL) }
        try? FileManager.default.removeItem(atPath: logFile)
    }

    /// The environment drctl reads credentials from (the test's own, never the process's).
    func environment(secret: String? = nil) -> Environment {
        var environment = Environment.current
        for name in environment.variables.keys where name.hasPrefix("AWS_") { environment[name] = nil }
        environment["AWS_ACCESS_KEY_ID"] = accessKeyID
        environment["AWS_SECRET_ACCESS_KEY"] = secret ?? secretAccessKey
        environment["AWS_REGION"] = "us-east-1"
        for name in ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"] { environment[name] = nil }
        return environment
    }

    /// An S3 repository location in `bucket` on this server.
    func config(bucket: String, prefix: String = "drctl", endpoint: String? = nil) -> S3RepositoryConfig {
        S3RepositoryConfig(bucket: bucket, prefix: prefix, endpoint: endpoint ?? self.endpoint, region: "us-east-1")
    }

    /// Runs `aws --endpoint-url … ARGS` (the independent client) with this server's key.
    @discardableResult
    func aws(_ arguments: [String]) throws -> Command.Result {
        var environment = self.environment()
        environment["AWS_DEFAULT_REGION"] = "us-east-1"
        environment["AWS_PAGER"] = ""
        environment["AWS_CONFIG_FILE"] = "/dev/null"
        environment["AWS_SHARED_CREDENTIALS_FILE"] = "/dev/null"
        environment["AWS_EC2_METADATA_DISABLED"] = "true"
        var command = Command(aws, ["--endpoint-url", endpoint, "--output", "json"] + arguments, environment: environment)
        command.timeout = .seconds(120)
        return try command.run()
    }

    /// Like ``aws(_:)`` but fails on a non-zero exit, with aws's stderr.
    @discardableResult
    func awsChecked(_ arguments: [String]) throws -> Command.Result {
        let result = try aws(arguments)
        guard result.succeeded else {
            throw DRError(.failed, "aws \(arguments.prefix(2).joined(separator: " ")) failed (\(result.status)): \(result.stderr) \(result.stdoutText)")
        }
        return result
    }

    /// A new bucket with a unique name.
    func makeBucket(objectLock: Bool = false) throws -> String {
        let name = "t-\(UUID().uuidString.lowercased().prefix(13))"
        try awsChecked(["s3api", "create-bucket", "--bucket", name] + (objectLock ? ["--object-lock-enabled-for-bucket"] : []))
        return name
    }

    /// Keys under `prefix` as the aws CLI lists them.
    func listKeys(bucket: String, prefix: String = "") throws -> [String] {
        let result = try awsChecked(["s3api", "list-objects-v2", "--bucket", bucket, "--prefix", prefix])
        guard !result.stdout.isEmpty else { return [] }
        let document = try JSONSerialization.jsonObject(with: Data(result.stdout)) as? [String: Any]
        return ((document?["Contents"] as? [[String: Any]]) ?? []).compactMap { $0["Key"] as? String }.sorted()
    }

    /// Multipart uploads still open in `bucket`.
    func openUploads(bucket: String) throws -> Int {
        let result = try awsChecked(["s3api", "list-multipart-uploads", "--bucket", bucket])
        guard !result.stdout.isEmpty else { return 0 }
        let document = try JSONSerialization.jsonObject(with: Data(result.stdout)) as? [String: Any]
        return (document?["Uploads"] as? [[String: Any]])?.count ?? 0
    }
}

/// Starts one moto_server around the suite it marks and stops it afterwards.
struct MotoServerTrait: SuiteTrait, TestScoping {
    var isRecursive: Bool { false }

    func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        let server = try await blocking { try MotoServer.start() }
        do {
            try await MotoServer.$current.withValue(server) { try await function() }
        } catch {
            server.stop()
            throw error
        }
        server.stop()
    }
}

extension Trait where Self == MotoServerTrait {
    /// A moto_server for every test of the suite.
    static var motoServer: Self { MotoServerTrait() }
}

/// All suites that talk to moto live in extensions of this one. `DRCTL_SKIP_S3=1` skips them;
/// otherwise a missing moto_server or aws CLI fails the run.
@Suite(.motoServer, .enabled(if: ProcessInfo.processInfo.environment["DRCTL_SKIP_S3"] == nil, "DRCTL_SKIP_S3 is set"))
struct MotoSuite {}

/// `value`, or an error saying what was missing.
func unwrap<T>(_ value: T?, _ what: String) throws -> T {
    guard let value else { throw DRError(.failed, what) }
    return value
}

// MARK: - Loopback sockets

func loopbackAddress(port: Int) -> sockaddr_in {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = UInt16(port).bigEndian
    return address
}

/// A port nobody listens on right now.
func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw DRError(.io, "cannot open a socket") }
    defer { close(fd) }
    var address = loopbackAddress(port: 0)
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard bound else { throw DRError(.io, "cannot find a free port on 127.0.0.1") }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// Connects to 127.0.0.1:`port`; -1 on failure.
func connectLoopback(_ port: Int) -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return -1 }
    var address = loopbackAddress(port: port)
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
    }
    if !connected {
        close(fd)
        return -1
    }
    return fd
}

/// The status of `GET path` on 127.0.0.1:`port` (HTTP/1.0, one shot), or nil.
func httpStatus(port: Int, path: String) -> Int? {
    let fd = connectLoopback(port)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var timeout = timeval(tv_sec: 5, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    let request = Array("GET \(path) HTTP/1.0\r\nHost: 127.0.0.1:\(port)\r\n\r\n".utf8)
    guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == request.count else { return nil }
    var buffer = [UInt8](repeating: 0, count: 64)
    let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
    guard n > 12 else { return nil }
    return Int(String(decoding: buffer[9..<12], as: UTF8.self))
}
