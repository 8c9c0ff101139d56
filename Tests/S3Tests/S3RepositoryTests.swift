import DRCore
import Foundation
import Testing
import TestSupport

extension MotoSuite {
    @Suite("S3Repository against moto_server")
    struct RepositoryTests {
        func makeRepository(_ moto: MotoServer, bucket: String, tmp: String, secret: String? = nil) throws -> S3Repository {
            try S3Repository.create(
                name: "offsite", config: moto.config(bucket: bucket), environment: moto.environment(secret: secret),
                tmpDir: tmp, options: quickOptions(), logger: testLogger)
        }

        @Test("create writes <prefix>/config; objects and manifests land at LocalRepository's keys; read, open, list, size, delete")
        func layoutAndRoundTrip() throws {
            let moto = try MotoServer.require()
            let bucket = try moto.makeBucket()
            try withTemporaryDirectory { dir in
                let repository = try makeRepository(moto, bucket: bucket, tmp: "\(dir)/tmp")
                #expect(repository.repositoryID.count == 32)
                let again = try S3Repository(name: "offsite", config: moto.config(bucket: bucket), environment: moto.environment(),
                                             tmpDir: "\(dir)/tmp", logger: testLogger)
                #expect(again.repositoryID == repository.repositoryID)

                let small = patternBytes(70_000, seed: 11)
                let data = try repository.write(type: .data) { emit in
                    try small.withUnsafeBytes { try emit(UnsafeRawBufferPointer(rebasing: $0[0..<30_000])) }
                    try small.withUnsafeBytes { try emit(UnsafeRawBufferPointer(rebasing: $0[30_000...])) }
                }
                #expect(data.sha256 == sha256Hex(small))
                #expect(data.size == 70_000)
                let manifest = try repository.write(type: .manifest) { emit in
                    try Array("{}".utf8).withUnsafeBytes { try emit($0) }
                }
                #expect(try moto.listKeys(bucket: bucket, prefix: "drctl/") == [
                    "drctl/config", "drctl/objects/\(data.sha256.prefix(2))/\(data.sha256)", "drctl/snapshots/\(manifest.sha256)",
                ].sorted())
                #expect(try FileManager.default.contentsOfDirectory(atPath: "\(dir)/tmp").isEmpty, "temporary files are removed")

