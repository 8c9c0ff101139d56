public import DRCore
import Foundation

/// Restores an export snapshot (`secrets` or `argocd-state`) with ``ExportApply``.
struct ExportRestore: Sendable {
    let action: String
    let bound: ActionSnapshot
    /// `kind/namespace/name` of every object, from the catalog (names only, never values).
    let objects: [String]

    init(arguments: JSONValue, context: PlanContext, action: String, kind: SourceKind) throws {
        self.action = action
        let args = try ActionArguments(arguments, action: action, known: ["source"])
        let source = try args.string("source", "a \(kind.rawValue) source name")
        if context.workspace.config.source(named: source) != nil {
            _ = try context.source(source, kind: kind, for: action)
        }
        try context.requireClusterConfigured(for: action)
        guard context.workspace.codec.canDecrypt else {
            throw DRError(.crypto, "\(action): \(kind.rawValue) snapshots are encrypted and no age identity is configured to decrypt them",
                          hint: "set `encryption.identity:` in \(context.workspace.config.file) to the identity file (e.g. the offline break-glass key)")
        }
        bound = try context.bindSnapshot(source: source, kind: kind, for: action, needsIdentity: false)
        objects = try context.workspace.catalog.kubeObjects(of: bound.snapshot.id).map(\.displayName).sorted()
    }

    var plan: [String] {
        ["server-side apply of \(objects.count) object(s) from \(bound.summary)"] + objects.map { "  \($0)" }
    }

    /// Done when a server dry run of the export changes nothing.
    func isDone(_ context: ExecutionContext) throws -> Bool {
        let report = try ExportApply.apply(bound.snapshot.id, options: .init(dryRun: true), client: try context.requireCluster(), in: context.workspace)
        return report.results.allSatisfy { $0.action == "unchanged" }
    }

    func run(_ context: ExecutionContext) throws -> StepOutcome {
        var options = ExportApply.Options()
        options.crdTimeout = max(.seconds(1), min(.seconds(120), context.remaining))
        let report = try ExportApply.apply(bound.snapshot.id, options: options, client: try context.requireCluster(), in: context.workspace)
        for result in report.results {
            context.output("\(result.object) \(result.action)\(result.error.map { ": \($0)" } ?? "")")
        }
        let failed = report.results.filter { $0.action == "failed" }
        guard failed.isEmpty else {
            throw DRError(.failed, "\(action): \(failed.count) of \(report.results.count) object(s) of snapshot \(bound.snapshot.shortID) failed: \(failed.prefix(5).map { "\($0.object): \($0.error ?? "failed")" }.joined(separator: "; "))",
                          hint: "an immutable Secret that differs needs `drctl snapshots apply \(bound.snapshot.shortID) --replace-immutable`")
        }
        return report.results.allSatisfy({ $0.action == "unchanged" }) ? .ok : .changed
    }
}

/// `secrets.restore {source}`: applies the newest verified `secrets` export at or before the
/// restore time to the cluster (namespaces created as needed). Needs an age identity.
public struct SecretsRestoreAction: RunbookAction {
    public static let name = "secrets.restore"
    public static let defaultTimeout: Duration = .seconds(300)

    let restore: ExportRestore

    public init(arguments: JSONValue, context: PlanContext) throws {
        restore = try ExportRestore(arguments: arguments, context: context, action: Self.name, kind: .secrets)
    }

    public var plan: [String] { restore.plan }
    public var snapshots: [String] { [restore.bound.snapshot.id] }
    public func isDone(_ context: ExecutionContext) throws -> Bool { try restore.isDone(context) }
    public func run(_ context: ExecutionContext) throws -> StepOutcome { try restore.run(context) }
}

/// `argocd-state.restore {source}`: applies the newest verified `argocd-state` export (CRDs,
/// Applications, AppProjects, ArgoCD's ConfigMaps and Secrets) to the cluster. Needs an age identity.
public struct ArgoStateRestoreAction: RunbookAction {
    public static let name = "argocd-state.restore"
    public static let defaultTimeout: Duration = .seconds(300)

    let restore: ExportRestore

    public init(arguments: JSONValue, context: PlanContext) throws {
        restore = try ExportRestore(arguments: arguments, context: context, action: Self.name, kind: .argocdState)
    }

    public var plan: [String] { restore.plan }
    public var snapshots: [String] { [restore.bound.snapshot.id] }
    public func isDone(_ context: ExecutionContext) throws -> Bool { try restore.isDone(context) }
    public func run(_ context: ExecutionContext) throws -> StepOutcome { try restore.run(context) }
}

/// `manual {instructions}`: a step only a person can do (e.g. "provision a new cluster").
/// The plan shows the instructions; running prints them and succeeds; the executor asks the
/// operator to confirm before it continues.
public struct ManualAction: RunbookAction {
    public static let name = "manual"
    public static let defaultTimeout: Duration = .seconds(86400)

    public let instructions: [String]

    public init(arguments: JSONValue, context: PlanContext) throws {
        let args = try ActionArguments(arguments, action: Self.name, known: ["instructions"])
        let text = try args.string("instructions", "what the operator must do")
        instructions = text.split(separator: "\n", omittingEmptySubsequences: false).map { String($0) }
    }

    public var plan: [String] { ["manual step; the operator does this and confirms:"] + instructions.map { "  \($0)" } }
    public var snapshots: [String] { [] }
    public func isDone(_ context: ExecutionContext) throws -> Bool { false }

    public func run(_ context: ExecutionContext) throws -> StepOutcome {
        for line in instructions { context.output(line) }
        return .ok
    }
}
