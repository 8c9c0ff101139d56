public import DRCore

extension GitDaemon {
    /// A test's `git daemon` (export-ok only, like the seed's), killed after 10 minutes at
    /// the latest even if the test process dies.
    public convenience init(base: String) throws {
        try self.init(base: base, git: Environment.current.which("git") ?? "/usr/bin/git", killAfter: .seconds(600))
    }
}
