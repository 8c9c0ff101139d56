import DRCore
import Foundation
import Testing
import TestSupport

/// `repository: s3://…`, the mapping form and `repositories:`; credentials files.
@Suite("S3 repository configuration")
struct S3ConfigTests {
    let environment = ["HOME": "/home/u"]

    func parse(_ repositoryYAML: String) throws -> DRConfig {
        try DRConfig.parse(text: repositoryYAML + "catalog: /var/lib/drctl/catalog.db\nsources: []\n",
                           path: "/etc/drctl/drctl.yaml", environment: environment)
    }

    func configError(_ repositoryYAML: String) -> ConfigError? {
        do {
            _ = try parse(repositoryYAML)
            return nil
        } catch {
            return error as? ConfigError
        }
    }

    @Test("the shorthand takes an s3:// URL; a local path still works")
    func shorthand() throws {
        let config = try parse("repository: s3://my-bucket/drctl/prod/\n")
        #expect(config.repositories.count == 1)
        #expect(config.repositories[0].name == "default")
        #expect(config.repositories[0].location == .s3(S3RepositoryConfig(bucket: "my-bucket", prefix: "drctl/prod")))
        #expect(try parse("repository: repo\n").repositories[0].location == .local(path: "/etc/drctl/repo"))
    }

    @Test("the mapping form carries endpoint, region, credentials file, profile and path style")
    func mappingForm() throws {
        let config = try parse("""
            repository:
              url: s3://backups
              endpoint: http://127.0.0.1:9000
              region: eu-central-1
              credentials_file: ~/.aws/credentials
              profile: drctl
              path_style: true

            """)
        let expected = S3RepositoryConfig(
            bucket: "backups", prefix: "", endpoint: "http://127.0.0.1:9000", region: "eu-central-1",
            credentialsFile: "/home/u/.aws/credentials", profile: "drctl", pathStyle: true)
        #expect(config.repositories[0].location == .s3(expected))
    }

    @Test("repositories: a named local and a named S3 entry, in order")
    func list() throws {
        let config = try parse("""
            repositories:
              - name: local
                path: /var/lib/drctl/repo
              - name: offsite
                url: s3://bucket/prefix
                endpoint: https://minio.example:9000

            """)
        #expect(config.repositories.map(\.name) == ["local", "offsite"])
        #expect(config.repositories[0].location == .local(path: "/var/lib/drctl/repo"))
        #expect(config.repositories[1].location == .s3(S3RepositoryConfig(bucket: "bucket", prefix: "prefix", endpoint: "https://minio.example:9000")))
    }

    @Test("mistakes are errors with file, line and field", arguments: [
        ("repository: s3://Bad_Bucket/x\n", 1, "repository", "not a valid S3 URL"),
        ("repository: ftp://host/x\n", 1, "repository", "unsupported repository URL"),
        ("repository: /a\nrepositories:\n  - name: b\n    path: /b\n", 2, "repositories", "both"),
        ("repositories:\n  - name: a\n    path: /a\n  - name: a\n    url: s3://bucket/x\n", 4, "repositories[1].name", "duplicate repository name"),
        ("repositories:\n  - name: a\n    path: /a\n    endpoint: http://x:9000\n", 4, "repositories[0].endpoint", "applies to S3"),
        ("repositories:\n  - name: a\n    url: s3://bucket/x\n    path: /a\n", 3, "repositories[0].url", "either"),
        ("repositories:\n  - name: a\n    url: s3://bucket/x\n    endpont: http://x\n", 4, "repositories[0].endpont", "did you mean `endpoint`"),
        ("repositories:\n  - name: a\n    url: s3://bucket/x\n    endpoint: 127.0.0.1:9000\n", 4, "repositories[0].endpoint", "http:// or https://"),
        ("repositories:\n  - path: /a\n", 2, "repositories[0].name", "missing required key `name`"),
        ("repositories: []\n", 1, "repositories", "at least one"),
        ("repository:\n  name: x\n  path: /a\n", 2, "repository.name", "always named `default`"),
        ("repositories:\n  - name: a\n    url: /local\n", 3, "repositories[0].url", "expected an `s3://bucket/prefix` URL"),
    ])
    func mistakes(_ yaml: String, _ line: Int, _ field: String, _ text: String) throws {
        let error = try #require(configError(yaml), "accepted: \(yaml)")
        #expect(error.line == line, "\(error)")
        #expect(error.field == field, "\(error)")
        #expect(error.message.contains(text), "\(error)")
        #expect(error.file == "/etc/drctl/drctl.yaml")
    }

