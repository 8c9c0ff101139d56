import ArgumentParser
import DRCore
import Foundation

@main
struct Drctl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drctl",
        abstract: "Backups, restores and DR drills for GitOps Kubernetes clusters.",
        discussion: "Exit codes are listed in docs/CLI.md.",
        version: DRVersion.current,
        subcommands: [
            InitCommand.self, BackupCommand.self, SnapshotsCommand.self, KeygenCommand.self,
            RestoreCommand.self, DrillCommand.self, ScheduleCommand.self, VerifyCommand.self,
            PruneCommand.self, StatusCommand.self, CatalogCommand.self, RunCommand.self, DaemonCommand.self,
        ]
    )

    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            exit(withFailure: error)
        }
    }

    /// Prints an error the way an operator needs it and exits with its documented code.
    static func exit(withFailure error: any Error) -> Never {
        if let error = error as? DRError {
            Terminal.error(error.description)
            Foundation.exit(error.code.exitCode)
        }
        if let convertible = error as? any DRErrorConvertible {
            let converted = convertible.drError
            Terminal.error(converted.description)
            Foundation.exit(converted.code.exitCode)
        }
        if let exit = error as? ExitCode { Foundation.exit(exit.rawValue) }
        Self.exit(withError: error)
    }
}
