/// Where an S3 repository lives: `s3://bucket/prefix` plus how to reach it.
public struct S3RepositoryConfig: Sendable, Equatable {
    /// The bucket name.
    public var bucket: String
    /// The key prefix without leading or trailing `/` (empty: the bucket's root).
    public var prefix: String
    /// An S3-compatible endpoint (`http://127.0.0.1:9000`, MinIO, Ceph RGW); nil for AWS.
    public var endpoint: String?
    /// The signing region; nil: `AWS_REGION`, `AWS_DEFAULT_REGION`, else `us-east-1`.
    public var region: String?
    /// A `~/.aws/credentials`-style file; nil: the environment, then the shared file.
    public var credentialsFile: String?
    /// The profile in the credentials file; nil: `AWS_PROFILE`, else `default`.
    public var profile: String?
    /// Path-style URLs (`endpoint/bucket/key`); nil: path-style with an endpoint,
    /// virtual-hosted (`bucket.s3.region.amazonaws.com/key`) without.
    public var pathStyle: Bool?

    public init(
        bucket: String, prefix: String, endpoint: String? = nil, region: String? = nil,
        credentialsFile: String? = nil, profile: String? = nil, pathStyle: Bool? = nil
    ) {
        self.bucket = bucket
        self.prefix = prefix
        self.endpoint = endpoint
        self.region = region
        self.credentialsFile = credentialsFile
        self.profile = profile
        self.pathStyle = pathStyle
    }

    /// `s3://bucket/prefix`.
    public var url: String { prefix.isEmpty ? "s3://\(bucket)" : "s3://\(bucket)/\(prefix)" }

    /// Splits `s3://bucket[/prefix]`; nil when it is not one (bad bucket name, `..`, `//`).
    public static func parse(url: String) -> (bucket: String, prefix: String)? {
        guard url.hasPrefix("s3://") else { return nil }
        let rest = url.dropFirst(5)
        let bucket = rest.prefix { $0 != "/" }
        var prefix = String(rest.dropFirst(bucket.count))
        while prefix.hasPrefix("/") { prefix.removeFirst() }
        while prefix.hasSuffix("/") { prefix.removeLast() }
        guard isValidBucket(String(bucket)), !prefix.contains("//"), !prefix.contains("\\"),
              !prefix.split(separator: "/").contains(where: { $0 == "." || $0 == ".." }) else { return nil }
        return (String(bucket), prefix)
    }

    /// S3 bucket naming rules: 3–63 characters of `a-z 0-9 . -`, starting and ending with a letter or digit.
    public static func isValidBucket(_ name: String) -> Bool {
        guard (3...63).contains(name.count), let first = name.first, let last = name.last,
              first.isLetter || first.isNumber, last.isLetter || last.isNumber else { return false }
        return name.allSatisfy { ($0.isASCII && ($0.isLowercase || $0.isNumber)) || $0 == "." || $0 == "-" }
    }
}
