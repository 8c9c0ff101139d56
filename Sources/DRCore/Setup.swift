public import Foundation
public import Logging

/// `drctl init`: a starter config, an empty catalog and repository, and an age key pair,
/// so that a fresh setup encrypts by default.
public enum Setup {
    /// What `initialize` created.
    public struct Result: Sendable, Codable {
        public var config: String
        public var catalog: String
        public var repository: String
        public var identity: String?
        public var recipient: String?
        /// The recovery kit written next to the config (`recovery-kit.txt`).
        public var recoveryKit: String?
    }

    /// Creates `directory/drctl.yaml`, `catalog.db`, `repository/` (or the S3 repository
    /// `s3` names, with credentials from `environment`), `keys/identity.txt` and
    /// `recovery-kit.txt`.
    /// Refuses to overwrite an existing config.
    public static func initialize(
        directory: String, encrypt: Bool = true, s3: S3RepositoryConfig? = nil, environment: Environment = Environment([:]),
        includeIdentityInKit: Bool = false, logger: Logger, now: Date = Date()
    ) throws -> Result {
        let dir = URL(fileURLWithPath: directory).standardizedFileURL.path
        let configPath = "\(dir)/drctl.yaml"
        guard !FileIO.exists(configPath) else {
            throw DRError(.refused, "\(configPath) already exists; drctl init never overwrites a config",
                          hint: "edit it, or run init in another folder")
        }
        try FileIO.createDirectory(dir)
        var repository = "\(dir)/repository"
        let catalogPath = "\(dir)/catalog.db"
        if let s3 {
            try S3Repository.create(name: "default", config: s3, environment: environment, tmpDir: "\(dir)/tmp", logger: logger, now: now)
            repository = s3.url
        } else {
            try LocalRepository.create(name: "default", root: repository, now: now)
        }
        _ = try Catalog.open(path: catalogPath, create: true, logger: logger)
        var identityPath: String?
        var recipient: String?
        if encrypt {
            try FileIO.createDirectory("\(dir)/keys", mode: 0o700)
            let path = "\(dir)/keys/identity.txt"
            recipient = FileIO.exists(path) ? try existingRecipient(path) : try writeIdentity(to: path, now: now)
            identityPath = path
        }
        try FileIO.atomicWrite(Array(starterConfig(recipient: recipient, s3: s3).utf8), to: configPath, mode: 0o644)
        let kitPath = "\(dir)/recovery-kit.txt"
        let kit = try recoveryKit(repository: repository, s3: s3, recipient: recipient, identity: identityPath,
                                  includeIdentity: includeIdentityInKit, now: now)
        try FileIO.atomicWrite(Array(kit.utf8), to: kitPath, mode: includeIdentityInKit ? 0o600 : 0o644)
        return Result(config: configPath, catalog: catalogPath, repository: repository, identity: identityPath,
                      recipient: recipient, recoveryKit: kitPath)
    }

