public import DRCore
import Foundation
internal import Logging

/// Copies snapshots from the primary repository to the others (`repositories:`,
/// `copy_to:`). Objects are content-addressed, so a copy is the same bytes under the same
/// name; objects a repository already holds with the right size are not copied again.
public enum Replication {
    /// The repositories besides the primary that `source`'s snapshots go to.
    public static func targets(for source: SourceConfig, in workspace: Workspace) -> [any ObjectStore] {
        let others = workspace.repositories.dropFirst()
        guard let names = source.copyTo else { return Array(others) }
        return others.filter { names.contains($0.name) }
    }

    /// Copies every object of `snapshot`'s chain (data and manifests) that `target` lacks;
    /// returns how many objects and bytes were copied.
    @discardableResult
    public static func replicate(_ snapshot: SnapshotRecord, to target: any ObjectStore, in workspace: Workspace) throws -> (objects: Int, bytes: Int64) {
        var copied = 0
        var bytes: Int64 = 0
        for link in try workspace.catalog.chain(to: snapshot.id) {
            for item in try workspace.catalog.objects(of: link.id) where try copy(item.object.stored, to: target, in: workspace) {
                copied += 1
                bytes += item.object.stored.size
            }
        }
        return (copied, bytes)
    }

    /// Copies one object unless `target` holds it; true when it copied.
    @discardableResult
    public static func copy(_ object: StoredObject, to target: any ObjectStore, in workspace: Workspace) throws -> Bool {
        guard target.size(of: object.type, sha256: object.sha256) != object.size else { return false }
        let written = try target.write(type: object.type) { emit in
            try workspace.store.read(object) { try emit($0) }
        }
        guard written.sha256 == object.sha256, written.size == object.size else {
            throw DRError(.dataCorrupt, "copying object \(object.sha256) to repository \(target.name) produced \(written.sha256)")
        }
        return true
    }
}
