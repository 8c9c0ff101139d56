public import DRCore

/// Temporary stand-in for the runbook loader (deleted when the parser lands).
public enum RunbookLoader {
    /// The runbook named `name`.
    public static func load(name: String, config: DRConfig) throws -> Runbook {
        throw DRError(.notFound, "no runbook named \(name) (the runbook loader is not part of this build)")
    }

    /// The available runbooks.
    public static func list(config: DRConfig) -> [(name: String, title: String, origin: String)] { [] }
}