    @Test("no repository at all is a missing-key error")
    func missing() throws {
        let error = try #require(configError(""))
        #expect(error.message.contains("missing required key `repository`"))
    }

    @Test("drctl init's starter config for S3 parses back to the same location")
    func starterConfig() throws {
        let s3 = S3RepositoryConfig(bucket: "bkt", prefix: "a/b", endpoint: "http://127.0.0.1:9000", region: "us-east-1")
        let text = Setup.starterConfig(recipient: nil, s3: s3)
        #expect(text.contains("  url: \"s3://bkt/a/b\"\n  endpoint: \"http://127.0.0.1:9000\""), "\(text)")
        let config = try DRConfig.parse(text: text, path: "/etc/drctl/drctl.yaml", environment: environment)
        #expect(config.repositories[0].location == .s3(s3))
    }

    @Test("credentials: explicit file and profile, environment with session token, shared file, clear errors")
    func credentials() throws {
        try withTemporaryDirectory { dir in
            try """
                # comment
                [default]
                aws_access_key_id = AKIDDEFAULT
                aws_secret_access_key = secret-default

                [profile backup]
                aws_access_key_id=AKIDBACKUP
                aws_secret_access_key=secret-backup
                aws_session_token = token-backup
                """.write(toFile: "\(dir)/credentials", atomically: true, encoding: .utf8)
            let backup = try S3Credentials.resolve(file: "\(dir)/credentials", profile: "backup", environment: [:])
            #expect(backup.accessKeyID == "AKIDBACKUP")
            #expect(backup.secretAccessKey == "secret-backup")
            #expect(backup.sessionToken == "token-backup")
            let fromProfileVariable = try S3Credentials.resolve(file: "\(dir)/credentials", profile: nil, environment: ["AWS_PROFILE": "backup"])
            #expect(fromProfileVariable.accessKeyID == "AKIDBACKUP")

            let fromEnvironment = try S3Credentials.resolve(file: nil, profile: nil, environment: [
                "AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SESSION_TOKEN": "t", "HOME": dir,
            ])
            #expect(fromEnvironment.accessKeyID == "AKIDENV")
            #expect(fromEnvironment.sessionToken == "t")

            try FileManager.default.createDirectory(atPath: "\(dir)/.aws", withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: "\(dir)/credentials", toPath: "\(dir)/.aws/credentials")
            #expect(try S3Credentials.resolve(file: nil, profile: nil, environment: ["HOME": dir]).accessKeyID == "AKIDDEFAULT")

            let noProfile = try #require(throws: DRError.self) {
                try S3Credentials.resolve(file: "\(dir)/credentials", profile: "nope", environment: [:])
            }
            #expect(noProfile.code == .config)
            #expect(noProfile.message.contains("no profile `nope`"))
            #expect(!noProfile.description.contains("secret-default"))
            let none = try #require(throws: DRError.self) {
                try S3Credentials.resolve(file: nil, profile: nil, environment: ["HOME": "\(dir)/empty"])
            }
            #expect(none.message.contains("no S3 credentials"))
            let half = try #require(throws: DRError.self) {
                try S3Credentials.resolve(file: nil, profile: nil, environment: ["AWS_ACCESS_KEY_ID": "x"])
            }
            #expect(half.message.contains("AWS_SECRET_ACCESS_KEY"))
        }
    }
}
