import DRCore
import Foundation
import Testing
import TestSupport

/// Deterministic pseudo-random bytes (xorshift), so multipart content is not all zeros.
func patternBytes(_ count: Int, seed: UInt64 = 0x9E37_79B9_7F4A_7C15) -> [UInt8] {
    var state = seed
    var out = [UInt8](repeating: 0, count: count)
    var index = 0
    while index < count {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        withUnsafeBytes(of: state) { raw in
            for byte in raw where index < count {
                out[index] = byte
                index += 1
            }
        }
    }
    return out
}

func sha256Hex(_ bytes: [UInt8]) -> String { SigV4.sha256Hex(bytes) }

func hexBytes(_ hex: String) -> [UInt8] {
    var out: [UInt8] = []
    var index = hex.startIndex
    while let next = hex.index(index, offsetBy: 2, limitedBy: hex.endIndex), index < hex.endIndex {
        out.append(UInt8(hex[index..<next], radix: 16) ?? 0)
        index = next
    }
    return out
}

func sha256Hex(file: String) throws -> String { sha256Hex(try FileIO.read(file)) }

/// Options that keep retry tests quick and multipart small (S3's 5 MiB minimum part).
func quickOptions(retries: Int = 3) -> S3Client.Options {
    var options = S3Client.Options()
    options.retries = retries
    options.initialBackoff = .milliseconds(20)
    options.maxBackoff = .milliseconds(200)
    options.connectTimeout = .seconds(5)
    options.stallTimeout = .seconds(20)
    options.partSize = 5 << 20
    options.multipartThreshold = 5 << 20
    options.parallelParts = 3
    return options
}

func makeClient(_ moto: MotoServer, bucket: String, endpoint: String? = nil, secret: String? = nil,
                options: S3Client.Options = quickOptions()) throws -> S3Client {
    let environment = moto.environment(secret: secret)
    let credentials = try S3Credentials.resolve(file: nil, profile: nil, environment: environment.variables)
    return try S3Client(config: moto.config(bucket: bucket, endpoint: endpoint), credentials: credentials,
                        environment: environment.variables, options: options, logger: testLogger)
}

extension MotoSuite {
    @Suite("S3 client against moto_server")
    struct ClientTests {
        @Test("small object (key with a space): PUT, GET, HEAD, range GET; byte-identical through aws s3api, checksum stored")
        func smallRoundTrip() throws {
            let moto = try MotoServer.require()
            let bucket = try moto.makeBucket()
            let client = try makeClient(moto, bucket: bucket)
            let bytes = patternBytes(100_000)
            try client.put(key: "dir/small object_1", bytes: bytes)
            #expect(try client.getBytes(key: "dir/small object_1") == bytes)
            #expect(try client.head(key: "dir/small object_1")?.size == 100_000)
            var slice: [UInt8] = []
            let count = try client.get(key: "dir/small object_1", range: 1000...1999) { slice.append(contentsOf: $0) }
            #expect(count == 1000)
            #expect(slice == Array(bytes[1000...1999]))

            try withTemporaryDirectory { dir in
                try moto.awsChecked(["s3api", "get-object", "--bucket", bucket, "--key", "dir/small object_1", "\(dir)/out"])
                #expect(try FileIO.read("\(dir)/out") == bytes)
            }
            let head = try moto.awsChecked(["s3api", "head-object", "--bucket", bucket, "--key", "dir/small object_1", "--checksum-mode", "ENABLED"])
            let document = try JSONSerialization.jsonObject(with: Data(head.stdout)) as? [String: Any]
            let expected = Data(hexBytes(sha256Hex(bytes))).base64EncodedString()
            #expect(document?["ChecksumSHA256"] as? String == expected)
        }

