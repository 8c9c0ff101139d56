public import DRCore
import Foundation

/// The Applications an ArgoCD action works on.
struct ArgoApps: Sendable {
    var names: [String]
    var namespace: String

    static func bind(_ args: ActionArguments, context: PlanContext) throws -> ArgoApps {
        let names = try args.list("apps", "comma-separated Application names")
        let namespace = try args.optionalString("namespace") ?? "argocd"
        try context.requireClusterConfigured(for: args.action)
        return ArgoApps(names: names, namespace: namespace)
    }

    var display: String { names.map { "\(namespace)/\($0)" }.joined(separator: ", ") }

    /// Every Application, or a clear error naming the first missing one.
    func fetch(_ client: KubeClient, action: String) throws -> (KubeClient.Resource, [(String, JSONValue)]) {
        let resource = try KubeSupport.applications(client, action: action)
        var result: [(String, JSONValue)] = []
        for name in names {
            guard let app = try client.get(resource, namespace: namespace, name: name) else {
                throw DRError(.notFound, "\(action): Application \(namespace)/\(name) does not exist",
                              hint: "restore ArgoCD's state first (argocd-state.restore), or check the name (kubectl -n \(namespace) get applications)")
            }
            result.append((name, app))
        }
        return (resource, result)
    }
}

/// The annotation where `argocd.pause-autosync` keeps `spec.syncPolicy.automated` (as JSON).
let pausedAutomatedAnnotation = "drctl.io/paused-automated"
/// The annotation `argocd.sync` stamps with the request time, which `argocd.wait` compares.
let syncRequestedAnnotation = "drctl.io/sync-requested-at"

/// `argocd.pause-autosync {apps, namespace?}`: removes `spec.syncPolicy.automated` from each
/// Application so self-heal and prune do not fight a restore, remembering it in the
/// `drctl.io/paused-automated` annotation. Done when no listed Application auto-syncs.
public struct ArgoPauseAutosyncAction: RunbookAction {
    public static let name = "argocd.pause-autosync"
    public static let defaultTimeout: Duration = .seconds(60)

    let apps: ArgoApps

    public init(arguments: JSONValue, context: PlanContext) throws {
        apps = try ArgoApps.bind(try ActionArguments(arguments, action: Self.name, known: ["apps", "namespace"]), context: context)
    }

    public var plan: [String] {
        ["pause auto-sync of \(apps.display): remove spec.syncPolicy.automated, remembered in the \(pausedAutomatedAnnotation) annotation"]
    }

    public var snapshots: [String] { [] }

    public func isDone(_ context: ExecutionContext) throws -> Bool {
        let (_, found) = try apps.fetch(try context.requireCluster(), action: Self.name)
        return found.allSatisfy { $0.1[path: ["spec", "syncPolicy", "automated"]] == nil }
    }

    public func run(_ context: ExecutionContext) throws -> StepOutcome {
        let client = try context.requireCluster()
        let (resource, found) = try apps.fetch(client, action: Self.name)
        var changed = false
        for (name, app) in found {
            guard let automated = app[path: ["spec", "syncPolicy", "automated"]] else {
                context.output("application \(apps.namespace)/\(name): auto-sync already off")
                continue
            }
            let remembered = String(decoding: try automated.jsonData(), as: UTF8.self)
            let patch: JSONValue = .object([
                "metadata": .object(["annotations": .object([pausedAutomatedAnnotation: .string(remembered)])]),
                "spec": .object(["syncPolicy": .object(["automated": .null])]),
            ])
            _ = try client.patch(resource, namespace: apps.namespace, name: name, type: .merge, body: patch)
            context.output("application \(apps.namespace)/\(name): auto-sync paused (was \(remembered))")
            changed = true
        }
        return changed ? .changed : .ok
    }
}

/// `argocd.resume-autosync {apps, namespace?}`: puts back exactly the `spec.syncPolicy.automated`
/// that `argocd.pause-autosync` remembered and removes the annotation. Applications drctl did
/// not pause are left alone.
public struct ArgoResumeAutosyncAction: RunbookAction {
    public static let name = "argocd.resume-autosync"
    public static let defaultTimeout: Duration = .seconds(60)

    let apps: ArgoApps

    public init(arguments: JSONValue, context: PlanContext) throws {
        apps = try ArgoApps.bind(try ActionArguments(arguments, action: Self.name, known: ["apps", "namespace"]), context: context)
    }

    public var plan: [String] {
        ["resume auto-sync of \(apps.display): restore spec.syncPolicy.automated from the \(pausedAutomatedAnnotation) annotation"]
    }

    public var snapshots: [String] { [] }

