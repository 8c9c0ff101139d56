import Foundation

/// The little XML S3 answers with (`ListBucketResult`, `Error`, `InitiateMultipartUploadResult`
/// …): flat elements with text, no CDATA, no attributes that matter. A tag scanner is enough
/// and keeps libxml2 out of the binary.
struct S3XML {
    let text: Substring

    init(_ bytes: [UInt8]) { text = Substring(String(decoding: bytes, as: UTF8.self)) }
    init(_ text: Substring) { self.text = text }

    /// The bodies of every `<name>…</name>` (or `<name attr=…>…</name>`) at any depth, in order.
    func elements(_ name: String) -> [S3XML] {
        var result: [S3XML] = []
        var rest = text[...]
        let close = "</\(name)>"
        while let open = rest.range(of: "<\(name)") {
            let after = rest[open.upperBound...]
            guard let next = after.first, next == ">" || next == " " || next == "/" else {
                rest = after
                continue
            }
            guard let tagEnd = after.firstIndex(of: ">") else { break }
            if after[after.startIndex..<tagEnd].hasSuffix("/") {  // <name/>
                result.append(S3XML(""))
                rest = after[after.index(after: tagEnd)...]
                continue
            }
            let content = after[after.index(after: tagEnd)...]
            guard let end = content.range(of: close) else { break }
            result.append(S3XML(content[..<end.lowerBound]))
            rest = content[end.upperBound...]
        }
        return result
    }

    /// The unescaped text of the first `<name>` element.
    func value(_ name: String) -> String? { elements(name).first.map { Self.unescape($0.text) } }

    /// Replaces the five predefined entities and numeric character references.
    static func unescape(_ text: Substring) -> String {
        guard text.contains("&") else { return String(text) }
        var out = ""
        var rest = text
        while let amp = rest.firstIndex(of: "&") {
            out += rest[..<amp]
            guard let semi = rest[amp...].firstIndex(of: ";") else { break }
            let entity = rest[rest.index(after: amp)..<semi]
            switch entity {
            case "amp": out += "&"
            case "lt": out += "<"
            case "gt": out += ">"
            case "quot": out += "\""
            case "apos": out += "'"
            default:
                var scalar: Unicode.Scalar?
                if entity.hasPrefix("#x") || entity.hasPrefix("#X") {
                    scalar = UInt32(entity.dropFirst(2), radix: 16).flatMap(Unicode.Scalar.init)
                } else if entity.hasPrefix("#") {
                    scalar = UInt32(entity.dropFirst()).flatMap(Unicode.Scalar.init)
                }
                if let scalar { out.unicodeScalars.append(scalar) } else { out += "&\(entity);" }
            }
            rest = rest[rest.index(after: semi)...]
        }
        return out + rest
    }

    /// Escapes text for an element's content.
    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.append(character)
            }
        }
        return out
    }
}

/// An S3 error answer (`<Error><Code>NoSuchKey</Code><Message>…</Message></Error>`),
/// kept as a ``DRError``'s cause.
public struct S3ServiceError: Error, Sendable, CustomStringConvertible {
    /// The HTTP status.
    public var status: Int
    /// S3's error code (`NoSuchBucket`, `SignatureDoesNotMatch`, `AccessDenied`, `SlowDown` …), when given.
    public var code: String?
    /// S3's message.
    public var message: String?
    /// The request id, for the provider's support.
    public var requestID: String?

    /// `HTTP 403 SignatureDoesNotMatch`.
    public var description: String { "HTTP \(status)" + (code.map { " \($0)" } ?? "") }

    /// Reads an error document; a body that is not one (a HEAD, a proxy's page) gives no code.
    init(status: Int, body: [UInt8], headers: [String: String]) {
        self.status = status
        let xml = S3XML(body)
        let error = xml.elements("Error").first ?? xml
        code = error.value("Code").flatMap { $0.isEmpty ? nil : $0 }
        message = error.value("Message").flatMap { $0.isEmpty ? nil : $0 }
        requestID = error.value("RequestId") ?? headers["x-amz-request-id"]
    }
}

extension DRError {
    /// The S3 error answer when this error is a failed S3 request.
    public var s3Error: S3ServiceError? { cause as? S3ServiceError }
}
