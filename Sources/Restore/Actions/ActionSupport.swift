import DRCore
import Foundation
import Snapshots

/// A step's YAML arguments with typed, well-explained access.
struct ActionArguments {
    let action: String
    let values: [String: JSONValue]

    /// Reads `json` (a mapping, or null for none); unknown keys are an error naming the known ones.
    init(_ json: JSONValue, action: String, known: [String]) throws {
        self.action = action
        switch json {
        case .null: values = [:]
        case .object(let members): values = members
        default:
            throw DRError(.config, "\(action): arguments must be a YAML mapping (key: value)")
        }
        for key in values.keys.sorted() where !known.contains(key) {
            throw DRError(.config, "\(action): unknown argument `\(key)`",
                          hint: "\(action) takes: \(known.joined(separator: ", "))")
        }
    }

    /// A scalar argument as text, or nil when absent or empty.
    func optionalString(_ key: String) throws -> String? {
        guard let value = values[key] else { return nil }
        let text: String
        switch value {
        case .null: return nil
        case .string(let s): text = s
        case .int(let i): text = String(i)
        case .double(let d): text = String(d)
        case .bool(let b): text = b ? "true" : "false"
        default: throw DRError(.config, "\(action): `\(key)` must be a single value, not a list or mapping")
        }
        let trimmed = text.trimmingWhitespace()
        return trimmed.isEmpty ? nil : trimmed
    }

    /// A required scalar argument.
    func string(_ key: String, _ meaning: String) throws -> String {
        guard let text = try optionalString(key) else {
            throw DRError(.config, "\(action): the argument `\(key)` (\(meaning)) is required")
        }
        return text
    }

    /// A boolean argument (`true`/`false`, `yes`/`no`).
    func bool(_ key: String, default fallback: Bool) throws -> Bool {
        guard let text = try optionalString(key)?.lowercased() else { return fallback }
        switch text {
        case "true", "yes", "on", "1": return true
        case "false", "no", "off", "0": return false
        default: throw DRError(.config, "\(action): `\(key)` must be true or false, found `\(text)`")
        }
    }

    /// A duration argument: `90` (seconds), `500ms`, `30s`, `10m`, `2h`, or combinations such as `1m30s`.
    func duration(_ key: String) throws -> Duration? {
        guard let text = try optionalString(key) else { return nil }
        guard let parsed = ActionFormat.parseDuration(text), parsed > .zero else {
            throw DRError(.config, "\(action): `\(key)` must be a duration such as 90s, 10m or 1h, found `\(text)`")
        }
        return parsed
    }

    /// A comma-separated list (`wordpress, plugin-deployer`), or a YAML list.
    func list(_ key: String, _ meaning: String) throws -> [String] {
        let items: [String]
        if let array = values[key]?.arrayValue {
            items = array.compactMap(\.stringValue)
        } else {
            items = (try optionalString(key) ?? "").split(separator: ",").map { String($0).trimmingWhitespace() }
        }
        let kept = items.filter { !$0.isEmpty }
        guard !kept.isEmpty else {
            throw DRError(.config, "\(action): the argument `\(key)` (\(meaning)) is required")
        }
        return kept
    }

    /// A `namespace/name` reference.
    func objectReference(_ key: String, _ kind: String) throws -> ObjectReference {
        let text = try string(key, "\(kind) as namespace/name")
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw DRError(.config, "\(action): `\(key)` must be namespace/name (e.g. gitops-system/gitops-git-daemon), found `\(text)`")
        }
        return ObjectReference(namespace: parts[0], name: parts[1])
    }
}

/// A namespaced object's address.
public struct ObjectReference: Sendable, Hashable, CustomStringConvertible {
    public var namespace: String
    public var name: String
    public var description: String { "\(namespace)/\(name)" }
}

/// Formatting and parsing shared by the actions.
enum ActionFormat {
    /// `2h 5m`, `3d 4h`, `42s`: how long ago, for RPO lines.
    static func age(_ seconds: TimeInterval) -> String {
        let total = max(0, Int(seconds))
        let days = total / 86400, hours = total % 86400 / 3600, minutes = total % 3600 / 60, secs = total % 60
        if days > 0 { return "\(days)d \(hours)h" }
        if hours > 0 { return "\(hours)h \(minutes)m" }
        if minutes > 0 { return "\(minutes)m \(secs)s" }
        return "\(secs)s"
    }

    /// `20261123T151500Z`: a UTC timestamp safe in file names.
    static func fileStamp(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return formatter.string(from: date)
    }

    /// RFC 3339 in UTC with seconds, as Kubernetes writes times.
    static func rfc3339(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }

    /// Parses an RFC 3339 time, with or without fractional seconds.
    static func parseTime(_ text: String) -> Date? {
        let plain = ISO8601DateFormatter()
        plain.formatOptions = [.withInternetDateTime]
        if let date = plain.date(from: text) { return date }
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return fractional.date(from: text)
    }

