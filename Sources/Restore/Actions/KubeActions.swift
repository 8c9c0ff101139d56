public import DRCore
import Foundation
import Snapshots

/// `k8s.apply {path, namespace?}`: server-side applies a YAML file or a folder of YAML files.
///
/// A folder's `*.yaml`, `*.yml` and `*.json` files are read in name order (not recursively, as
/// `kubectl apply -f DIR`); every file may hold several documents and `List`s. A folder with a
/// `kustomization.yaml` is built with `kustomize build` or `kubectl kustomize` (one must be on
/// PATH; binding checks). Objects are applied in dependency order: CRDs (then waits until they
/// are Established), Namespaces, Secrets/ConfigMaps/ServiceAccounts, the rest. `namespace` is
/// used for namespaced objects that name none. Relative paths resolve against the runbook's
/// folder, then the config file's folder.
public struct K8sApplyAction: RunbookAction {
    public static let name = "k8s.apply"
    public static let defaultTimeout: Duration = .seconds(600)

    /// The file or folder applied.
    public let path: String
    let namespace: String?
    /// The objects, in apply order.
    let objects: [JSONValue]
    /// How the objects were produced (for the plan).
    let origin: String

    public init(arguments: JSONValue, context: PlanContext) throws {
        let args = try ActionArguments(arguments, action: Self.name, known: ["path", "namespace"])
        let path = context.resolvePath(try args.string("path", "a YAML file or folder"))
        self.path = path
        namespace = try args.optionalString("namespace")
        try context.requireClusterConfigured(for: Self.name)
        guard FileIO.exists(path) else {
            throw DRError(.notFound, "\(Self.name): \(path) does not exist",
                          hint: "relative paths resolve against the runbook's folder, then the config file's folder")
        }
        var documents: [(file: String, values: [JSONValue])] = []
        let builtFrom: String
        if FileIO.isDirectory(path) {
            if let kustomization = ["kustomization.yaml", "kustomization.yml", "Kustomization"].first(where: { FileIO.exists("\(path)/\($0)") }) {
                let output = try Self.kustomize(path, environment: context.workspace.environment)
                builtFrom = "kustomize build of \(path) (\(kustomization))"
                documents.append((path, try Self.parse(output, file: "kustomize build \(path)")))
            } else {
                let files = FileIO.list(path).filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") || $0.hasSuffix(".json") }.sorted()
                guard !files.isEmpty else {
                    throw DRError(.notFound, "\(Self.name): \(path) holds no .yaml, .yml or .json file")
                }
                builtFrom = "\(files.count) file(s) in \(path)"
                for file in files where !FileIO.isDirectory("\(path)/\(file)") {
                    let text = String(decoding: try FileIO.read("\(path)/\(file)"), as: UTF8.self)
                    documents.append(("\(path)/\(file)", try Self.parse(text, file: "\(path)/\(file)")))
                }
            }
        } else {
            builtFrom = path
            documents.append((path, try Self.parse(String(decoding: try FileIO.read(path), as: UTF8.self), file: path)))
        }
        origin = builtFrom
        var objects: [JSONValue] = []
        for (file, values) in documents {
            for value in values {
                guard value["apiVersion"]?.stringValue?.isEmpty == false, value["kind"]?.stringValue?.isEmpty == false,
                      value[path: ["metadata", "name"]]?.stringValue?.isEmpty == false else {
                    throw DRError(.config, "\(Self.name): \(file): every document needs apiVersion, kind and metadata.name")
                }
                objects.append(value)
            }
        }
        guard !objects.isEmpty else { throw DRError(.notFound, "\(Self.name): \(path) holds no Kubernetes object") }
        self.objects = KubeExport.sorted(objects)
    }

    /// Documents of a YAML stream, with `List` items expanded.
    static func parse(_ text: String, file: String) throws -> [JSONValue] {
        let documents: [JSONValue]
        do {
            documents = try JSONValue.parseYAMLDocuments(text)
        } catch {
            throw DRError(.config, "\(Self.name): \(file) is not valid YAML: \(error)")
        }
        return documents.flatMap { document -> [JSONValue] in
            if let items = document["items"]?.arrayValue, (document["kind"]?.stringValue ?? "").hasSuffix("List") { return items }
            return [document]
        }
    }

