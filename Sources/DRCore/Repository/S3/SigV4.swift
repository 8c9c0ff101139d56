public import Foundation
internal import Crypto

/// AWS Signature Version 4 (`AWS4-HMAC-SHA256`), written from the AWS specification
/// ("Create a signed AWS API request", the SigV4 test suite).
///
/// ```
/// canonical request = METHOD \n URI \n QUERY \n HEADERS \n \n SIGNED-HEADERS \n PAYLOAD-HASH
/// string to sign    = AWS4-HMAC-SHA256 \n DATE \n SCOPE \n hex(sha256(canonical request))
/// signing key       = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, yyyymmdd), region), service), "aws4_request")
/// ```
///
/// The path is used as given (already URI-encoded, never normalized: S3's rule); query
/// parameters and header values are canonicalized here.
public struct SigV4: Sendable {
    /// The payload hash S3 accepts when the body is not hashed (`x-amz-content-sha256`).
    public static let unsignedPayload = "UNSIGNED-PAYLOAD"
    /// The SHA-256 of no bytes.
    public static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    public var credentials: S3Credentials
    public var region: String
    public var service: String

    /// A signer for one region and service (`s3`).
    public init(credentials: S3Credentials, region: String, service: String = "s3") {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// A request as it is signed.
    public struct Request: Sendable {
        public var method: String
        /// The URI-encoded absolute path (`/bucket/key`).
        public var path: String
        /// Decoded query parameters; encoded and sorted when signing.
        public var query: [(String, String)]
        /// Headers to sign, `Host` included; names in any case, repeated names allowed.
        public var headers: [(String, String)]
        /// The hex SHA-256 of the body, or ``SigV4/unsignedPayload``.
        public var payloadHash: String

        public init(method: String, path: String, query: [(String, String)] = [], headers: [(String, String)], payloadHash: String) {
            self.method = method
            self.path = path
            self.query = query
            self.headers = headers
            self.payloadHash = payloadHash
        }
    }

    /// The pieces of one signature, for tests and debugging (no secret in them).
    public struct Signature: Sendable {
        public var canonicalRequest: String
        public var stringToSign: String
        public var signedHeaders: String
        public var signature: String
        /// The `Authorization` header's value.
        public var authorization: String
    }

    /// `20150830T123600Z`.
    public static func timestamp(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? TimeZone(secondsFromGMT: 0) ?? .current
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        func pad(_ value: Int?, _ width: Int) -> String {
            let text = String(value ?? 0)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(c.year, 4))\(pad(c.month, 2))\(pad(c.day, 2))T\(pad(c.hour, 2))\(pad(c.minute, 2))\(pad(c.second, 2))Z"
    }

    /// Signs `request` at `amzDate` (the value of its `X-Amz-Date` header).
    public func sign(_ request: Request, amzDate: String) -> Signature {
        let (canonical, signedHeaders) = Self.canonicalRequest(request)
        let day = String(amzDate.prefix(8))
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let stringToSign = "AWS4-HMAC-SHA256\n\(amzDate)\n\(scope)\n\(Self.sha256Hex(Array(canonical.utf8)))"
        let key = signingKey(day: day)
        let signature = Data(HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: key)).hexString
        let authorization = "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)"
        return Signature(canonicalRequest: canonical, stringToSign: stringToSign, signedHeaders: signedHeaders,
                         signature: signature, authorization: authorization)
    }

    /// The derived key for one day; HMAC chain over date, region, service and `aws4_request`.
    func signingKey(day: String) -> SymmetricKey {
        func mac(_ key: [UInt8], _ text: String) -> [UInt8] {
            Array(HMAC<SHA256>.authenticationCode(for: Array(text.utf8), using: SymmetricKey(data: key)))
        }
        let kDate = mac(Array("AWS4\(credentials.secretAccessKey)".utf8), day)
        let kRegion = mac(kDate, region)
        let kService = mac(kRegion, service)
        return SymmetricKey(data: mac(kService, "aws4_request"))
    }

    /// The canonical request and the signed-header list.
    static func canonicalRequest(_ request: Request) -> (String, String) {
        // Header names lowercased; values trimmed, inner runs of spaces collapsed; repeated
        // names joined with commas in their order; sorted by name.
        var merged: [String: [String]] = [:]
        for (name, value) in request.headers {
            merged[name.lowercased(), default: []].append(canonicalHeaderValue(value))
        }
        let names = merged.keys.sorted()
        var headerBlock = ""
        for name in names { headerBlock += "\(name):\(merged[name, default: []].joined(separator: ","))\n" }
        let signedHeaders = names.joined(separator: ";")
        let canonical = [
            request.method.uppercased(),
            request.path.isEmpty ? "/" : request.path,
            canonicalQuery(request.query),
            headerBlock,
            signedHeaders,
            request.payloadHash,
        ].joined(separator: "\n")
        return (canonical, signedHeaders)
    }

    /// Query parameters URI-encoded (unreserved characters kept, everything else `%XX`),
    /// sorted by encoded name, then value.
    public static func canonicalQuery(_ query: [(String, String)]) -> String {
        let encoded: [(String, String)] = query.map { pair in (uriEncode(pair.0), uriEncode(pair.1)) }
        let sorted = encoded.sorted { (a: (String, String), b: (String, String)) -> Bool in
            a.0 == b.0 ? a.1 < b.1 : a.0 < b.0
        }
        return sorted.map { pair in pair.0 + "=" + pair.1 }.joined(separator: "&")
    }

    /// Trims and collapses sequential spaces (outside of nothing: S3 headers carry no quoted strings that matter).
    static func canonicalHeaderValue(_ value: String) -> String {
        var out = ""
        var lastWasSpace = false
        for scalar in value.unicodeScalars {
            let isSpace = scalar == " " || scalar == "\t" || scalar == "\n" || scalar == "\r"
            if isSpace {
                if !lastWasSpace, !out.isEmpty { out.append(" ") }
                lastWasSpace = true
            } else {
                out.unicodeScalars.append(scalar)
                lastWasSpace = false
            }
        }
        if out.hasSuffix(" ") { out.removeLast() }
        return out
    }

    /// RFC 3986 encoding of SigV4: `A-Z a-z 0-9 - . _ ~` stay, every other UTF-8 byte is
    /// `%XX` (uppercase); `/` too unless `keepSlash` (object key paths).
    public static func uriEncode(_ text: String, keepSlash: Bool = false) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                 UInt8(ascii: "~"):
                out.append(byte)
            case UInt8(ascii: "/") where keepSlash:
                out.append(byte)
            default:
                out.append(UInt8(ascii: "%"))
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0x0f)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Lowercase hex SHA-256 of `bytes`.
    public static func sha256Hex(_ bytes: [UInt8]) -> String {
        Data(SHA256.hash(data: bytes)).hexString
    }
}