    /// `90`, `500ms`, `30s`, `10m`, `2h`, `1d`, `1m30s`.
    static func parseDuration(_ text: String) -> Duration? {
        if let seconds = Int(text) { return .seconds(seconds) }
        var total = Duration.zero
        var number = ""
        var rest = Substring(text.lowercased())
        while let c = rest.first {
            if c.isNumber {
                number.append(c)
                rest.removeFirst()
                continue
            }
            guard let value = Int(number) else { return nil }
            number = ""
            if rest.hasPrefix("ms") {
                total += .milliseconds(value)
                rest.removeFirst(2)
                continue
            }
            switch c {
            case "s": total += .seconds(value)
            case "m": total += .seconds(value * 60)
            case "h": total += .seconds(value * 3600)
            case "d": total += .seconds(value * 86400)
            default: return nil
            }
            rest.removeFirst()
        }
        return number.isEmpty ? total : nil
    }

    /// A duration as `2m`, `90s` or `1.5s`.
    static func duration(_ duration: Duration) -> String {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        if seconds >= 60, seconds.truncatingRemainder(dividingBy: 60) == 0 { return "\(Int(seconds) / 60)m" }
        if seconds == seconds.rounded() { return "\(Int(seconds))s" }
        return String(format: "%.1fs", seconds)
    }
}

/// What binding found for a snapshot-restoring action.
struct ActionSnapshot: Sendable {
    var snapshot: SnapshotRecord
    /// One plan line: id, source, data time and age (the RPO of this restore).
    var summary: String
}

extension PlanContext {
    /// Throws the planner's "no cluster" error unless a cluster is configured. Does not contact it:
    /// during a cluster loss the cluster may only exist once earlier steps ran.
    func requireClusterConfigured(for action: String) throws {
        guard cluster != nil else {
            throw DRError(.config, "\(action) needs a Kubernetes cluster and none is configured",
                          hint: "add a `cluster:` section to drctl.yaml, or set KUBECONFIG")
        }
    }

    /// The configured source `name`, which must be of `kind`.
    func source(_ name: String, kind: SourceKind, for action: String) throws -> SourceConfig {
        guard let source = workspace.config.source(named: name) else {
            let known = workspace.config.sources.filter { $0.kind == kind }.map(\.name)
            throw DRError(.config, "\(action): no source named `\(name)` in \(workspace.config.file)",
                          hint: known.isEmpty ? "add a \(kind.rawValue) source under `sources:`" : "\(kind.rawValue) sources: \(known.joined(separator: ", "))")
        }
        guard source.kind == kind else {
            throw DRError(.config, "\(action): source `\(name)` is a \(source.kind.rawValue) source; this action restores \(kind.rawValue) sources")
        }
        return source
    }

    /// The newest verified snapshot of `source` at or before ``at`` (see ``SnapshotSelection``).
    /// With `needsIdentity`, an encrypted chain without an identity to decrypt it is a `.crypto` error.
    func bindSnapshot(source: String, kind: SourceKind, for action: String, needsIdentity: Bool = true) throws -> ActionSnapshot {
        let snapshot: SnapshotRecord
        do {
            snapshot = try SnapshotSelection.newestVerified(source: source, at: at, in: workspace.catalog)
        } catch let error as DRError where error.code == .notFound {
            throw DRError(.notFound, "\(action): no verified snapshot of source \(source) at or before \(ISO8601.format(at)) (\(error.message))",
                          hint: "run `drctl backup \(source)`, or restore to a later point with --at")
        }
        guard snapshot.kind == kind.rawValue else {
            throw DRError(.config, "\(action): snapshot \(snapshot.shortID) of source \(source) is a \(snapshot.kind) snapshot, not \(kind.rawValue)")
        }
        if needsIdentity, !workspace.codec.canDecrypt {
            let encrypted = try workspace.catalog.chain(to: snapshot.id).contains { link in
                try workspace.catalog.objects(of: link.id).contains { $0.object.encryption == .age }
            }
            if encrypted {
                throw DRError(.crypto, "\(action): snapshot \(snapshot.shortID) of source \(source) is encrypted and no age identity is configured to decrypt it",
                              hint: "set `encryption.identity:` in \(workspace.config.file) to the identity file (e.g. the offline break-glass key)")
            }
        }
        let age = ActionFormat.age(workspace.now().timeIntervalSince(snapshot.dataTime))
        var summary = "snapshot \(snapshot.shortID) of source \(source): data time \(ISO8601.format(snapshot.dataTime)), \(age) old (the RPO of this restore)"
        let skipped = try SnapshotSelection.skipped(after: snapshot, at: at, in: workspace.catalog)
        if !skipped.isEmpty {
            summary += "; passing over \(skipped.count) newer unverified snapshot(s): "
                + skipped.prefix(3).map(SnapshotSelection.describe).joined(separator: ", ")
        }
        return ActionSnapshot(snapshot: snapshot, summary: summary)
    }

