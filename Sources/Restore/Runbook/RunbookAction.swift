public import DRCore
public import Foundation
public import Logging

/// A built-in action (`drctl` blocks): bound at plan time, run at execution time.
///
/// Binding resolves everything a step will use (snapshots, paths, objects, commands) and
/// fails for unmet requirements, so a plan that binds is a plan that can start.
public protocol RunbookAction: Sendable {
    /// The name used in `action:` (`git.restore-bundle`).
    static var name: String { get }
    /// The default time limit of one attempt.
    static var defaultTimeout: Duration { get }
    /// Binds the step's YAML arguments (after `{{param}}` substitution).
    init(arguments: JSONValue, context: PlanContext) throws
    /// What will happen, one line each: commands, snapshot ids and ages, objects, manifests.
    var plan: [String] { get }
    /// Snapshot ids this step restores from (journaled with the execution).
    var snapshots: [String] { get }
    /// True when the work is already done, so a re-run skips the step.
    func isDone(_ context: ExecutionContext) throws -> Bool
    /// Does the work within `context.deadline`; returns whether anything changed.
    func run(_ context: ExecutionContext) throws -> StepOutcome
    /// Local paths the step writes (a drill refuses to start when one is outside its sandbox).
    var writes: [String] { get }
}

extension RunbookAction {
    /// Most actions write no local path.
    public var writes: [String] { [] }
}

/// The result of running a step.
public enum StepOutcome: String, Sendable, Codable {
    /// Done, nothing needed changing.
    case ok
    /// Done, something changed.
    case changed
}

/// What binding a step may look at. Nothing here changes anything.
public struct PlanContext: Sendable {
    public var workspace: Workspace
    /// Bind snapshots taken at or before this time (`--at`, default now).
    public var at: Date
    /// The runbook's parameters.
    public var params: [String: String]
    /// The cluster, when the configuration reaches one (created lazily by the caller).
    public var cluster: (@Sendable () throws -> KubeClient)?
    /// Folder of the runbook file (relative paths in arguments resolve against it);
    /// nil for runbooks compiled into drctl.
    public var runbookDirectory: String?
    /// In a drill: the sandbox that local targets are redirected into; nil in an incident.
    public var drill: DrillSandbox?

    public init(workspace: Workspace, at: Date, params: [String: String],
                cluster: (@Sendable () throws -> KubeClient)?, runbookDirectory: String?, drill: DrillSandbox? = nil) {
        self.drill = drill
        self.workspace = workspace
        self.at = at
        self.params = params
        self.cluster = cluster
        self.runbookDirectory = runbookDirectory
    }

    /// The cluster client, or a clear error naming the step's action.
    public func requireCluster(for action: String) throws -> KubeClient {
        guard let cluster else {
            throw DRError(.config, "\(action) needs a Kubernetes cluster and none is configured",
                          hint: "add a `cluster:` section to drctl.yaml, or set KUBECONFIG")
        }
        return try cluster()
    }
}

/// What a running step may use.
public struct ExecutionContext: Sendable {
    public var workspace: Workspace
    public var cluster: (@Sendable () throws -> KubeClient)?
    /// The end of this attempt's time limit.
    public var deadline: ContinuousClock.Instant
    /// Live output: one line at a time, shown to the operator and kept (redacted) in the journal.
    public var output: @Sendable (String) -> Void
    /// In a drill: the sandbox that local targets are redirected into; nil in an incident.
    public var drill: DrillSandbox?
    public var logger: Logger { workspace.logger }

    public init(workspace: Workspace, cluster: (@Sendable () throws -> KubeClient)?,
                deadline: ContinuousClock.Instant, output: @escaping @Sendable (String) -> Void,
                drill: DrillSandbox? = nil) {
        self.drill = drill
        self.workspace = workspace
        self.cluster = cluster
        self.deadline = deadline
        self.output = output
    }

    /// The cluster client; binding already proved one is configured.
    public func requireCluster() throws -> KubeClient {
        guard let cluster else { throw DRError(.config, "no Kubernetes cluster is configured") }
        return try cluster()
    }

    /// Time left before the deadline (zero when passed).
    public var remaining: Duration { max(.zero, deadline - .now) }
}
