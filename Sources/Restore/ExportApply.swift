public import DRCore
import Snapshots
import Foundation
internal import Logging

/// Restores a `secrets` or `argocd-state` export to a cluster with server-side apply, in
/// dependency order: CustomResourceDefinitions (then waits until they are Established),
/// Namespaces, Secrets / ConfigMaps / ServiceAccounts, then everything else.
public enum ExportApply {
    /// What to apply and how.
    public struct Options: Sendable {
        /// Only namespaced objects in these namespaces (all when empty).
        public var namespaces: [String]
        /// Only objects with these names (all when empty).
        public var names: [String]
        /// Ask the server what would change (`dryRun=All`), change nothing.
        public var dryRun: Bool
        /// Replace immutable Secrets and ConfigMaps that differ (delete, then create).
        public var replaceImmutable: Bool
        /// How long to wait for a CustomResourceDefinition to become Established.
        public var crdTimeout: Duration

        public init(namespaces: [String] = [], names: [String] = [], dryRun: Bool = false,
                    replaceImmutable: Bool = false, crdTimeout: Duration = .seconds(60)) {
            self.namespaces = namespaces
            self.names = names
            self.dryRun = dryRun
            self.replaceImmutable = replaceImmutable
            self.crdTimeout = crdTimeout
        }
    }

    /// What happened to one object, in `kubectl apply` words.
    public struct Result: Sendable, Codable {
        /// `kind/name` or `kind/namespace/name`, lowercase kind as kubectl prints it.
        public var object: String
        /// `created`, `configured`, `unchanged`, `replaced` or `failed`.
        public var action: String
        public var error: String?
    }

    /// The outcome of one apply.
    public struct Report: Sendable, Codable {
        public var snapshot: SnapshotRecord
        public var dryRun: Bool
        public var results: [Result]
        public var failures: Int { results.filter { $0.action == "failed" }.count }
    }

    /// Applies export snapshot `id` through `client`.
    public static func apply(_ id: String, options: Options, client: KubeClient, in workspace: Workspace) throws -> Report {
        let snapshot = try workspace.catalog.snapshot(matching: id)
        guard SourceKind(rawValue: snapshot.kind)?.holdsKubernetesObjects == true else {
            throw DRError(.refused, "snapshot \(snapshot.shortID) is a \(snapshot.kind) snapshot; `apply` restores secrets and argocd-state exports",
                          hint: "use `drctl snapshots extract` for it")
        }
        let objects = select(try KubeExtract.objects(of: snapshot, in: workspace), options: options)
        if objects.isEmpty {
            throw DRError(.notFound, "nothing in snapshot \(snapshot.shortID) matches the given --namespace/--name filters")
        }
        var report = Report(snapshot: snapshot, dryRun: options.dryRun, results: [])
        let applier = Applier(client: client, options: options, logger: workspace.logger)

        let crds = objects.filter { kind($0) == "CustomResourceDefinition" }
        for crd in crds { report.results.append(applier.apply(crd)) }
        if !options.dryRun {
            for crd in crds where report.results.last(where: { $0.object == display(crd) })?.action != "failed" {
                try applier.waitEstablished(name(crd))
            }
        }
        var namespaces = Set(objects.filter { kind($0) == "Namespace" }.map(name))
        for object in objects where kind(object) == "Namespace" { report.results.append(applier.apply(object)) }
        for namespace in Set(objects.compactMap(namespaceOf)).sorted() where !namespaces.contains(namespace) {
            namespaces.insert(namespace)
            if let result = applier.ensureNamespace(namespace) { report.results.append(result) }
        }
        for object in objects where kind(object) != "CustomResourceDefinition" && kind(object) != "Namespace" {
            report.results.append(applier.apply(object))
        }
        return report
    }

    /// The objects the filters keep; cluster-scoped definitions stay when a kept object needs them.
    static func select(_ objects: [JSONValue], options: Options) -> [JSONValue] {
        let kept = objects.filter { object in
            guard kind(object) != "CustomResourceDefinition", kind(object) != "Namespace" else { return false }
            if !options.names.isEmpty, !options.names.contains(name(object)) { return false }
            if !options.namespaces.isEmpty {
                guard let namespace = namespaceOf(object), options.namespaces.contains(namespace) else { return false }
            }
            return true
        }
        let keptKinds = Set(kept.map { "\(group($0))/\(kind($0))" })
        let keptNamespaces = Set(kept.compactMap(namespaceOf))
        let crds = objects.filter { object in
            guard kind(object) == "CustomResourceDefinition" else { return false }
            let defined = "\(object[path: ["spec", "group"]]?.stringValue ?? "")/\(object[path: ["spec", "names", "kind"]]?.stringValue ?? "")"
            return keptKinds.contains(defined) || (options.names.isEmpty && options.namespaces.isEmpty)
        }
        let namespaces = objects.filter { kind($0) == "Namespace" && (keptNamespaces.contains(name($0)) || options.namespaces.contains(name($0))) }
        return KubeExport.sorted(crds + namespaces + kept)
    }

