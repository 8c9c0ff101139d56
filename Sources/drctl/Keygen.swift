import ArgumentParser
import DRCore

struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Write a new age identity file (mode 0600) and print its recipient.")

    @Option(help: ArgumentHelp("The identity file to create (never overwritten).", valueName: "file"))
    var out: String

    func run() throws {
        print(try Setup.writeIdentity(to: out))
    }
}