    /// What someone needs, on a new machine, to get everything back: where the repository
    /// is, which keys it is encrypted to, and the command that recovers the catalog. The
    /// identity itself only when `includeIdentity` (then the kit is as secret as the key).
    public static func recoveryKit(
        repository: String, s3: S3RepositoryConfig?, recipient: String?, identity: String?, includeIdentity: Bool, now: Date
    ) throws -> String {
        var lines = [
            "drctl recovery kit — written \(ISO8601.format(now)) by drctl \(DRVersion.current)",
            "Print it or copy it somewhere that does not burn with this machine.",
            "",
            "Repository: \(repository)",
        ]
        if let s3 {
            if let endpoint = s3.endpoint { lines.append("  endpoint: \(endpoint)") }
            if let region = s3.region { lines.append("  region: \(region)") }
            lines.append("  credentials: an access key allowed to get and list it (docs/S3.md)")
        }
        if let recipient {
            lines += ["Encrypted to: \(recipient)", "Identity file on this machine: \(identity ?? "-")"]
        } else {
            lines.append("Not encrypted.")
        }
        var command = "drctl catalog recover --from \(repository)"
        if let s3 {
            if let endpoint = s3.endpoint { command += " --endpoint \(endpoint)" }
            if let region = s3.region { command += " --region \(region)" }
        }
        command += " --identity IDENTITY-FILE"
        lines += [
            "",
            "To recover on a new machine: install drctl, put the identity file in place (mode 0600), then run",
            "  \(command)",
            "It restores the newest catalog copy and config from the repository and replays the snapshots",
            "taken after that copy; then run `drctl verify --read-data`.",
        ]
        if includeIdentity, let identity {
            lines += ["", "The identity (SECRET: whoever has it can decrypt every backup):", ""]
            lines.append(String(decoding: try FileIO.read(identity), as: UTF8.self).trimmingCharacters(in: .newlines))
        } else if recipient != nil {
            lines += ["", "The identity is NOT in this kit: keep a copy of it offline too (`drctl init --kit-with-identity` puts it here)."]
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Writes a new age identity file (mode 0600, never overwriting) and returns its recipient.
    public static func writeIdentity(to path: String, now: Date = Date()) throws -> String {
        guard !FileIO.exists(path) else {
            throw DRError(.refused, "\(path) already exists; drctl never overwrites a key file")
        }
        let identity = AgeIdentity.generate()
        var writer = try FileWriter(path: path, mode: 0o600)
        try writer.write(Array(identity.fileContents(created: ISO8601.format(now)).utf8))
        try writer.sync()
        writer.close()
        return identity.recipient.description
    }

    /// The recipient of an identity file left by an earlier, interrupted `drctl init`.
    static func existingRecipient(_ path: String) throws -> String {
        guard let identity = try AgeIdentity.load(file: path).first else {
            throw DRError(.crypto, "\(path) holds no age identity")
        }
        return identity.recipient.description
    }

    /// The commented starter config; paths are relative to the config file.
    public static func starterConfig(recipient: String?, s3: S3RepositoryConfig? = nil) -> String {
        var repository = "repository: repository"
        if let s3 {
            // JSON strings are valid YAML scalars: no quoting surprises in URLs or paths.
            func quoted(_ text: String) -> String {
                let encoder = JSONEncoder()
                encoder.outputFormatting = .withoutEscapingSlashes
                return (try? String(decoding: encoder.encode(text), as: UTF8.self)) ?? "\"\(text)\""
            }
            repository = "# S3 credentials: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, or credentials_file + profile.\nrepository:\n  url: \(quoted(s3.url))"
            if let endpoint = s3.endpoint { repository += "\n  endpoint: \(quoted(endpoint))" }
            if let region = s3.region { repository += "\n  region: \(quoted(region))" }
            if let file = s3.credentialsFile { repository += "\n  credentials_file: \(quoted(file))" }
            if let profile = s3.profile { repository += "\n  profile: \(quoted(profile))" }
            if let pathStyle = s3.pathStyle { repository += "\n  path_style: \(pathStyle)" }
        }
        let encryption: String
        if let recipient {
            encryption = """
                # Snapshots are encrypted to these age recipients. Keep a copy of the identity
                # file offline: without it no backup can be decrypted. Add a break-glass
                # recipient (age-keygen on an offline machine) for a second way in.
                encryption:
                  recipients:
                    - \(recipient)
                  identity: keys/identity.txt
                """
        } else {
            encryption = """
                # No encryption configured: snapshots are stored in plaintext.
                # encryption:
                #   recipients: [age1...]
                #   identity: keys/identity.txt
                """
        }
        return """
            # drctl configuration. Every key is documented in docs/CONFIG.md.
            # Relative paths are relative to this file.

            # Where snapshot objects are stored (content-addressed, immutable).
            \(repository)

            # The SQLite catalog of runs, snapshots and objects.
            catalog: catalog.db

            \(encryption)

            # The Kubernetes cluster (used by secrets exports and restores).
            # cluster:
            #   kubeconfig: ~/.kube/config
            #   context: production

            # What to back up. Example:
            #   - name: gitops
            #     kind: git-bundle
            #     repo: /home/vizi/gitops          # a path, or a URL such as git://host/gitops.git
            #     schedule: "0 */6 * * *"
            sources: []

            """
    }
}