    public func isDone(_ context: ExecutionContext) throws -> Bool {
        let (_, found) = try apps.fetch(try context.requireCluster(), action: Self.name)
        return found.allSatisfy { $0.1[path: ["metadata", "annotations", pausedAutomatedAnnotation]] == nil }
    }

    public func run(_ context: ExecutionContext) throws -> StepOutcome {
        let client = try context.requireCluster()
        let (resource, found) = try apps.fetch(client, action: Self.name)
        var changed = false
        for (name, app) in found {
            guard let remembered = app[path: ["metadata", "annotations", pausedAutomatedAnnotation]]?.stringValue else {
                context.output("application \(apps.namespace)/\(name): not paused by drctl, left as it is")
                continue
            }
            let automated: JSONValue
            do {
                automated = try JSONValue.parse(json: Data(remembered.utf8))
            } catch {
                throw DRError(.failed, "\(Self.name): Application \(apps.namespace)/\(name): the \(pausedAutomatedAnnotation) annotation is not JSON",
                              hint: "set spec.syncPolicy.automated by hand and remove the annotation")
            }
            // JSON patch: `add` replaces the member exactly (a merge patch would merge into a re-enabled one).
            var operations: [JSONValue] = []
            if app[path: ["spec", "syncPolicy"]]?.objectValue != nil {
                operations.append(.object(["op": .string("add"), "path": .string("/spec/syncPolicy/automated"), "value": automated]))
            } else {
                operations.append(.object(["op": .string("add"), "path": .string("/spec/syncPolicy"), "value": .object(["automated": automated])]))
            }
            operations.append(.object(["op": .string("remove"), "path": .string("/metadata/annotations/drctl.io~1paused-automated")]))
            _ = try client.patch(resource, namespace: apps.namespace, name: name, type: .json, body: .array(operations))
            context.output("application \(apps.namespace)/\(name): auto-sync resumed (\(remembered))")
            changed = true
        }
        return changed ? .changed : .ok
    }
}

/// `argocd.sync {apps, namespace?, force?, prune?}`: requests a sync of each Application by
/// setting its `.operation` through the API, as `argocd app sync` does (revision =
/// `spec.source.targetRevision`, or `revisions` of a multi-source Application, `prune`, hook
/// strategy with `force`, the Application's `syncOptions`, initiated by `drctl`).
/// Refuses while another operation is pending or running. Never skipped.
public struct ArgoSyncAction: RunbookAction {
    public static let name = "argocd.sync"
    public static let defaultTimeout: Duration = .seconds(60)

    let apps: ArgoApps
    let force: Bool
    let prune: Bool

    public init(arguments: JSONValue, context: PlanContext) throws {
        let args = try ActionArguments(arguments, action: Self.name, known: ["apps", "namespace", "force", "prune"])
        apps = try ArgoApps.bind(args, context: context)
        force = try args.bool("force", default: false)
        prune = try args.bool("prune", default: false)
    }

    public var plan: [String] {
        ["argocd app sync \(apps.names.joined(separator: " ")) (namespace \(apps.namespace))\(prune ? " --prune" : "")\(force ? " --force" : ""): set .operation.sync at each Application's targetRevision"]
    }

    public var snapshots: [String] { [] }

    public func isDone(_ context: ExecutionContext) throws -> Bool { false }

    /// The `.operation` `argocd app sync` would set.
    func operation(for app: JSONValue) -> JSONValue {
        func revision(_ source: JSONValue?) -> JSONValue {
            .string(source?["targetRevision"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? "HEAD")
        }
        var sync: [String: JSONValue] = ["syncStrategy": .object(["hook": .object(force ? ["force": .bool(true)] : [:])])]
        if app[path: ["spec", "source"]] == nil, let sources = app[path: ["spec", "sources"]]?.arrayValue {
            sync["revisions"] = .array(sources.map(revision))
        } else {
            sync["revision"] = revision(app[path: ["spec", "source"]])
        }
        if prune { sync["prune"] = .bool(true) }
        if let options = app[path: ["spec", "syncPolicy", "syncOptions"]] { sync["syncOptions"] = options }
        return .object(["sync": .object(sync), "initiatedBy": .object(["username": .string("drctl")])])
    }

    public func run(_ context: ExecutionContext) throws -> StepOutcome {
        let client = try context.requireCluster()
        let (resource, found) = try apps.fetch(client, action: Self.name)
        for (name, app) in found {
            let phase = app[path: ["status", "operationState", "phase"]]?.stringValue
            if phase == "Running" || phase == "Terminating" || app["operation"] != nil {
                let started = app[path: ["status", "operationState", "startedAt"]]?.stringValue.map { " since \($0)" } ?? ""
                throw DRError(.refused, "\(Self.name): Application \(apps.namespace)/\(name) has another operation \(phase == "Running" ? "running" : "pending")\(started)",
                              hint: "wait for it (argocd.wait), or stop it with `argocd app terminate-op \(name)`, then run the step again")
            }
        }
        let requested = ActionFormat.rfc3339(context.workspace.now())
        for (name, app) in found {
            let body: JSONValue = .object([
                "metadata": .object(["annotations": .object([syncRequestedAnnotation: .string(requested)])]),
                "operation": operation(for: app),
            ])
            _ = try client.patch(resource, namespace: apps.namespace, name: name, type: .merge, body: body)
            context.output("application \(apps.namespace)/\(name): sync requested at \(app[path: ["spec", "source", "targetRevision"]]?.stringValue ?? "HEAD")")
        }
        return .changed
    }
}

/// `argocd.wait {apps, namespace?, timeout?}`: waits until every Application's operation is
/// finished (no `.operation`, phase Succeeded, finished at or after drctl's sync request) and it
/// is Synced and Healthy. A Failed or Errored sync fails at once with ArgoCD's message.
public struct ArgoWaitAction: RunbookAction {
    public static let name = "argocd.wait"
    public static let defaultTimeout: Duration = .seconds(600)

