/// Building Kubernetes API paths and query strings.
enum KubePaths {
    /// Bytes kept as they are in a query key or value (RFC 3986 unreserved); everything else,
    /// `=`, `,`, `!`, `&`, `+`, `/` and spaces included, is percent-encoded.
    private static let unreserved = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~".utf8)
    /// Bytes kept in one path segment: unreserved plus the sub-delimiters that are safe in paths.
    private static let segmentSafe = unreserved.union(Set("!$'()*,;=:@".utf8))

    /// Percent-encodes `text` for a query key or value.
    static func encodeQuery(_ text: String) -> String {
        encode(text, keeping: unreserved)
    }

    /// Percent-encodes one path segment (a name or namespace); `/` is encoded.
    static func encodeSegment(_ text: String) -> String {
        encode(text, keeping: segmentSafe)
    }

    private static func encode(_ text: String, keeping safe: Set<UInt8>) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        let hex = Array("0123456789ABCDEF".utf8)
        for byte in text.utf8 {
            if safe.contains(byte) {
                result.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                result.unicodeScalars.append("%")
                result.unicodeScalars.append(Unicode.Scalar(hex[Int(byte >> 4)]))
                result.unicodeScalars.append(Unicode.Scalar(hex[Int(byte & 0x0f)]))
            }
        }
        return result
    }

    /// `a=1&b=2` from ordered pairs, each key and value percent-encoded.
    static func query(_ items: [(String, String)]) -> String {
        items.map { "\(encodeQuery($0.0))=\(encodeQuery($0.1))" }.joined(separator: "&")
    }

    /// `/api/v1` or `/apis/GROUP/VERSION`.
    static func groupVersionPath(group: String, version: String) -> String {
        group.isEmpty ? "/api/\(encodeSegment(version))" : "/apis/\(encodeSegment(group))/\(encodeSegment(version))"
    }

    /// `/api/v1` or `/apis/GROUP/VERSION` for an `apiVersion` string (`v1`, `apps/v1`).
    static func groupVersionPath(apiVersion: String) -> String {
        let (group, version) = splitAPIVersion(apiVersion)
        return groupVersionPath(group: group, version: version)
    }

    /// `("apps", "v1")` for `apps/v1`, `("", "v1")` for `v1`.
    static func splitAPIVersion(_ apiVersion: String) -> (group: String, version: String) {
        guard let slash = apiVersion.lastIndex(of: "/") else { return ("", apiVersion) }
        return (String(apiVersion[..<slash]), String(apiVersion[apiVersion.index(after: slash)...]))
    }

    /// The collection path of a resource (`/apis/apps/v1/namespaces/ns/deployments`), or
    /// one object's path when `name` is given. A nil namespace of a namespaced resource
    /// means all namespaces (collections only).
    static func resourcePath(_ resource: KubeClient.Resource, namespace: String?, name: String? = nil) -> String {
        var path = groupVersionPath(group: resource.group, version: resource.version)
        if resource.namespaced, let namespace {
            path += "/namespaces/\(encodeSegment(namespace))"
        }
        path += "/\(encodeSegment(resource.name))"
        if let name { path += "/\(encodeSegment(name))" }
        return path
    }
}