                var read: [UInt8] = []
                try repository.read(data) { read.append(contentsOf: $0) }
                #expect(read == small)
                let stream = try repository.open(data)
                var pulled: [UInt8] = []
                var buffer = [UInt8](repeating: 0, count: 4096)
                while true {
                    let n = try buffer.withUnsafeMutableBytes { try stream.read(into: $0) }
                    if n == 0 { break }
                    pulled += buffer[0..<n]
                }
                #expect(pulled == small)
                #expect(try repository.list(.data) == [data.sha256])
                #expect(try repository.list(.manifest) == [manifest.sha256])
                #expect(repository.size(of: .data, sha256: data.sha256) == 70_000)
                #expect(repository.modificationDate(of: .data, sha256: data.sha256) != nil)
                try repository.delete(.data, sha256: data.sha256)
                #expect(repository.size(of: .data, sha256: data.sha256) == nil)
                let missing = try #require(throws: DRError.self) { try repository.read(data) { _ in } }
                #expect(missing.code == .dataCorrupt)
                #expect(missing.message.contains("missing"))
            }
        }

        @Test("an object damaged in the bucket fails read and open with dataCorrupt")
        func corruptObject() throws {
            let moto = try MotoServer.require()
            let bucket = try moto.makeBucket()
            try withTemporaryDirectory { dir in
                let repository = try makeRepository(moto, bucket: bucket, tmp: "\(dir)/tmp")
                let bytes = patternBytes(50_000, seed: 5)
                let object = try repository.write(type: .data) { emit in try bytes.withUnsafeBytes { try emit($0) } }
                var damaged = bytes
                damaged[123] ^= 0xff
                try Data(damaged).write(to: URL(fileURLWithPath: "\(dir)/damaged"))
                try moto.awsChecked(["s3api", "put-object", "--bucket", bucket, "--key",
                                     "drctl/objects/\(object.sha256.prefix(2))/\(object.sha256)", "--body", "\(dir)/damaged"])
                let error = try #require(throws: DRError.self) { try repository.read(object) { _ in } }
                #expect(error.code == .dataCorrupt)
                let stream = try repository.open(object)
                var buffer = [UInt8](repeating: 0, count: 1 << 16)
                let streamError = try #require(throws: DRError.self) {
                    while try buffer.withUnsafeMutableBytes({ try stream.read(into: $0) }) > 0 {}
                }
                #expect(streamError.code == .dataCorrupt)

                // Longer than recorded, with the recorded bytes intact: the size check catches it.
                try Data(bytes + [1, 2, 3]).write(to: URL(fileURLWithPath: "\(dir)/longer"))
                try moto.awsChecked(["s3api", "put-object", "--bucket", bucket, "--key",
                                     "drctl/objects/\(object.sha256.prefix(2))/\(object.sha256)", "--body", "\(dir)/longer"])
                let longer = try repository.open(object)
                let longerError = try #require(throws: DRError.self) {
                    while try buffer.withUnsafeMutableBytes({ try longer.read(into: $0) }) > 0 {}
                }
                #expect(longerError.code == .dataCorrupt)
            }
        }

        @Test("create refuses a prefix that holds objects but no config, and a missing bucket")
        func createRefusals() throws {
            let moto = try MotoServer.require()
            let bucket = try moto.makeBucket()
            let client = try makeClient(moto, bucket: bucket)
            try client.put(key: "drctl/something-else", bytes: [1])
            try withTemporaryDirectory { dir in
                let error = try #require(throws: DRError.self) { try makeRepository(moto, bucket: bucket, tmp: dir) }
                #expect(error.code == .refused)
                #expect(error.message.contains("not empty"))
                let noBucket = try #require(throws: DRError.self) {
                    try makeRepository(moto, bucket: "drctl-no-such-bucket", tmp: dir)
                }
                #expect(noBucket.code == .notFound)
                #expect(noBucket.message.contains("does not exist"))
                let notThere = try #require(throws: DRError.self) {
                    try S3Repository(name: "x", config: moto.config(bucket: bucket, prefix: "empty"), environment: moto.environment(),
                                     tmpDir: dir, logger: testLogger)
                }
                #expect(notThere.code == .notFound)
                #expect(notThere.message.contains("no drctl repository"))
            }
        }

        @Test("a multipart write through the repository (object larger than the part size) reads back")
        func multipartWrite() throws {
            let moto = try MotoServer.require()
            let bucket = try moto.makeBucket()
            try withTemporaryDirectory { dir in
                let repository = try makeRepository(moto, bucket: bucket, tmp: "\(dir)/tmp")
                let chunk = patternBytes(1 << 20, seed: 9)
                let object = try repository.write(type: .data) { emit in
                    for index in 0..<12 {
                        var piece = chunk
                        piece[0] = UInt8(index)
                        try piece.withUnsafeBytes { try emit($0) }
                    }
                }
                #expect(object.size == 12 << 20)
                var hashed: [UInt8] = []
                try repository.read(object) { hashed.append(contentsOf: $0) }
                #expect(sha256Hex(hashed) == object.sha256)
                #expect(try moto.openUploads(bucket: bucket) == 0)
            }
        }

        @Test("with a wrong secret nothing is written and the error names SignatureDoesNotMatch")
        func wrongSecretWritesNothing() throws {
            let moto = try MotoServer.require()
            let bucket = try moto.makeBucket()
            try withTemporaryDirectory { dir in
                let error = try #require(throws: DRError.self) {
                    try makeRepository(moto, bucket: bucket, tmp: dir, secret: "wrong-secret")
                }
                #expect(error.s3Error?.code == "SignatureDoesNotMatch")
                #expect(!error.description.contains("wrong-secret"))
            }
            #expect(try moto.listKeys(bucket: bucket).isEmpty)
        }
    }
}