    /// An absolute path: relative ones resolve against the runbook's folder (when the file exists
    /// there), else against the config file's folder.
    func resolvePath(_ path: String) -> String {
        if path.hasPrefix("/") { return URL(fileURLWithPath: path).standardizedFileURL.path }
        if path.hasPrefix("~/"), let home = workspace.environment["HOME"] {
            return URL(fileURLWithPath: home + path.dropFirst()).standardizedFileURL.path
        }
        if let base = runbookDirectory {
            let candidate = URL(fileURLWithPath: "\(base)/\(path)").standardizedFileURL.path
            if FileIO.exists(candidate) { return candidate }
        }
        let configFolder = (workspace.config.file as NSString).deletingLastPathComponent
        return URL(fileURLWithPath: "\(configFolder)/\(path)").standardizedFileURL.path
    }
}

extension ExecutionContext {
    /// The earlier of the step's deadline and `timeout` from now.
    func deadline(limitedTo timeout: Duration?) -> ContinuousClock.Instant {
        guard let timeout else { return deadline }
        return min(deadline, .now + timeout)
    }

    /// Calls `check` until it returns a value or `deadline` passes (then nil), pausing
    /// `interval` between calls. `check` runs at least once.
    func poll<T>(until deadline: ContinuousClock.Instant, interval: Duration = .milliseconds(200),
                 _ check: () throws -> T?) throws -> T? {
        while true {
            if let value = try check() { return value }
            let now = ContinuousClock.now
            guard now < deadline else { return nil }
            let pause = min(interval, deadline - now)
            Thread.sleep(forTimeInterval: Double(pause.components.seconds) + Double(pause.components.attoseconds) / 1e18)
        }
    }
}

/// Kubernetes helpers shared by the cluster actions.
enum KubeSupport {
    static let namespaceResource = KubeClient.Resource(group: "", version: "v1", name: "namespaces", kind: "Namespace", namespaced: false)

    /// The Application resource, or a clear error when ArgoCD's CRDs are not installed.
    static func applications(_ client: KubeClient, action: String) throws -> KubeClient.Resource {
        do {
            return try client.resource(apiVersion: "argoproj.io/v1alpha1", kind: "Application")
        } catch let error as DRError where error.code == .notFound {
            throw DRError(.notFound, "\(action): the cluster does not serve ArgoCD Applications (argoproj.io/v1alpha1)",
                          hint: "install ArgoCD (its CRDs) first, e.g. with the runbook's k8s.apply step")
        }
    }

    /// The Deployment or StatefulSet resource for `kind` (`deployment`, `statefulset`).
    static func workload(_ client: KubeClient, kind: String) throws -> KubeClient.Resource {
        try client.resource(apiVersion: "apps/v1", kind: kind == "statefulset" ? "StatefulSet" : "Deployment")
    }

    /// `kind/namespace/name` or `kind/name` as kubectl prints objects.
    static func display(_ object: JSONValue) -> String {
        let kind = (object["kind"]?.stringValue ?? "?").lowercased()
        let name = object[path: ["metadata", "name"]]?.stringValue ?? "?"
        if let namespace = object[path: ["metadata", "namespace"]]?.stringValue { return "\(kind)/\(namespace)/\(name)" }
        return "\(kind)/\(name)"
    }
}

/// File-system moves used by the restore actions: never delete, move aside.
enum FileSwap {
    /// A name next to `path` that does not exist yet: `path + suffix`, then `-2`, `-3` ….
    static func freeName(_ base: String) -> String {
        if !FileIO.exists(base) && !isSymlink(base) { return base }
        var n = 2
        while FileIO.exists("\(base)-\(n)") || isSymlink("\(base)-\(n)") { n += 1 }
        return "\(base)-\(n)"
    }

    static func isSymlink(_ path: String) -> Bool {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) != nil
    }

    /// Whether `path` is an empty folder.
    static func isEmptyDirectory(_ path: String) -> Bool {
        FileIO.isDirectory(path) && FileIO.list(path).isEmpty
    }

    /// Whether `path` is a mount point (another device than its parent): it cannot be renamed.
    static func isMountPoint(_ path: String) -> Bool {
        let parent = (path as NSString).deletingLastPathComponent
        guard let a = try? FileManager.default.attributesOfItem(atPath: path)[.systemNumber] as? NSNumber,
              let b = try? FileManager.default.attributesOfItem(atPath: parent.isEmpty ? "/" : parent)[.systemNumber] as? NSNumber
        else { return false }
        return a != b
    }
}
