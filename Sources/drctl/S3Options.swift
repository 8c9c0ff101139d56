import ArgumentParser
import DRCore
import Foundation

/// How to reach an S3 repository named on the command line (`init`, `catalog recover`).
struct S3Options: ParsableArguments {
    @Option(help: "An S3-compatible endpoint (MinIO, Ceph RGW): http(s)://host:port; path-style addressing.")
    var endpoint: String?

    @Option(help: "The S3 region (default: AWS_REGION, AWS_DEFAULT_REGION, else us-east-1).")
    var region: String?

    @Option(help: "A ~/.aws/credentials-style file for the S3 repository.")
    var credentialsFile: String?

    @Option(help: "The profile in the credentials file (default: AWS_PROFILE, else `default`).")
    var profile: String?

    /// True when any S3 option was given.
    var isSet: Bool { endpoint != nil || region != nil || credentialsFile != nil || profile != nil }

    /// The repository at `url` (`s3://bucket/prefix`) with these options.
    func repository(_ url: String, option: String) throws -> S3RepositoryConfig {
        guard let (bucket, prefix) = S3RepositoryConfig.parse(url: url) else {
            throw ValidationError("\(option): expected s3://bucket/prefix, found `\(url)`")
        }
        if let endpoint, !(endpoint.hasPrefix("http://") || endpoint.hasPrefix("https://")) {
            throw ValidationError("--endpoint: expected an http:// or https:// URL, found `\(endpoint)`")
        }
        let file = credentialsFile.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
        return S3RepositoryConfig(bucket: bucket, prefix: prefix, endpoint: endpoint, region: region,
                                  credentialsFile: file, profile: profile)
    }
}
