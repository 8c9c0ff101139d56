import Foundation
import Logging

extension S3Client {
    /// One uploaded part.
    struct UploadedPart: Sendable {
        var number: Int
        var etag: String
        /// base64 SHA-256 of the part.
        var checksum: String
    }

    /// The parts' shared state while workers upload them.
    private final class PartQueue: @unchecked Sendable {
        private let lock = NSLock()
        private var next = 0
        private(set) var parts: [UploadedPart] = []
        private(set) var failure: (any Error)?
        let count: Int

        init(count: Int) { self.count = count }

        /// The next part index to upload, or nil when all are taken or one failed.
        func take() -> Int? {
            lock.lock()
            defer { lock.unlock() }
            guard failure == nil, next < count else { return nil }
            next += 1
            return next - 1
        }

        func done(_ part: UploadedPart) {
            lock.lock()
            parts.append(part)
            lock.unlock()
        }

        func fail(_ error: any Error) {
            lock.lock()
            if failure == nil || failure is S3Cancelled { failure = error }
            lock.unlock()
        }

        var cancelled: Bool {
            lock.lock()
            defer { lock.unlock() }
            return failure != nil
        }
    }

    /// Uploads a file in parts, ``Options/parallelParts`` at a time, each read from the file
    /// as it is sent (memory stays flat whatever the part size). Any failure aborts the
    /// upload, so no partial object ever becomes visible.
    func putMultipart(key: String, path: String, size: Int64) throws {
        var chosen = options.partSize
        while (size + chosen - 1) / chosen > Self.maximumParts { chosen *= 2 }
        let partSize = chosen
        let count = Int((size + partSize - 1) / partSize)
        let summary = "PUT s3://\(bucket)/\(key)"

        let created = try checked(try execute(summary: "\(summary) (create multipart upload)") {
            Operation(method: "POST", key: key, query: [("uploads", "")], headers: [("x-amz-checksum-algorithm", "SHA256")])
        }, summary: "\(summary) (create multipart upload)")
        guard let uploadID = S3XML(created.body).value("UploadId"), !uploadID.isEmpty else {
            throw DRError(.failed, "\(summary): S3 started a multipart upload but sent no UploadId")
        }
        logger.debug("s3 multipart upload", metadata: ["request": "\(summary)", "parts": "\(count)", "part_size": "\(partSize)"])

        let queue = PartQueue(count: count)
        let workers = min(options.parallelParts, count)
        let group = DispatchGroup()
        for _ in 0..<workers {
            group.enter()
            let thread = Thread { [self] in
                defer { group.leave() }
                while let index = queue.take() {
                    do {
                        let offset = Int64(index) * partSize
                        let part = try uploadPart(
                            key: key, uploadID: uploadID, number: index + 1, path: path, offset: offset,
                            length: min(partSize, size - offset), summary: summary, cancelled: { queue.cancelled })
                        queue.done(part)
                    } catch {
                        queue.fail(error)
                    }
                }
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        group.wait()

        do {
            if let failure = queue.failure { throw failure }
            try complete(key: key, uploadID: uploadID, parts: queue.parts.sorted { $0.number < $1.number },
                         size: size, summary: summary)
        } catch {
            abort(key: key, uploadID: uploadID, summary: summary)
            throw error
        }
    }

    private func uploadPart(
        key: String, uploadID: String, number: Int, path: String, offset: Int64, length: Int64,
        summary: String, cancelled: @escaping @Sendable () -> Bool
    ) throws -> UploadedPart {
        let digest = try Self.hashFile(path, offset: offset, length: length).hex
        let checksum = Self.base64(hex: digest)
        let partSummary = "\(summary) (part \(number))"
        let response = try checked(try execute(summary: partSummary, {
            Operation(
                method: "PUT", key: key, query: [("partNumber", String(number)), ("uploadId", uploadID)],
                headers: Self.checksumHeaders(hex: digest), body: .file(path: path, offset: offset, length: length),
                payloadHash: digest)
        }, cancelled: cancelled), summary: partSummary)
        guard let etag = response.headers["etag"], !etag.isEmpty else {
            throw DRError(.failed, "\(partSummary): S3 accepted the part but sent no ETag")
        }
        if let echoed = response.headers["x-amz-checksum-sha256"], echoed != checksum {
            throw DRError(.dataCorrupt, "\(partSummary): S3 stored the part with checksum \(echoed), expected \(checksum)")
        }
        return UploadedPart(number: number, etag: etag, checksum: checksum)
    }

    /// CompleteMultipartUpload. S3 can answer 200 with an `<Error>` body after a long wait:
    /// that is retried too. A retry that finds the upload gone checks the object instead.
    private func complete(key: String, uploadID: String, parts: [UploadedPart], size: Int64, summary: String) throws {
        var xml = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        for part in parts {
            xml += "<Part><PartNumber>\(part.number)</PartNumber><ETag>\(S3XML.escape(part.etag))</ETag>"
            xml += "<ChecksumSHA256>\(part.checksum)</ChecksumSHA256></Part>"
        }
        xml += "</CompleteMultipartUpload>"
        let body = Array(xml.utf8)
        let digest = SigV4.sha256Hex(body)
        let completeSummary = "\(summary) (complete multipart upload)"
        var attempt = 0
        while true {
            let response = try execute(summary: completeSummary) {
                Operation(method: "POST", key: key, query: [("uploadId", uploadID)],
                          headers: [("content-type", "application/xml")], body: .bytes(body), payloadHash: digest)
            }
            let embedded = (200..<300).contains(response.status) && S3XML(response.body).elements("Error").first != nil
            if (200..<300).contains(response.status), !embedded { return }
            let error = S3ServiceError(status: response.status, body: response.body, headers: response.headers)
            if attempt > 0, error.code == "NoSuchUpload", let info = try head(key: key), info.size == size {
                return  // an earlier attempt completed it
            }
            if embedded, ["InternalError", "SlowDown", "ServiceUnavailable"].contains(error.code ?? ""), attempt < options.retries {
                try pause(backoff(attempt), cancelled: nil)
                attempt += 1
                continue
            }
            var failed = response
            if embedded { failed.status = 500 }
            throw serviceError(failed, summary: completeSummary)
        }
    }

    /// AbortMultipartUpload, so S3 drops the parts; failures are logged (a bucket lifecycle
    /// rule for incomplete uploads is the backstop, docs/S3.md).
    private func abort(key: String, uploadID: String, summary: String) {
        let abortSummary = "\(summary) (abort multipart upload)"
        do {
            let response = try execute(summary: abortSummary) {
                Operation(method: "DELETE", key: key, query: [("uploadId", uploadID)])
            }
            if !(200..<300).contains(response.status), response.status != 404 {
                logger.warning("could not abort an S3 multipart upload; its parts stay until a lifecycle rule removes them",
                               metadata: ["request": "\(abortSummary)", "status": "\(response.status)"])
            }
        } catch {
            logger.warning("could not abort an S3 multipart upload; its parts stay until a lifecycle rule removes them",
                           metadata: ["request": "\(abortSummary)", "error": "\(DRError.describe(error))"])
        }
    }
}
