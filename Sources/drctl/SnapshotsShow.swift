import ArgumentParser
import DRCore
import Foundation

struct SnapshotsShow: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show one snapshot: chain, objects, refs.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Snapshot id or a unique prefix of it.")
    var id: String

    @Flag(help: "List the files of a volume snapshot (the whole tree as of that snapshot).")
    var files = false

    @Flag(help: "Print as JSON.")
    var json = false

    struct Details: Encodable {
        var snapshot: SnapshotRecord
        var chain: [String]
        var objects: [SnapshotObject]
        var refs: [GitRef]
        var kubeObjects: [KubeObjectRecord]?
    }

    func run() throws {
        let workspace = try global.openWorkspace()
        let catalog = workspace.catalog
        let snapshot = try catalog.snapshot(matching: id)
        if files { return try listFiles(snapshot, catalog) }
        var details = Details(
            snapshot: snapshot, chain: try catalog.chain(to: snapshot.id).map(\.id),
            objects: try catalog.objects(of: snapshot.id), refs: try catalog.refs(of: snapshot.id))
        let kubeObjects = try catalog.kubeObjects(of: snapshot.id)
        if !kubeObjects.isEmpty { details.kubeObjects = kubeObjects }
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
        if !kubeObjects.isEmpty {
            print("kubernetes objects (values are encrypted; the digest is keyed):")
            Terminal.table(
                ["KIND", "NAMESPACE", "NAME", "TYPE", "KEYS", "DIGEST"],
                kubeObjects.map { [$0.kind, $0.namespace.isEmpty ? "-" : $0.namespace, $0.name, $0.type ?? "-",
                                   $0.keys.joined(separator: ","), String($0.digest.prefix(12))] })
        }
    }

    /// One file of `show --files --json`.
    struct FileRow: Encodable {
        var path: String
        var type: String
        var size: Int64
        var mode: String
        var uid: UInt32
        var gid: UInt32
        var mtimeNs: Int64
        /// The content hash, under its algorithm's name (the snapshot's `content_hash`).
        var sha256: String?
        var blake3: String?
        var linkTarget: String?
    }

    func listFiles(_ snapshot: SnapshotRecord, _ catalog: Catalog) throws {
        var rows: [FileRow] = []
        let algorithm = try ContentHash(of: snapshot)
        try catalog.files(at: snapshot.id) { record in
            guard !record.key.isEmpty else { return }
            rows.append(FileRow(
                path: PathKey.display(record.path), type: record.type.rawValue, size: record.size,
                mode: String(record.mode, radix: 8), uid: record.uid, gid: record.gid, mtimeNs: record.mtimeNs,
                sha256: algorithm == .sha256 ? record.hash?.hexString : nil,
                blake3: algorithm == .blake3 ? record.hash?.hexString : nil, linkTarget: record.linkTarget.map(PathKey.display)))
        }
        if json { return try Terminal.json(rows) }
        Terminal.table(
            ["TYPE", "MODE", "OWNER", "SIZE", "MTIME", "PATH"],
            rows.map { row in
                let mtime = Date(timeIntervalSince1970: Double(row.mtimeNs) / 1e9)
                let path = row.linkTarget.map { "\(row.path) -> \($0)" } ?? row.path
                return [row.type, row.mode, "\(row.uid):\(row.gid)", Terminal.bytes(row.size), Terminal.time(mtime), path]
            })
    }
}
