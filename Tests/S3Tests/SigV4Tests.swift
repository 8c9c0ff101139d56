import DRCore
import Foundation
import Testing

/// SigV4 against AWS's published test suite (Fixtures/sigv4: request, canonical request,
/// string to sign, Authorization header per vector).
@Suite("SigV4 test vectors")
struct SigV4Tests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/sigv4").path
    static let names: [String] = {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: fixtures)) ?? []
        return files.filter { $0.hasSuffix(".req") }.map { String($0.dropLast(4)) }.sorted()
    }()
    static let signer = SigV4(
        credentials: S3Credentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
        region: "us-east-1", service: "service")

    /// A `.req` file: request line, `Name:value` headers, blank line, body.
    static func request(_ name: String) throws -> (SigV4.Request, String) {
        let text = try String(contentsOfFile: "\(fixtures)/\(name).req", encoding: .utf8)
        let parts = text.components(separatedBy: "\n\n")
        var lines = parts[0].split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let body = parts.dropFirst().joined(separator: "\n\n")
        let requestLine = lines.removeFirst().split(separator: " ")
        let method = String(requestLine[0])
        // The target is everything between the method and the protocol (it may hold spaces).
        let target = requestLine.dropFirst().dropLast().joined(separator: " ")
        let path = String(target.prefix { $0 != "?" })
        var query: [(String, String)] = []
        if let mark = target.firstIndex(of: "?") {
            for pair in target[target.index(after: mark)...].split(separator: "&") {
                let key = String(pair.prefix { $0 != "=" })
                let value = pair.contains("=") ? String(pair.dropFirst(key.count + 1)) : ""
                query.append((key.removingPercentEncoding ?? key, value.removingPercentEncoding ?? value))
            }
        }
        var headers: [(String, String)] = []
        var amzDate = ""
        for line in lines {
            let colon = try #require(line.firstIndex(of: ":"))
            let name = String(line[..<colon])
            let value = String(line[line.index(after: colon)...])
            headers.append((name, value))
            if name.lowercased() == "x-amz-date" { amzDate = value }
        }
        let request = SigV4.Request(
            method: method, path: path, query: query, headers: headers, payloadHash: SigV4.sha256Hex(Array(body.utf8)))
        return (request, amzDate)
    }

    @Test("the fixture set is complete")
    func fixturesPresent() {
        #expect(Self.names.count >= 20)
        for required in ["get-vanilla", "get-vanilla-query-order-key-case", "post-x-www-form-urlencoded",
                         "get-header-value-trim", "get-vanilla-utf8-query", "post-sts-header-before"] {
            #expect(Self.names.contains(required), "missing vector \(required)")
        }
    }

    @Test("canonical request, string to sign and Authorization match AWS's", arguments: SigV4Tests.names)
    func vector(_ name: String) throws {
        let (request, amzDate) = try Self.request(name)
        let signature = Self.signer.sign(request, amzDate: amzDate)
        let creq = try String(contentsOfFile: "\(Self.fixtures)/\(name).creq", encoding: .utf8)
        let sts = try String(contentsOfFile: "\(Self.fixtures)/\(name).sts", encoding: .utf8)
        let authz = try String(contentsOfFile: "\(Self.fixtures)/\(name).authz", encoding: .utf8)
        #expect(signature.canonicalRequest == creq)
        #expect(signature.stringToSign == sts)
        #expect(signature.authorization == authz)
    }

    @Test("query encoding: unreserved characters kept, others %XX uppercase, space is %20, sorted after encoding")
    func queryEncoding() {
        #expect(SigV4.canonicalQuery([("b", "x y"), ("a", "1/2+3"), ("A", "é"), ("uploads", "")])
                == "A=%C3%A9&a=1%2F2%2B3&b=x%20y&uploads=")
        #expect(SigV4.uriEncode("dir/file name+1.txt", keepSlash: true) == "dir/file%20name%2B1.txt")
        #expect(SigV4.uriEncode("a/b") == "a%2Fb")
    }

    @Test("timestamps are UTC basic ISO 8601")
    func timestamp() {
        #expect(SigV4.timestamp(Date(timeIntervalSince1970: 1_440_938_160)) == "20150830T123600Z")
    }

    @Test("credentials never show the secret or token")
    func credentialsDescription() {
        let credentials = S3Credentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", sessionToken: "tok")
        #expect(!credentials.description.contains("wJalr"))
        #expect(!credentials.description.contains("tok"))
        #expect(credentials.description.contains("AKIA"))
    }
}
