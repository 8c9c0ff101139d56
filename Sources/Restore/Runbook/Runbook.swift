public import DRCore
import Foundation

/// A parsed runbook: executable Markdown (`Runbooks/README.md` documents the format).
public struct Runbook: Sendable {
    /// The file's stem, which `drctl restore NAME` takes (`corrupted-repo`).
    public var name: String
    /// The first `# ` heading.
    public var title: String
    /// Where it was read from: a path, or `builtin:NAME.md` for the copy compiled into drctl.
    public var origin: String
    /// SHA-256 (hex) of the file's bytes; `--resume` refuses when it changed.
    public var contentHash: String
    /// What the runbook needs before its first step (checked by the planner).
    public var requires: [RunbookRequirement]
    /// Parameters with their values: the front matter's defaults, overridden from config.
    public var params: [String: String]
    /// The executable steps, in file order.
    public var steps: [RunbookStep]

    public init(name: String, title: String, origin: String, contentHash: String,
                requires: [RunbookRequirement], params: [String: String], steps: [RunbookStep]) {
        self.name = name
        self.title = title
        self.origin = origin
        self.contentHash = contentHash
        self.requires = requires
        self.params = params
        self.steps = steps
    }
}

/// A runbook-level precondition.
public enum RunbookRequirement: Sendable, Equatable, Hashable {
    /// A reachable Kubernetes cluster (`cluster:` config, kubeconfig or in-cluster).
    case cluster
    /// At least one configured source of this kind.
    case source(SourceKind)
    /// An age identity to decrypt encrypted snapshots.
    case identity
    /// A program on PATH (`kubectl`, `kustomize` …).
    case tool(String)
}

/// One fenced block with an `id`: a shell step or a built-in action.
public struct RunbookStep: Sendable {
    /// What the step runs.
    public enum Body: Sendable, Equatable {
        /// An `sh` block: the script, run with `/bin/sh -e -c` after `{{param}}` substitution.
        case shell(String)
        /// A `drctl` block: the action name and its YAML arguments (without `action:`
        /// and the step attributes).
        case action(name: String, arguments: JSONValue)
    }

    /// What to do when the step fails after its retries.
    public enum OnFailure: String, Sendable, Equatable {
        case stop
        case `continue`
    }

    /// Unique within the runbook: `[a-z0-9][a-z0-9-]*`.
    public var id: String
    /// The nearest Markdown heading above the block.
    public var title: String
    /// 1-based line of the opening fence, for messages.
    public var line: Int
    public var body: Body
    /// Time limit of one attempt; nil takes the action's default (sh: 10 minutes).
    public var timeout: Duration?
    /// Further attempts after the first.
    public var retries: Int
    /// Pause between attempts.
    public var delay: Duration
    /// The operator must type `yes` (or pass `--yes`) before the step runs.
    public var confirm: Bool
    public var onFailure: OnFailure
    /// A shell probe meaning "already done" when it exits 0: the step is skipped.
    public var check: String?
    /// `drill=run`: an `sh` step that is safe to run in a drill (others are not rehearsed).
    public var drillSafe = false

    public init(id: String, title: String, line: Int, body: Body, timeout: Duration? = nil, retries: Int = 0,
                delay: Duration = .seconds(5), confirm: Bool = false, onFailure: OnFailure = .stop, check: String? = nil) {
        self.id = id
        self.title = title
        self.line = line
        self.body = body
        self.timeout = timeout
        self.retries = retries
        self.delay = delay
        self.confirm = confirm
        self.onFailure = onFailure
        self.check = check
    }
}
