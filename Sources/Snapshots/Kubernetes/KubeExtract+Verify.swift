public import DRCore

extension KubeExtract {
    /// Decrypts and parses export `snapshot`, then compares every object with the catalog's
    /// record (keyed digest and key names) and the counts. Returns the number of objects
    /// decrypted and the problems found, each naming its object; none means they agree.
    public static func compareWithCatalog(_ snapshot: SnapshotRecord, in workspace: Workspace) throws -> (objects: Int, problems: [String]) {
        let objects = try Self.objects(of: snapshot, in: workspace)
        let keyPath = DigestKey.path(dataDir: workspace.config.dataDir)
        // The key file under data_dir, else the encrypted copy stored with the snapshot
        // (a recovered machine has no key file until its next export backup).
        var key = try DigestKey.load(path: keyPath)
        if key == nil, let item = try workspace.catalog.objects(of: snapshot.id).first(where: { $0.role == "digest-key" }) {
            key = try DigestKey(text: String(decoding: try workspace.codec.readAll(item.object), as: UTF8.self))
        }
        guard let key else {
            return (objects.count, ["no object digest key at \(keyPath) or stored with the snapshot to compare digests with"])
        }
        let restored = Dictionary(
            try objects.map { try KubeExport.record($0, key: key) }.map { ($0.displayName, $0) },
            uniquingKeysWith: { first, _ in first })
        let expected = try workspace.catalog.kubeObjects(of: snapshot.id)
        var problems: [String] = []
        for record in expected {
            guard let found = restored[record.displayName] else {
                problems.append("\(record.displayName) is missing")
                continue
            }
            if found.digest != record.digest || found.keys != record.keys {
                problems.append("\(record.displayName) differs from the catalog's digest")
            }
        }
        if objects.count != expected.count {
            problems.append("\(objects.count) object(s) decrypted, the catalog has \(expected.count)")
        }
        return (objects.count, problems)
    }
}
