import ArgumentParser
import DRCore
import Foundation

struct SnapshotsShow: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show one snapshot: chain, objects, refs.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Snapshot id or a unique prefix of it.")
    var id: String

    @Flag(help: "Print as JSON.")
    var json = false

    struct Details: Encodable {
        var snapshot: SnapshotRecord
        var chain: [String]
        var objects: [SnapshotObject]
        var refs: [GitRef]
    }

    func run() throws {
        let workspace = try global.openWorkspace()
        let catalog = workspace.catalog
        let snapshot = try catalog.snapshot(matching: id)
        let details = Details(
            snapshot: snapshot, chain: try catalog.chain(to: snapshot.id).map(\.id),
            objects: try catalog.objects(of: snapshot.id), refs: try catalog.refs(of: snapshot.id))
        if json { return try Terminal.json(details) }
        print("snapshot   \(snapshot.id)")
        print("source     \(snapshot.source) (\(snapshot.kind))")
        print("level      \(snapshot.level.rawValue)" + (snapshot.parentID.map { ", parent \($0)" } ?? ""))
        print("chain      \(details.chain.map { String($0.prefix(8)) }.joined(separator: " <- "))")
        print("data time  \(Terminal.time(snapshot.dataTime))")
        print("created    \(Terminal.time(snapshot.createdAt))")
        print("added      \(Terminal.bytes(snapshot.bytes)) stored, \(Terminal.bytes(snapshot.plainBytes)) plain")
        print("verified   \(Terminal.time(snapshot.verifiedAt)) \(snapshot.verifyResult ?? "")")
        for (key, value) in snapshot.meta.sorted(by: { $0.key < $1.key }) { print("\(key.padding(toLength: 10, withPad: " ", startingAt: 0)) \(value)") }
        print("objects:")
        for item in details.objects {
            print("  \(item.role.padding(toLength: 9, withPad: " ", startingAt: 0)) \(item.object.stored.sha256)  \(Terminal.bytes(item.object.stored.size))  \(item.object.encryption.rawValue)")
        }
        if !details.refs.isEmpty {
            print("refs:")
            for ref in details.refs { print("  \(ref.oid)  \(ref.name)" + (ref.symref.map { " -> \($0)" } ?? "")) }
        }
    }
}
