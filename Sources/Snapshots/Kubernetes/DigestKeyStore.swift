import DRCore
import Foundation
internal import Logging

/// Finds the digest key for an export snapshot, and its encrypted copy in the repository.
///
/// Order: the key file under `data_dir`; else the copy stored with the previous export
/// (when an identity can decrypt it); else a new key, with a warning that digests of
/// older snapshots are no longer comparable.
enum DigestKeyStore {
    static func load(previous: SnapshotRecord?, in workspace: Workspace) throws -> (DigestKey, EncodedObject) {
        let path = DigestKey.path(dataDir: workspace.config.dataDir)
        let sidecar = path + ".object"
        if let key = try DigestKey.load(path: path) {
            if let data = try? FileIO.read(sidecar),
               let object = try? JSONDecoder().decode(EncodedObject.self, from: Data(data)),
               workspace.store.size(of: object.stored.type, sha256: object.stored.sha256) == object.stored.size {
                return (key, object)
            }
            return (key, try storeCopy(key, sidecar: sidecar, in: workspace))
        }
        if let previous, workspace.codec.canDecrypt,
           let item = try workspace.catalog.objects(of: previous.id).first(where: { $0.role == "digest-key" }) {
            do {
                let key = try DigestKey(text: String(decoding: try workspace.codec.readAll(item.object), as: UTF8.self))
                try key.save(path: path)
                try FileIO.atomicWrite(Array(try JSONEncoder().encode(item.object)), to: sidecar, mode: 0o600)
                workspace.logger.notice("recovered the object digest key from snapshot \(previous.shortID) into \(path)")
                return (key, item.object)
            } catch {
                workspace.logger.warning("cannot recover the object digest key from snapshot \(previous.shortID): \(DRError.describe(error))")
            }
        }
        if let previous {
            workspace.logger.warning("\(path) is missing: a new digest key is made, so digests of snapshot \(previous.shortID) and older are not comparable with new ones")
        }
        let key = DigestKey.generate()
        try key.save(path: path)
        return (key, try storeCopy(key, sidecar: sidecar, in: workspace))
    }

    static func storeCopy(_ key: DigestKey, sidecar: String, in workspace: Workspace) throws -> EncodedObject {
        let object = try workspace.codec.write(type: .data, bytes: Array(key.text.utf8))
        try FileIO.atomicWrite(Array(try JSONEncoder().encode(object)), to: sidecar, mode: 0o600)
        return object
    }
}
