import Foundation

/// An AWS access key, optionally temporary (with a session token). Its description never
/// shows the secret or the token.
public struct S3Credentials: Sendable, CustomStringConvertible {
    public var accessKeyID: String
    public var secretAccessKey: String
    public var sessionToken: String?

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    /// `access key AKIA…XYZ (temporary)`: the id shortened, never the secret.
    public var description: String {
        let id = accessKeyID.count > 8 ? "\(accessKeyID.prefix(4))…\(accessKeyID.suffix(4))" : accessKeyID
        return "access key \(id)" + (sessionToken == nil ? "" : " (temporary)")
    }

    /// Where credentials come from, in order: an explicit credentials file (and profile);
    /// else `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN` in
    /// `environment`; else the shared credentials file (`AWS_SHARED_CREDENTIALS_FILE` or
    /// `~/.aws/credentials`) with `profile`, `AWS_PROFILE` or `default`.
    public static func resolve(
        file: String?, profile: String?, environment: [String: String]
    ) throws -> S3Credentials {
        let chosenProfile = profile ?? environment["AWS_PROFILE"].flatMap { $0.isEmpty ? nil : $0 } ?? "default"
        if let file {
            return try load(file: file, profile: chosenProfile)
        }
        if let id = environment["AWS_ACCESS_KEY_ID"], !id.isEmpty {
            guard let secret = environment["AWS_SECRET_ACCESS_KEY"], !secret.isEmpty else {
                throw DRError(.config, "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not",
                              hint: "set both, or use a credentials file")
            }
            let token = environment["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
            return S3Credentials(accessKeyID: id, secretAccessKey: secret, sessionToken: token)
        }
        var shared = environment["AWS_SHARED_CREDENTIALS_FILE"].flatMap { $0.isEmpty ? nil : $0 }
        if shared == nil, let home = environment["HOME"], !home.isEmpty { shared = "\(home)/.aws/credentials" }
        if let shared, FileIO.exists(shared) {
            return try load(file: shared, profile: chosenProfile)
        }
        throw DRError(
            .config, "no S3 credentials: AWS_ACCESS_KEY_ID is not set and there is no credentials file",
            hint: "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary keys), or `credentials_file:` in the repository's config")
    }

    /// Reads one profile of a `~/.aws/credentials`-style INI file.
    public static func load(file: String, profile: String) throws -> S3Credentials {
        let bytes: [UInt8]
        do { bytes = try FileIO.read(file) } catch {
            throw DRError(.config, "cannot read the S3 credentials file \(file)", cause: error)
        }
        let values = try parse(String(decoding: bytes, as: UTF8.self), file: file)[profile] ?? [:]
        guard let id = values["aws_access_key_id"], !id.isEmpty,
              let secret = values["aws_secret_access_key"], !secret.isEmpty else {
            throw DRError(
                .config, "the S3 credentials file \(file) has no profile `\(profile)` with aws_access_key_id and aws_secret_access_key",
                hint: "add `[\(profile)]` with both keys, or set `profile:` to one that has them")
        }
        let token = values["aws_session_token"].flatMap { $0.isEmpty ? nil : $0 }
        return S3Credentials(accessKeyID: id, secretAccessKey: secret, sessionToken: token)
    }

    /// `[profile]` sections of `key = value` lines; `#` and `;` start comments. Values are
    /// never quoted in errors.
    static func parse(_ text: String, file: String) throws -> [String: [String: String]] {
        var result: [String: [String: String]] = [:]
        var section: String?
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespaces.union(CharacterSet(charactersIn: "\r")))
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") {
                guard line.hasSuffix("]") else {
                    throw DRError(.config, "\(file):\(index + 1): a section header must look like `[profile]`")
                }
                var name = line.dropFirst().dropLast().trimmingCharacters(in: .whitespaces)
                if name.hasPrefix("profile ") { name = String(name.dropFirst("profile ".count)).trimmingCharacters(in: .whitespaces) }
                section = name
                continue
            }
            guard let eq = line.firstIndex(of: "=") else {
                throw DRError(.config, "\(file):\(index + 1): expected `key = value`")
            }
            guard let section else {
                throw DRError(.config, "\(file):\(index + 1): a key outside of any `[profile]` section")
            }
            let key = line[..<eq].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            result[section, default: [:]][key] = value
        }
        return result
    }
}
