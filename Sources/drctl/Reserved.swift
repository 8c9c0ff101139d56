import ArgumentParser
import DRCore

/// A command whose name is frozen in docs/CLI.md and whose behaviour arrives in a later
/// release: it accepts any arguments and exits 8 with a message.
protocol ReservedCommand: ParsableCommand {
    var rest: [String] { get }
}

extension ReservedCommand {
    func run() throws {
        let name = Self.configuration.commandName ?? "?"
        throw DRError(.refused, "`drctl \(name)` is reserved and not available in drctl \(DRVersion.current)",
                      hint: "see docs/CLI.md for the commands this version has")
    }

    static func reserved(_ name: String, _ abstract: String) -> CommandConfiguration {
        CommandConfiguration(commandName: name, abstract: "(reserved) \(abstract)", shouldDisplay: false)
    }
}

struct CatalogCommand: ReservedCommand {
    static let configuration = reserved("catalog", "Back up and recover the catalog.")
    @Argument(parsing: .allUnrecognized) var rest: [String] = []
}
