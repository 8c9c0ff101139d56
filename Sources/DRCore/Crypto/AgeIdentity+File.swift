#if canImport(Glibc)
import Glibc
#endif

extension AgeIdentity {
    /// The identities in an age identity file, with errors that name the file.
    ///
    /// The file (after following symlinks, as in a Kubernetes Secret volume's `..data` links)
    /// must not be writable by group or others nor readable by others: see
    /// ``checkPermissions(file:)``. `allowInsecurePermissions` (`--insecure-permissions`)
    /// skips that check.
    public static func load(file path: String, allowInsecurePermissions: Bool = false) throws -> [AgeIdentity] {
        if !allowInsecurePermissions { try checkPermissions(file: path) }
        let text: String
        do {
            text = String(decoding: try FileIO.read(path), as: UTF8.self)
        } catch {
            throw DRError(.crypto, "cannot read the age identity file \(path)", cause: error)
        }
        do {
            return try parseFile(contents: text)
        } catch let error as AgeError {
            throw DRError(.crypto, "the age identity file \(path) is not valid: \(error.message)")
        }
    }

    /// Refuses an identity file whose final target (symlinks followed) is group- or
    /// world-writable or world-readable. Group-readable is allowed: a Kubernetes Secret
    /// volume mounted with `fsGroup` shows the key as 0440.
    ///
    /// - Throws: ``DRError`` `.refused` naming the file, its mode and the `chmod` that fixes it;
    ///   nothing when the file does not exist (reading it reports that).
    public static func checkPermissions(file path: String) throws {
        var info = stat()
        guard stat(path, &info) == 0 else { return }
        let mode = UInt32(info.st_mode) & 0o7777
        let unsafeBits = mode & 0o026
        guard unsafeBits != 0 else { return }
        var final = path
        if let resolved = realpath(path, nil) {
            final = String(cString: resolved)
            free(resolved)
        }
        var problems: [String] = []
        if mode & 0o020 != 0 { problems.append("group-writable") }
        if mode & 0o002 != 0 { problems.append("world-writable") }
        if mode & 0o004 != 0 { problems.append("world-readable") }
        let fixed = String(mode & ~UInt32(0o027), radix: 8)
        let shown = final == path ? path : "\(path) (a link to \(final))"
        throw DRError(
            .refused,
            "the age identity file \(shown) has mode \(octal(mode)), which is \(problems.joined(separator: " and ")); refusing to use a key other users can read or change",
            hint: "run `chmod \(fixed.count < 3 ? String(repeating: "0", count: 3 - fixed.count) + fixed : fixed) \(final)` (a Kubernetes Secret volume: `defaultMode: 0400`, or 0440 with fsGroup), or pass --insecure-permissions to use it anyway")
    }

    private static func octal(_ mode: UInt32) -> String {
        let digits = String(mode, radix: 8)
        return "0" + String(repeating: "0", count: max(0, 3 - digits.count)) + digits
    }
}
