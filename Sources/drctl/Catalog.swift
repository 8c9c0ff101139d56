import ArgumentParser
import DRCore
import Foundation
import Snapshots

/// `drctl catalog`: copies of the catalog in the repository, and recovery from them.
struct CatalogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "catalog", abstract: "Copy the catalog into the repository, or recover a lost catalog from it.",
        subcommands: [CatalogCopyCommand.self, CatalogRecoverCommand.self])
}

/// `drctl catalog copy`: thin over ``CatalogCopies/save(_:)``.
struct CatalogCopyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "copy", abstract: "Write an encrypted copy of the catalog and the config into the repository now.",
        discussion: "Backups and prunes do this after every run unless `catalog_copies: false`.")

    @OptionGroup var global: GlobalOptions

    func run() throws {
        let workspace = try global.openWorkspace()
        let stored = try CatalogCopies.save(workspace)
        print("catalog copy \(stored.sha256.prefix(12)) written to \(workspace.store.location)")
    }
}