    /// Runs `kustomize build DIR` or `kubectl kustomize DIR`.
    static func kustomize(_ directory: String, environment: Environment) throws -> String {
        var command: Command
        if let kustomize = environment.which("kustomize") {
            command = Command(kustomize, ["build", directory], environment: environment)
        } else if let kubectl = environment.which("kubectl") {
            command = Command(kubectl, ["kustomize", directory], environment: environment)
        } else {
            throw DRError(.missingTool, "\(Self.name): \(directory) is a Kustomize folder and neither `kustomize` nor `kubectl` is on PATH",
                          hint: "install kubectl (it includes `kubectl kustomize`) or kustomize, or point `path:` at plain YAML files")
        }
        command.timeout = .seconds(120)
        let result = try command.run()
        guard result.succeeded else {
            throw DRError(.failed, "\(Self.name): building \(directory) with \((command.executable as NSString).lastPathComponent) failed: \(result.stderr.trimmingWhitespace().lastLines(5))")
        }
        return result.stdoutText
    }

    public var plan: [String] {
        ["server-side apply (field manager drctl) of \(objects.count) object(s) from \(origin)\(namespace.map { ", default namespace \($0)" } ?? ""):"]
            + objects.map { "  \(KubeSupport.display($0))" }
    }

    public var snapshots: [String] { [] }

    func withNamespace(_ object: JSONValue, namespaced: Bool) -> JSONValue {
        guard namespaced, let namespace, object[path: ["metadata", "namespace"]]?.stringValue?.isEmpty ?? true else { return object }
        var object = object
        var metadata = object["metadata"]?.objectValue ?? [:]
        metadata["namespace"] = .string(namespace)
        object["metadata"] = .object(metadata)
        return object
    }

    /// Done when a server dry run of every object changes nothing.
    public func isDone(_ context: ExecutionContext) throws -> Bool {
        let client = try context.requireCluster()
        let applier = Applier(client: client, options: ExportApply.Options(dryRun: true), logger: context.logger)
        for object in objects {
            guard let resource = try? client.resource(apiVersion: object["apiVersion"]?.stringValue ?? "", kind: object["kind"]?.stringValue ?? "")
            else { return false }
            if applier.apply(withNamespace(object, namespaced: resource.namespaced)).action != "unchanged" { return false }
        }
        return true
    }

    public func run(_ context: ExecutionContext) throws -> StepOutcome {
        let client = try context.requireCluster()
        var options = ExportApply.Options()
        options.crdTimeout = max(.seconds(1), min(.seconds(120), context.remaining))
        let applier = Applier(client: client, options: options, logger: context.logger)
        var failures: [String] = []
        var changed = false
        var namespaces: Set<String> = []
        for object in objects {
            let kind = object["kind"]?.stringValue ?? ""
            let resource: KubeClient.Resource
            do {
                resource = try client.resource(apiVersion: object["apiVersion"]?.stringValue ?? "", kind: kind)
            } catch {
                let line = "\(KubeSupport.display(object)): \(DRError.describe(error))"
                context.output("failed \(line)")
                failures.append(line)
                continue
            }
            let object = withNamespace(object, namespaced: resource.namespaced)
            if resource.namespaced, let namespace = object[path: ["metadata", "namespace"]]?.stringValue, !namespaces.contains(namespace) {
                namespaces.insert(namespace)
                if kind != "Namespace", let created = applier.ensureNamespace(namespace) {
                    context.output("\(created.object) \(created.action)\(created.error.map { ": \($0)" } ?? "")")
                    if created.action != "unchanged" { changed = true }
                }
            }
            if kind == "Namespace", let name = object[path: ["metadata", "name"]]?.stringValue { namespaces.insert(name) }
            let result = applier.apply(object)
            context.output("\(result.object) \(result.action)\(result.error.map { ": \($0)" } ?? "")")
            if result.action == "failed" {
                failures.append("\(result.object): \(result.error ?? "failed")")
                continue
            }
            if result.action != "unchanged" { changed = true }
            if kind == "CustomResourceDefinition", let name = object[path: ["metadata", "name"]]?.stringValue {
                try applier.waitEstablished(name)
                client.invalidateDiscovery()
            }
        }
        guard failures.isEmpty else {
            throw DRError(.failed, "\(Self.name): \(failures.count) of \(objects.count) object(s) from \(origin) failed: \(failures.prefix(5).joined(separator: "; "))",
                          hint: "fix the manifests or the cluster and run the step again; applied objects stay applied")
        }
        return changed ? .changed : .ok
    }
}