    static func kind(_ object: JSONValue) -> String { object["kind"]?.stringValue ?? "" }
    static func name(_ object: JSONValue) -> String { object[path: ["metadata", "name"]]?.stringValue ?? "" }
    static func namespaceOf(_ object: JSONValue) -> String? { object[path: ["metadata", "namespace"]]?.stringValue }
    static func group(_ object: JSONValue) -> String {
        let apiVersion = object["apiVersion"]?.stringValue ?? ""
        return apiVersion.contains("/") ? String(apiVersion.split(separator: "/")[0]) : ""
    }
    static func display(_ object: JSONValue) -> String {
        let kindName = kind(object).lowercased()
        return namespaceOf(object).map { "\(kindName)/\($0)/\(name(object))" } ?? "\(kindName)/\(name(object))"
    }
}

/// Applies single objects and classifies the outcome.
struct Applier {
    let client: KubeClient
    let options: ExportApply.Options
    let logger: Logger

    func apply(_ object: JSONValue) -> ExportApply.Result {
        let display = ExportApply.display(object)
        var before: JSONValue?
        do {
            let resource = try client.resource(apiVersion: object["apiVersion"]?.stringValue ?? "", kind: ExportApply.kind(object))
            before = try client.get(resource, namespace: resource.namespaced ? ExportApply.namespaceOf(object) : nil,
                                    name: ExportApply.name(object))
            let after = try client.apply(object, dryRun: options.dryRun)
            let action = before.map { same($0, after) ? "unchanged" : "configured" } ?? "created"
            return ExportApply.Result(object: display, action: action, error: nil)
        } catch {
            let message = redact(DRError.describe(error), object)
            if let before, before["immutable"]?.boolValue == true, isImmutabilityError(message) {
                return replaceImmutable(object, display: display)
            }
            logger.error("\(display): \(message)")
            return ExportApply.Result(object: display, action: "failed", error: message)
        }
    }

    func replaceImmutable(_ object: JSONValue, display: String) -> ExportApply.Result {
        guard options.replaceImmutable else {
            return ExportApply.Result(object: display, action: "failed",
                                      error: "immutable and different from the export; rerun with --replace-immutable to delete and re-create it")
        }
        if options.dryRun { return ExportApply.Result(object: display, action: "replaced", error: nil) }
        do {
            let resource = try client.resource(apiVersion: object["apiVersion"]?.stringValue ?? "", kind: ExportApply.kind(object))
            try client.delete(resource, namespace: ExportApply.namespaceOf(object), name: ExportApply.name(object))
            _ = try client.create(object)
            return ExportApply.Result(object: display, action: "replaced", error: nil)
        } catch {
            let message = redact(DRError.describe(error), object)
            return ExportApply.Result(object: display, action: "failed", error: "replacing the immutable object failed: \(message)")
        }
    }

    /// Creates a namespace the export's objects need, unless it exists.
    func ensureNamespace(_ name: String) -> ExportApply.Result? {
        let object: JSONValue = .object(["apiVersion": .string("v1"), "kind": .string("Namespace"),
                                         "metadata": .object(["name": .string(name)])])
        do {
            let resource = try client.resource(apiVersion: "v1", kind: "Namespace")
            if try client.get(resource, namespace: nil, name: name) != nil { return nil }
        } catch {
            return ExportApply.Result(object: "namespace/\(name)", action: "failed", error: DRError.describe(error))
        }
        return apply(object)
    }

    /// Polls the CRD until its `Established` condition is `True`.
    func waitEstablished(_ name: String) throws {
        let resource = try client.resource(apiVersion: "apiextensions.k8s.io/v1", kind: "CustomResourceDefinition")
        let deadline = ContinuousClock.now + options.crdTimeout
        while true {
            let conditions = try client.get(resource, namespace: nil, name: name)?[path: ["status", "conditions"]]?.arrayValue ?? []
            if conditions.contains(where: { $0["type"]?.stringValue == "Established" && $0["status"]?.stringValue == "True" }) { return }
            guard ContinuousClock.now < deadline else {
                throw DRError(.failed, "CustomResourceDefinition \(name) was not Established within \(options.crdTimeout)")
            }
            Thread.sleep(forTimeInterval: 0.2)
        }
    }

    /// Whether two versions of an object agree once server-owned fields are ignored.
    func same(_ a: JSONValue, _ b: JSONValue) -> Bool {
        KubeExport.clean(a) == KubeExport.clean(b)
    }

    func isImmutabilityError(_ message: String) -> Bool {
        message.localizedCaseInsensitiveContains("immutable")
    }

    /// Removes the object's data values (as stored and base64-decoded) from an API message.
    func redact(_ message: String, _ object: JSONValue) -> String {
        var text = message
        for field in ["data", "stringData"] {
            for value in (object[field]?.objectValue ?? [:]).values.compactMap(\.stringValue) where value.count >= 4 {
                text = text.replacingOccurrences(of: value, with: "[redacted]")
                if let decoded = Data(base64Encoded: value), let plain = String(data: decoded, encoding: .utf8), plain.count >= 4 {
                    text = text.replacingOccurrences(of: plain, with: "[redacted]")
                }
            }
        }
        return text
    }
}
