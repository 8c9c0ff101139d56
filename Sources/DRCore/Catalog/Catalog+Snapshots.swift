public import Foundation
internal import GRDB

extension Catalog {
    /// Records a snapshot, its objects and refs, and finishes its attempt, in one transaction.
    /// Call only after every object (and the manifest) is durable in the repository.
    public func insertSnapshot(
        _ snapshot: SnapshotRecord, objects: [SnapshotObject], refs: [GitRef], manifest: EncodedObject,
        files: FileIndexUpdate? = nil, kubeObjects: [KubeObjectRecord] = [], attempt: Int64?, now: Date = Date(),
        beforeCommit: () -> Void = {}
    ) throws {
        try write { db in
            guard let sourceID = try Int64.fetchOne(db, sql: "SELECT id FROM source WHERE name = ?", arguments: [snapshot.source])
            else { throw DRError(.failed, "source `\(snapshot.source)` is not in the catalog") }
            let manifestID = try Self.insertObject(db, manifest, now: now)
            let meta = String(decoding: try JSONEncoder.sorted.encode(snapshot.meta), as: UTF8.self)
            try db.execute(
                sql: """
                    INSERT INTO snapshot (id, source_id, run_id, kind, level, parent_id, created_at, data_time,
                        bytes, plain_bytes, files, status, verified_at, verify_result, manifest_object_id, meta)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'complete', ?, ?, ?, ?)
                    """,
                arguments: [
                    snapshot.id, sourceID, snapshot.runID, snapshot.kind, snapshot.level.rawValue, snapshot.parentID,
                    ISO8601.format(snapshot.createdAt), ISO8601.format(snapshot.dataTime), snapshot.bytes,
                    snapshot.plainBytes, snapshot.files, snapshot.verifiedAt.map(ISO8601.format),
                    snapshot.verifyResult, manifestID, meta,
                ])
            try db.execute(
                sql: "INSERT INTO snapshot_object (snapshot_id, object_id, role, seq) VALUES (?, ?, 'manifest', 0)",
                arguments: [snapshot.id, manifestID])
            for (seq, item) in objects.enumerated() {
                let objectID = try Self.insertObject(db, item.object, now: now)
                try db.execute(
                    sql: "INSERT INTO snapshot_object (snapshot_id, object_id, role, seq) VALUES (?, ?, ?, ?)",
                    arguments: [snapshot.id, objectID, item.role, seq + 1])
            }
            for ref in refs {
                try db.execute(
                    sql: "INSERT INTO git_ref (snapshot_id, name, oid, symref) VALUES (?, ?, ?, ?)",
                    arguments: [snapshot.id, ref.name, ref.oid, ref.symref])
            }
            if let files {
                try Self.apply(files, db: db, sourceID: sourceID, snapshotID: snapshot.id)
            }
            let encoder = JSONEncoder.sorted
            for object in kubeObjects {
                try db.execute(
                    sql: """
                        INSERT INTO kube_object (snapshot_id, api_version, kind, namespace, name, type, keys, digest)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [snapshot.id, object.apiVersion, object.kind, object.namespace, object.name, object.type,
                                String(decoding: try encoder.encode(object.keys), as: UTF8.self), object.digest])
            }
            if let attempt {
                try db.execute(
                    sql: "UPDATE source_attempt SET finished_at = ?, status = 'succeeded', snapshot_id = ? WHERE id = ?",
                    arguments: [ISO8601.format(now), snapshot.id, attempt])
            }
            beforeCommit()
        }
    }

    static func insertObject(_ db: Database, _ object: EncodedObject, now: Date) throws -> Int64 {
        try db.execute(
            sql: """
                INSERT INTO object (type, sha256, size, plain_size, encryption, created_at) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (type, sha256) DO NOTHING
                """,
            arguments: [object.stored.type.rawValue, object.stored.sha256, object.stored.size, object.plainSize,
                        object.encryption.rawValue, ISO8601.format(now)])
        guard let id = try Int64.fetchOne(
            db, sql: "SELECT id FROM object WHERE type = ? AND sha256 = ?",
            arguments: [object.stored.type.rawValue, object.stored.sha256])
        else { throw DRError(.failed, "object \(object.stored.sha256) vanished from the catalog") }
        return id
    }

    private static let snapshotColumns = """
        s.id, src.name, s.kind, s.level, s.parent_id, s.created_at, s.data_time, s.bytes, s.plain_bytes,
        s.files, s.verified_at, s.verify_result, s.run_id, s.meta
        """

    private static func snapshot(from row: Row) throws -> SnapshotRecord {
        func date(_ text: String?) -> Date? { text.flatMap(ISO8601.parse) }
        let metaText: String = row[13]
        let meta = (try? JSONDecoder().decode([String: String].self, from: Data(metaText.utf8))) ?? [:]
        return SnapshotRecord(
            id: row[0], source: row[1], kind: row[2], level: SnapshotLevel(rawValue: row[3]) ?? .full,
            parentID: row[4], createdAt: date(row[5]) ?? .distantPast, dataTime: date(row[6]) ?? .distantPast,
            bytes: row[7], plainBytes: row[8], files: row[9], verifiedAt: date(row[10]), verifyResult: row[11],
            runID: row[12], meta: meta)
    }

    /// Snapshots, oldest first, optionally of one source.
    public func snapshots(source: String? = nil) throws -> [SnapshotRecord] {
        try read { db in
            var sql = "SELECT \(Self.snapshotColumns) FROM snapshot s JOIN source src ON src.id = s.source_id"
            var arguments: StatementArguments = []
            if let source {
                sql += " WHERE src.name = ?"
                arguments = [source]
            }
            sql += " ORDER BY s.data_time, s.created_at, s.id"
            return try Row.fetchAll(db, sql: sql, arguments: arguments).map(Self.snapshot(from:))
        }
    }

    /// The newest snapshot of a source, or nil.
    public func latestSnapshot(source: String) throws -> SnapshotRecord? {
        try read { db in
            try Row.fetchOne(
                db,
                sql: """
                    SELECT \(Self.snapshotColumns) FROM snapshot s JOIN source src ON src.id = s.source_id
                    WHERE src.name = ? ORDER BY s.data_time DESC, s.created_at DESC LIMIT 1
                    """, arguments: [source]
            ).map(Self.snapshot(from:))
        }
    }

    /// The snapshot whose id is `idOrPrefix` or starts with it (at least 4 characters).
    public func snapshot(matching idOrPrefix: String) throws -> SnapshotRecord {
        let key = idOrPrefix.lowercased()
        guard key.count >= 4, key.allSatisfy(\.isHexDigit) else {
            throw DRError(.notFound, "`\(idOrPrefix)` is not a snapshot id (use at least 4 hex characters, as `drctl snapshots` shows)")
        }
        let rows = try read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT \(Self.snapshotColumns) FROM snapshot s JOIN source src ON src.id = s.source_id
                    WHERE s.id >= ? AND s.id < ? ORDER BY s.id LIMIT 3
                    """, arguments: [key, key + "g"])
        }
        guard let first = rows.first else { throw DRError(.notFound, "no snapshot with id \(idOrPrefix)") }
        guard rows.count == 1 else {
            throw DRError(.notFound, "snapshot id prefix \(idOrPrefix) is ambiguous; give more characters")
        }
        return try Self.snapshot(from: first)
    }

    /// The objects of a snapshot, manifest first.
    public func objects(of snapshotID: String) throws -> [SnapshotObject] {
        try read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT o.type, o.sha256, o.size, o.plain_size, o.encryption, so.role
                    FROM snapshot_object so JOIN object o ON o.id = so.object_id
                    WHERE so.snapshot_id = ? ORDER BY so.seq
                    """, arguments: [snapshotID]
            ).map { row in
                SnapshotObject(
                    object: EncodedObject(
                        stored: StoredObject(type: ObjectType(rawValue: row[0]) ?? .data, sha256: row[1], size: row[2]),
                        plainSize: row[3], encryption: ObjectEncryption(rawValue: row[4]) ?? .none),
                    role: row[5])
            }
        }
    }

    /// The Kubernetes objects recorded with an export snapshot, by kind, namespace and name.
    public func kubeObjects(of snapshotID: String) throws -> [KubeObjectRecord] {
        try read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT api_version, kind, namespace, name, type, keys, digest FROM kube_object
                    WHERE snapshot_id = ? ORDER BY kind, namespace, name
                    """, arguments: [snapshotID]
            ).map { row in
                let keysText: String = row[5]
                let keys = (try? JSONDecoder().decode([String].self, from: Data(keysText.utf8))) ?? []
                return KubeObjectRecord(apiVersion: row[0], kind: row[1], namespace: row[2], name: row[3], type: row[4],
                                        keys: keys, digest: row[6])
            }
        }
    }

    /// The git refs recorded with a snapshot, sorted by name.
    public func refs(of snapshotID: String) throws -> [GitRef] {
        try read { db in
            try Row.fetchAll(
                db, sql: "SELECT name, oid, symref FROM git_ref WHERE snapshot_id = ? ORDER BY name",
                arguments: [snapshotID]
            ).map { GitRef(name: $0[0], oid: $0[1], symref: $0[2]) }
        }
    }

    /// The chain a snapshot restores from: its full ancestor first, the snapshot itself last.
    public func chain(to snapshotID: String) throws -> [SnapshotRecord] {
        var chain: [SnapshotRecord] = []
        var next: String? = snapshotID
        while let id = next {
            let record = try snapshot(matching: id)
            guard !chain.contains(where: { $0.id == record.id }) else {
                throw DRError(.dataCorrupt, "the catalog's snapshot chain loops at \(record.id)")
            }
            chain.append(record)
            next = record.parentID
        }
        guard chain.last?.level == .full else {
            throw DRError(.dataCorrupt, "snapshot \(snapshotID) has no full snapshot at the root of its chain")
        }
        return chain.reversed()
    }
}

extension JSONEncoder {
    /// An encoder with sorted keys, for stable output.
    public static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }
}

extension Catalog {
    /// Records the outcome of a verification of snapshot `id`: when, and a result that starts
    /// with `ok` when it passed (the planner binds only such snapshots).
    public func recordVerification(_ id: String, at time: Date, result: String) throws {
        try write { db in
            try db.execute(sql: "UPDATE snapshot SET verified_at = ?, verify_result = ? WHERE id = ?",
                           arguments: [ISO8601.format(time), result, id])
        }
    }
}
