import ArgumentParser
import DRCore

/// Commands whose names are frozen in docs/CLI.md and arrive in later releases.
enum ReservedCommand {
    static func refuse(_ name: String) -> DRError {
        DRError(.refused, "`drctl \(name)` is reserved and not available in drctl \(DRVersion.current)",
                hint: "see docs/CLI.md for the commands this version has")
    }

    struct Restore: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "restore", abstract: "(reserved) Run a recovery runbook.", shouldDisplay: false)
        @Argument(parsing: .allUnrecognized) var rest: [String] = []
        func run() throws { throw refuse("restore") }
    }

    struct Drill: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "drill", abstract: "(reserved) Run and report DR drills.", shouldDisplay: false)
        @Argument(parsing: .allUnrecognized) var rest: [String] = []
        func run() throws { throw refuse("drill") }
    }

    struct Schedule: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "schedule", abstract: "(reserved) Inspect schedules.", shouldDisplay: false)
        @Argument(parsing: .allUnrecognized) var rest: [String] = []
        func run() throws { throw refuse("schedule") }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "verify", abstract: "(reserved) Verify stored snapshots.", shouldDisplay: false)
        @Argument(parsing: .allUnrecognized) var rest: [String] = []
        func run() throws { throw refuse("verify") }
    }

    struct Prune: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "prune", abstract: "(reserved) Apply retention and collect garbage.", shouldDisplay: false)
        @Argument(parsing: .allUnrecognized) var rest: [String] = []
        func run() throws { throw refuse("prune") }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "status", abstract: "(reserved) Show RPO and last runs.", shouldDisplay: false)
        @Argument(parsing: .allUnrecognized) var rest: [String] = []
        func run() throws { throw refuse("status") }
    }

    struct Catalog: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "catalog", abstract: "(reserved) Back up and recover the catalog.", shouldDisplay: false)
        @Argument(parsing: .allUnrecognized) var rest: [String] = []
        func run() throws { throw refuse("catalog") }
    }
}