        @Test("multipart: an object larger than the part size round-trips; aws reads it byte for byte; no upload left open")
        func multipartRoundTrip() throws {
            let moto = try MotoServer.require()
            let bucket = try moto.makeBucket()
            let client = try makeClient(moto, bucket: bucket)
            try withTemporaryDirectory { dir in
                let bytes = patternBytes((11 << 20) + 12_345)
                try Data(bytes).write(to: URL(fileURLWithPath: "\(dir)/big"))
                try client.putFile(key: "big", path: "\(dir)/big")
                #expect(try client.head(key: "big")?.size == Int64(bytes.count))
                #expect(sha256Hex(try client.getBytes(key: "big")) == sha256Hex(bytes))
                // A range across the first part boundary.
                var slice: [UInt8] = []
                try client.get(key: "big", range: Int64(5 << 20) - 100...Int64(5 << 20) + 99) { slice.append(contentsOf: $0) }
                #expect(slice == Array(bytes[(5 << 20) - 100...(5 << 20) + 99]))
                try moto.awsChecked(["s3api", "get-object", "--bucket", bucket, "--key", "big", "\(dir)/via-aws"])
                #expect(try sha256Hex(file: "\(dir)/via-aws") == sha256Hex(bytes))
                #expect(try moto.openUploads(bucket: bucket) == 0)
            }
        }

        @Test("ListObjectsV2 follows continuation tokens; DELETE removes; deleting a missing key succeeds")
        func listAndDelete() throws {
            let moto = try MotoServer.require()
            let bucket = try moto.makeBucket()
            let client = try makeClient(moto, bucket: bucket)
            let keys = (0..<7).map { "p/k\($0)" }
            for key in keys { try client.put(key: key, bytes: Array(key.utf8)) }
            try client.put(key: "other/x", bytes: [1])
            let listed = try client.list(prefix: "p/", maxKeys: 2)
            #expect(listed.map(\.key).sorted() == keys)
            #expect(listed.allSatisfy { $0.size == 4 && $0.lastModified != nil })
            try client.delete(key: "p/k3")
            try client.delete(key: "p/k3")
            #expect(try client.head(key: "p/k3") == nil)
            #expect(try client.list(prefix: "p/", maxKeys: 3).count == 6)
            #expect(try moto.listKeys(bucket: bucket, prefix: "p/") == keys.filter { $0 != "p/k3" })
        }

        @Test("what aws s3api put-object uploaded, drctl reads (whole and ranged)")
        func readsForeignUpload() throws {
            let moto = try MotoServer.require()
            let bucket = try moto.makeBucket()
            let client = try makeClient(moto, bucket: bucket)
            try withTemporaryDirectory { dir in
                let bytes = patternBytes(300_000, seed: 7)
                try Data(bytes).write(to: URL(fileURLWithPath: "\(dir)/in"))
                try moto.awsChecked(["s3api", "put-object", "--bucket", bucket, "--key", "from-aws", "--body", "\(dir)/in"])
                #expect(try client.getBytes(key: "from-aws") == bytes)
                var tail: [UInt8] = []
                try client.get(key: "from-aws", range: 299_990...299_999) { tail.append(contentsOf: $0) }
                #expect(tail == Array(bytes[299_990...]))
            }
        }

        @Test("a wrong secret gives a clear SignatureDoesNotMatch error naming method and key, without the secret; nothing is written")
        func wrongSecret() throws {
            let moto = try MotoServer.require()
            let bucket = try moto.makeBucket()
            let client = try makeClient(moto, bucket: bucket, secret: "not-the-secret-Zq9")
            let error = try #require(throws: DRError.self) { try client.put(key: "x", bytes: [1, 2, 3]) }
            #expect(error.s3Error?.code == "SignatureDoesNotMatch")
            #expect(error.message.contains("PUT s3://\(bucket)/x"))
            #expect(error.message.contains("SignatureDoesNotMatch"))
            #expect(error.hint?.contains("credentials") == true)
            #expect(!error.description.contains("not-the-secret-Zq9"))
            #expect(!error.description.contains(moto.secretAccessKey))
            #expect(error.code.exitCode == DRError.Code.failed.exitCode)
            #expect(try moto.listKeys(bucket: bucket).isEmpty)
        }

