public import DRCore
import Foundation
internal import Logging

/// Reads export snapshots back: the decrypted `List`, to a file or in memory.
public enum KubeExtract {
    /// The export's objects, decrypted and parsed.
    public static func objects(of snapshot: SnapshotRecord, in workspace: Workspace) throws -> [JSONValue] {
        try KubeExport.parseObjects(try plaintext(of: snapshot, in: workspace), origin: "snapshot \(snapshot.shortID)")
    }

    static func plaintext(of snapshot: SnapshotRecord, in workspace: Workspace) throws -> [UInt8] {
        guard let item = try workspace.catalog.objects(of: snapshot.id).first(where: { $0.role == "objects" }) else {
            throw DRError(.dataCorrupt, "snapshot \(snapshot.shortID) records no export object")
        }
        guard workspace.codec.canDecrypt || item.object.encryption == .none else {
            throw DRError(.crypto, "snapshot \(snapshot.shortID) is encrypted and no identity is configured",
                          hint: "set `encryption.identity` to the age identity file (drctl keygen wrote it)")
        }
        return try workspace.codec.readAll(item.object)
    }

    /// Writes the decrypted `List` to a new file (mode 0600). Refuses an existing path.
    static func extract(_ snapshot: SnapshotRecord, toFile destination: String, in workspace: Workspace) throws -> ExtractReport {
        guard !FileIO.exists(destination) else {
            throw DRError(.refused, "\(destination) exists; extract writes an export to a new file", hint: "choose a new file name")
        }
        let bytes = try plaintext(of: snapshot, in: workspace)
        let count = try KubeExport.parseObjects(bytes, origin: "snapshot \(snapshot.shortID)").count
        let parent = (destination as NSString).deletingLastPathComponent
        try FileIO.createDirectory(parent)
        // A killed extraction leaves its temporary file (decrypted) beside the target.
        for stale in StagingName.removeStaleSiblings(of: destination) {
            workspace.logger.info("removed \(stale), left by an extraction that was killed")
        }
        try FileIO.atomicWrite(bytes, to: destination, mode: 0o600)
        workspace.logger.warning("\(destination) holds decrypted Secrets in plain text (mode 0600); delete it when done")
        return ExtractReport(snapshot: snapshot, target: destination, files: count, bytes: Int64(bytes.count), mismatches: [])
    }
}