/// `k8s.create-namespace {name}`: creates a Namespace unless it exists.
public struct K8sCreateNamespaceAction: RunbookAction {
    public static let name = "k8s.create-namespace"
    public static let defaultTimeout: Duration = .seconds(60)

    public let namespace: String

    public init(arguments: JSONValue, context: PlanContext) throws {
        let args = try ActionArguments(arguments, action: Self.name, known: ["name"])
        namespace = try args.string("name", "the namespace")
        let valid = namespace.count <= 63 && namespace.allSatisfy { ($0.isLetter && $0.isLowercase && $0.isASCII) || $0.isNumber || $0 == "-" }
            && namespace.first != "-" && namespace.last != "-"
        guard valid else {
            throw DRError(.config, "\(Self.name): `\(namespace)` is not a namespace name (lowercase letters, digits and `-`, at most 63)")
        }
        try context.requireClusterConfigured(for: Self.name)
    }

    public var plan: [String] { ["create namespace \(namespace) (unless it exists)"] }
    public var snapshots: [String] { [] }

    public func isDone(_ context: ExecutionContext) throws -> Bool {
        try context.requireCluster().get(KubeSupport.namespaceResource, namespace: nil, name: namespace) != nil
    }

    public func run(_ context: ExecutionContext) throws -> StepOutcome {
        let client = try context.requireCluster()
        if try client.get(KubeSupport.namespaceResource, namespace: nil, name: namespace) != nil {
            context.output("namespace/\(namespace) exists")
            return .ok
        }
        _ = try client.create(.object(["apiVersion": .string("v1"), "kind": .string("Namespace"),
                                       "metadata": .object(["name": .string(namespace)])]))
        context.output("namespace/\(namespace) created")
        return .changed
    }
}

/// `k8s.rollout-restart {deployment | statefulset: ns/name}`: restarts a workload's pods as
/// `kubectl rollout restart` does (a strategic-merge patch of the pod template's
/// `kubectl.kubernetes.io/restartedAt` annotation). Never skipped: a restart is the point.
public struct K8sRolloutRestartAction: RunbookAction {
    public static let name = "k8s.rollout-restart"
    public static let defaultTimeout: Duration = .seconds(60)

    let kind: String
    let target: ObjectReference

    public init(arguments: JSONValue, context: PlanContext) throws {
        let args = try ActionArguments(arguments, action: Self.name, known: ["deployment", "statefulset"])
        let (kind, target) = try K8sWaitAction.workloadArgument(args)
        self.kind = kind
        self.target = target
        try context.requireClusterConfigured(for: Self.name)
    }

    public var plan: [String] {
        ["kubectl rollout restart \(kind) -n \(target.namespace) \(target.name) (patch spec.template.metadata.annotations[kubectl.kubernetes.io/restartedAt])"]
    }

    public var snapshots: [String] { [] }

    public func isDone(_ context: ExecutionContext) throws -> Bool { false }

