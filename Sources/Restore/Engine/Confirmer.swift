import DRCore
import Foundation

/// Asks the operator before an execution starts and before `confirm` / `manual` steps.
public protocol Confirmer: Sendable {
    /// True when the operator answered yes. Throws when nobody can be asked.
    func confirm(_ question: String) throws -> Bool
}

/// `--yes`: every question is answered yes.
public struct AssumeYes: Confirmer {
    public init() {}
    public func confirm(_ question: String) throws -> Bool { true }
}

/// No terminal and no `--yes`: any question fails at once.
public struct NoOperator: Confirmer {
    public init() {}
    public func confirm(_ question: String) throws -> Bool {
        throw DRError(.refused, "confirmation needed (\(question)) but there is no terminal to ask on",
                      hint: "run drctl on a terminal, or pass --yes to answer every question yes")
    }
}

/// Set by a SIGINT handler (or a test); the executor stops before the next step.
public final class InterruptFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var raised = false

    public init() {}

    /// Requests a stop before the next step.
    public func raise() { lock.withLock { raised = true } }

    /// Whether a stop was requested.
    public var isRaised: Bool { lock.withLock { raised } }
}