        @Test("a missing bucket is NoSuchBucket (not found)")
        func missingBucket() throws {
            let moto = try MotoServer.require()
            let client = try makeClient(moto, bucket: "no-such-bucket-drctl")
            let error = try #require(throws: DRError.self) { try client.put(key: "x", bytes: [1]) }
            #expect(error.code == .notFound)
            #expect(error.s3Error?.code == "NoSuchBucket")
        }

        @Test("an unreachable endpoint is `unreachable`, the Kubernetes client's exit code")
        func unreachable() throws {
            let moto = try MotoServer.require()
            let port = try freePort()
            let client = try makeClient(moto, bucket: "b-unreachable", endpoint: "http://127.0.0.1:\(port)", options: quickOptions(retries: 1))
            let error = try #require(throws: DRError.self) { _ = try client.head(key: "x") }
            #expect(error.code == .unreachable)
            #expect(error.code.exitCode == 7)
            #expect(error.message.contains("cannot reach"))
        }

        @Test("a 500 for one part is retried and the upload completes")
        func partFailsOnce() throws {
            let moto = try MotoServer.require()
            let bucket = try moto.makeBucket()
            let hits = HitCounter()
            let proxy = try FaultProxy(upstream: moto.port) { method, target in
                method == "PUT" && target.contains("partNumber=2") && hits.next() == 1 ? .fail500 : .pass
            }
            defer { proxy.stop() }
            let client = try makeClient(moto, bucket: bucket, endpoint: proxy.endpoint)
            try withTemporaryDirectory { dir in
                let bytes = patternBytes((10 << 20) + 1)
                try Data(bytes).write(to: URL(fileURLWithPath: "\(dir)/big"))
                try client.putFile(key: "big", path: "\(dir)/big")
                #expect(proxy.requests.filter { $0.request.contains("partNumber=2") }.count == 2)
                #expect(proxy.requests.contains { if case .fail500 = $0.action { true } else { false } })
                try moto.awsChecked(["s3api", "get-object", "--bucket", bucket, "--key", "big", "\(dir)/via-aws"])
                #expect(try sha256Hex(file: "\(dir)/via-aws") == sha256Hex(bytes))
            }
        }

        @Test("a connection dropped on every try of one part aborts the upload: no object, no open upload")
        func partKeepsDropping() throws {
            let moto = try MotoServer.require()
            let bucket = try moto.makeBucket()
            let proxy = try FaultProxy(upstream: moto.port) { method, target in
                method == "PUT" && target.contains("partNumber=2") ? .drop : .pass
            }
            defer { proxy.stop() }
            let client = try makeClient(moto, bucket: bucket, endpoint: proxy.endpoint, options: quickOptions(retries: 2))
            try withTemporaryDirectory { dir in
                try Data(patternBytes((10 << 20) + 1)).write(to: URL(fileURLWithPath: "\(dir)/big"))
                let error = try #require(throws: DRError.self) { try client.putFile(key: "big", path: "\(dir)/big") }
                #expect(error.code == .unreachable)
                #expect(error.message.contains("part 2"))
                #expect(proxy.requests.filter { $0.request.contains("partNumber=2") }.count == 3)
                #expect(proxy.requests.contains { $0.request.hasPrefix("DELETE") && $0.request.contains("uploadId=") })
            }
            #expect(try moto.listKeys(bucket: bucket).isEmpty)
            #expect(try moto.openUploads(bucket: bucket) == 0)
        }

        @Test("a single PUT whose connection drops once is sent again and lands whole")
        func putDropsOnce() throws {
            let moto = try MotoServer.require()
            let bucket = try moto.makeBucket()
            let hits = HitCounter()
            let proxy = try FaultProxy(upstream: moto.port) { method, _ in
                method == "PUT" && hits.next() == 1 ? .drop : .pass
            }
            defer { proxy.stop() }
            let client = try makeClient(moto, bucket: bucket, endpoint: proxy.endpoint)
            let bytes = patternBytes(2 << 20, seed: 3)
            try client.put(key: "k", bytes: bytes)
            #expect(proxy.requests.filter { $0.request.hasPrefix("PUT") }.count == 2)
            #expect(try client.getBytes(key: "k") == bytes)
        }
    }
}