    public func run(_ context: ExecutionContext) throws -> StepOutcome {
        let client = try context.requireCluster()
        let resource = try KubeSupport.workload(client, kind: kind)
        guard try client.get(resource, namespace: target.namespace, name: target.name) != nil else {
            throw DRError(.notFound, "\(Self.name): \(kind) \(target) does not exist",
                          hint: "check the name and namespace (kubectl get \(kind) -n \(target.namespace))")
        }
        let now = ActionFormat.rfc3339(context.workspace.now())
        let patch: JSONValue = .object(["spec": .object(["template": .object(["metadata": .object([
            "annotations": .object(["kubectl.kubernetes.io/restartedAt": .string(now)]),
        ])])])])
        _ = try client.patch(resource, namespace: target.namespace, name: target.name, type: .strategicMerge, body: patch)
        context.output("\(kind).apps/\(target.name) restarted (restartedAt \(now))")
        return .changed
    }
}

/// `k8s.wait {deployment | statefulset: ns/name, timeout?}`: waits until the workload is
/// available: `observedGeneration >= generation` and `updatedReplicas == availableReplicas == replicas`.
/// A missing workload is waited for too (a sync may be creating it).
public struct K8sWaitAction: RunbookAction {
    public static let name = "k8s.wait"
    public static let defaultTimeout: Duration = .seconds(300)

    let kind: String
    let target: ObjectReference
    let timeout: Duration?

    public init(arguments: JSONValue, context: PlanContext) throws {
        let args = try ActionArguments(arguments, action: Self.name, known: ["deployment", "statefulset", "timeout"])
        let (kind, target) = try Self.workloadArgument(args)
        self.kind = kind
        self.target = target
        timeout = try args.duration("timeout")
        try context.requireClusterConfigured(for: Self.name)
    }

    static func workloadArgument(_ args: ActionArguments) throws -> (String, ObjectReference) {
        let given = ["deployment", "statefulset"].filter { args.values[$0] != nil }
        guard given.count == 1, let kind = given.first else {
            throw DRError(.config, "\(args.action): give exactly one of `deployment: ns/name` or `statefulset: ns/name`")
        }
        return (kind, try args.objectReference(kind, kind))
    }

    public var plan: [String] {
        ["wait until \(kind) \(target) is available (all replicas updated and available)\(timeout.map { ", at most \(ActionFormat.duration($0))" } ?? "")"]
    }

    public var snapshots: [String] { [] }

    /// Nil when available, else what is still missing.
    static func pending(_ object: JSONValue?) -> String? {
        guard let object else { return "it does not exist" }
        let generation = object[path: ["metadata", "generation"]]?.intValue ?? 0
        let observed = object[path: ["status", "observedGeneration"]]?.intValue ?? 0
        let replicas = object[path: ["spec", "replicas"]]?.intValue ?? 1
        let updated = object[path: ["status", "updatedReplicas"]]?.intValue ?? 0
        let available = object[path: ["status", "availableReplicas"]]?.intValue ?? 0
        let statusReplicas = object[path: ["status", "replicas"]]?.intValue ?? 0
        if observed < generation { return "the controller has not observed generation \(generation) yet (observed \(observed))" }
        if updated == replicas, available == replicas, statusReplicas == replicas { return nil }
        return "\(updated) of \(replicas) replicas updated, \(available) available"
    }

    public func isDone(_ context: ExecutionContext) throws -> Bool {
        let client = try context.requireCluster()
        return Self.pending(try client.get(try KubeSupport.workload(client, kind: kind), namespace: target.namespace, name: target.name)) == nil
    }

    public func run(_ context: ExecutionContext) throws -> StepOutcome {
        let client = try context.requireCluster()
        let resource = try KubeSupport.workload(client, kind: kind)
        let deadline = context.deadline(limitedTo: timeout)
        let started = ContinuousClock.now
        var last = "not checked"
        let done: Bool? = try context.poll(until: deadline) {
            let object = try client.get(resource, namespace: target.namespace, name: target.name)
            guard let reason = Self.pending(object) else { return true }
            last = reason
            return nil
        }
        guard done != nil else {
            throw DRError(.failed, "\(Self.name): \(kind) \(target) was not available within \(ActionFormat.duration(ContinuousClock.now - started)): \(last)",
                          hint: "look at `kubectl -n \(target.namespace) describe \(kind) \(target.name)` and its pods' events")
        }
        context.output("\(kind) \(target) is available")
        return .ok
    }
}