    let apps: ArgoApps
    let timeout: Duration?

    public init(arguments: JSONValue, context: PlanContext) throws {
        let args = try ActionArguments(arguments, action: Self.name, known: ["apps", "namespace", "timeout"])
        apps = try ArgoApps.bind(args, context: context)
        timeout = try args.duration("timeout")
    }

    public var plan: [String] {
        ["wait until \(apps.display) are Synced and Healthy with their sync operation finished\(timeout.map { ", at most \(ActionFormat.duration($0))" } ?? "")"]
    }

    public var snapshots: [String] { [] }

    enum State {
        case done
        case pending(String)
        case failed(String)
    }

    static func state(_ app: JSONValue) -> State {
        let requested = app[path: ["metadata", "annotations", syncRequestedAnnotation]]?.stringValue.flatMap(ActionFormat.parseTime)
        let operationState = app[path: ["status", "operationState"]]
        let finished = operationState?["finishedAt"]?.stringValue.flatMap(ActionFormat.parseTime)
        let phase = operationState?["phase"]?.stringValue
        if app["operation"] != nil { return .pending("sync operation \(phase == "Running" ? "running" : "not started yet")") }
        if let requested, finished.map({ $0 < requested }) ?? true {
            return .pending("the sync requested at \(ActionFormat.rfc3339(requested)) has not finished")
        }
        if phase == "Failed" || phase == "Error" {
            return .failed(operationState?["message"]?.stringValue ?? "sync \(phase ?? "failed")")
        }
        if phase != nil, phase != "Succeeded" { return .pending("operation \(phase ?? "")") }
        let sync = app[path: ["status", "sync", "status"]]?.stringValue ?? "Unknown"
        let health = app[path: ["status", "health", "status"]]?.stringValue ?? "Unknown"
        if sync == "Synced", health == "Healthy" { return .done }
        return .pending("\(sync), \(health)")
    }

    public func isDone(_ context: ExecutionContext) throws -> Bool {
        let (_, found) = try apps.fetch(try context.requireCluster(), action: Self.name)
        return found.allSatisfy { if case .done = Self.state($0.1) { true } else { false } }
    }

    public func run(_ context: ExecutionContext) throws -> StepOutcome {
        let client = try context.requireCluster()
        let deadline = context.deadline(limitedTo: timeout)
        let started = ContinuousClock.now
        var waiting: [String: String] = [:]
        var reported: Set<String> = []
        let done: Bool? = try context.poll(until: deadline, interval: .milliseconds(250)) {
            let (_, found) = try apps.fetch(client, action: Self.name)
            waiting = [:]
            for (name, app) in found {
                switch Self.state(app) {
                case .done:
                    if reported.insert(name).inserted { context.output("application \(apps.namespace)/\(name): Synced, Healthy") }
                case .pending(let reason):
                    waiting[name] = reason
                case .failed(let message):
                    throw DRError(.failed, "\(Self.name): the sync of Application \(apps.namespace)/\(name) failed: \(message)",
                                  hint: "fix the cause (repository, manifests), then run argocd.sync again")
                }
            }
            return waiting.isEmpty ? true : nil
        }
        guard done != nil else {
            let detail = waiting.sorted { $0.key < $1.key }.map { "\(apps.namespace)/\($0.key): \($0.value)" }.joined(separator: "; ")
            throw DRError(.failed, "\(Self.name): not Synced and Healthy within \(ActionFormat.duration(ContinuousClock.now - started)): \(detail)",
                          hint: "check that ArgoCD's application controller runs (kubectl -n \(apps.namespace) get pods) and `argocd app get`")
        }
        return .ok
    }
}
