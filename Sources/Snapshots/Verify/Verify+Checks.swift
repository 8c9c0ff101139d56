import DRCore
import Foundation

/// The state of one `drctl verify`: objects seen, what was read, and problems found, by
/// object and by snapshot.
struct VerifyRun {
    let workspace: Workspace
    /// Every object of the checked snapshots, by SHA-256, with its role and the snapshot
    /// that first named it.
    var objects: [String: (object: EncodedObject, role: String, snapshot: SnapshotRecord)] = [:]
    /// The objects of each snapshot (manifest included).
    var snapshotObjects: [String: [String]] = [:]
    var objectProblems: [String: [String]] = [:]
    var snapshotProblems: [String: [String]] = [:]
    var notes: [String: [String]] = [:]
    var readObjects: Set<String> = []
    var bytesRead: Int64 = 0
    /// The last object of a subset run's rotation.
    var subsetEnd: String?

    init(workspace: Workspace) { self.workspace = workspace }

    /// Problems of snapshot `id` itself: its own checks and those of its objects.
    func problems(of id: String) -> [String] {
        (snapshotProblems[id] ?? []) + (snapshotObjects[id] ?? []).flatMap { objectProblems[$0] ?? [] }
    }

    private static func short(_ sha: String) -> String { String(sha.prefix(12)) }

    // MARK: - Structure

    /// Every object present with its recorded size; the manifest agrees with the catalog.
    mutating func checkStructure(_ snapshot: SnapshotRecord) throws {
        let items = try workspace.catalog.objects(of: snapshot.id)
        snapshotObjects[snapshot.id] = items.map(\.object.stored.sha256)
        for item in items {
            let sha = item.object.stored.sha256
            guard objects[sha] == nil else { continue }
            objects[sha] = (item.object, item.role, snapshot)
            let size = workspace.store.size(of: item.object.stored.type, sha256: sha)
            if size == nil {
                objectProblems[sha, default: []].append("\(item.role) object \(Self.short(sha)) is missing from the repository")
            } else if let size, size != item.object.stored.size {
                objectProblems[sha, default: []].append(
                    "\(item.role) object \(Self.short(sha)) is \(size) bytes in the repository; the catalog recorded \(item.object.stored.size)")
            }
        }
        guard let manifest = items.first(where: { $0.role == "manifest" }) else {
            snapshotProblems[snapshot.id, default: []].append("the catalog names no manifest object")
            return
        }
        guard objectProblems[manifest.object.stored.sha256] == nil else { return }
        if manifest.object.encryption == .age && !workspace.codec.canDecrypt {
            notes[snapshot.id, default: []].append("manifest not compared: no identity configured to decrypt it")
            return
        }
        do {
            let bytes = try workspace.codec.readAll(manifest.object)
            let decoded = try JSONDecoder().decode(SnapshotManifest.self, from: Data(bytes))
            let recorded = Set(items.filter { $0.role != "manifest" }.map(\.object.stored.sha256))
            var differences: [String] = []
            if decoded.snapshotID != snapshot.id { differences.append("snapshot id \(decoded.snapshotID)") }
            if decoded.source != snapshot.source { differences.append("source \(decoded.source)") }
            if decoded.kind != snapshot.kind { differences.append("kind \(decoded.kind)") }
            if decoded.level != snapshot.level { differences.append("level \(decoded.level.rawValue)") }
            if decoded.parentID != snapshot.parentID { differences.append("parent \(decoded.parentID ?? "none")") }
            if Set(decoded.objects.map(\.object.stored.sha256)) != recorded { differences.append("its object list") }
            if snapshot.kind == SourceKind.gitBundle.rawValue,
               decoded.refs.sorted() != (try workspace.catalog.refs(of: snapshot.id)).sorted() {
                differences.append("its refs")
            }
            if !differences.isEmpty {
                snapshotProblems[snapshot.id, default: []].append(
                    "manifest \(Self.short(manifest.object.stored.sha256)) disagrees with the catalog: \(differences.joined(separator: ", "))")
            }
        } catch {
            objectProblems[manifest.object.stored.sha256, default: []].append(
                "manifest object \(Self.short(manifest.object.stored.sha256)) is unreadable: \(DRError.describe(error))")
        }
    }

    // MARK: - Reading data

    /// The objects a `--read-data-subset` run reads: `percent` of all of them (at least one),
    /// in SHA-256 order starting after the previous run's cursor, wrapping around.
    mutating func subset(percent: Double) -> [String] {
        let all = objects.keys.sorted()
        guard !all.isEmpty else { return [] }
        let count = min(all.count, max(1, Int((Double(all.count) * percent / 100).rounded(.up))))
        let cursor = VerifyCursor.load(dataDir: workspace.config.dataDir)
        let start = cursor.flatMap { last in all.firstIndex { $0 > last } } ?? 0
        let chosen = (0..<count).map { all[(start + $0) % all.count] }
        subsetEnd = chosen.last
        return chosen
    }

    /// Remembers where this subset run stopped, for the next one.
    func saveCursor() throws {
        guard let subsetEnd else { return }
        try VerifyCursor.save(subsetEnd, dataDir: workspace.config.dataDir)
    }

    /// Reads one object through: stored hash, age decryption, and for volume archives a walk
    /// of every entry with each file's hash compared with the file index.
    mutating func read(_ sha: String) {
        guard let (object, role, snapshot) = objects[sha], objectProblems[sha] == nil else { return }
        let codec = workspace.codec
        let decrypts = object.encryption == .none || codec.canDecrypt
        do {
            if role == "archive" && decrypts {
                let stream = try ZstdDecoder.backgroundStream(object, codec: codec)
                defer { stream.cancel() }
                let scanned = try ArchiveScanner.scan(stream, contentHash: ContentHash(of: snapshot))
                var mismatched: [String] = []
                try workspace.catalog.ownFiles(of: snapshot.id) { record in
                    guard record.object == sha, record.type == .regular else { return }
                    guard let hash = scanned.hashes[record.path] else {
                        mismatched.append("\(PathKey.display(record.path)) is not in it")
                        return
                    }
                    if hash != record.hash { mismatched.append("\(PathKey.display(record.path)) differs from the file index") }
                }
                if !mismatched.isEmpty {
                    objectProblems[sha, default: []].append(
                        "archive object \(Self.short(sha)): " + mismatched.prefix(10).joined(separator: "; ")
                            + (mismatched.count > 10 ? "; and \(mismatched.count - 10) more" : ""))
                }
            } else if decrypts {
                try codec.read(object) { _ in }
            } else {
                try workspace.store.read(object.stored) { _ in }
                notes[snapshot.id, default: []].append("\(role) object \(Self.short(sha)) hash-checked but not decrypted: no identity configured")
            }
            readObjects.insert(sha)
            bytesRead += object.stored.size
        } catch {
            readObjects.insert(sha)
            objectProblems[sha, default: []].append("\(role) object \(Self.short(sha)) does not read back: \(DRError.describe(error))")
        }
    }

    /// Content checks that need a whole snapshot: a git snapshot is rebuilt from its bundle
    /// chain (prerequisites, refs, `git fsck`); an export is decrypted and compared with the
    /// catalog's keyed digests. Skipped when an object already failed.
    mutating func checkContent(_ snapshot: SnapshotRecord) {
        guard let kind = SourceKind(rawValue: snapshot.kind) else { return }
        let chainObjects: [String]
        do {
            chainObjects = try workspace.catalog.chain(to: snapshot.id).flatMap { snapshotObjects[$0.id] ?? [] }
        } catch {
            snapshotProblems[snapshot.id, default: []].append(DRError.describe(error))
            return
        }
        guard chainObjects.allSatisfy({ objectProblems[$0] == nil }) else { return }
        guard workspace.codec.canDecrypt || chainObjects.allSatisfy({ objects[$0]?.object.encryption != .age }) else {
            notes[snapshot.id, default: []].append("content not decoded: no identity configured to decrypt it")
            return
        }
        do {
            switch kind {
            case .gitBundle:
                let scratch = try workspace.makeScratchDirectory("verify")
                defer { FileIO.remove(scratch) }
                try GitBundleExtractor.extract(snapshot, into: "\(scratch)/repo", in: workspace)
            case .secrets, .argocdState:
                let (_, problems) = try KubeExtract.compareWithCatalog(snapshot, in: workspace)
                snapshotProblems[snapshot.id, default: []] += problems.map { "export: \($0)" }
            case .pvcArchive:
                break
            }
        } catch {
            snapshotProblems[snapshot.id, default: []].append(DRError.describe(error))
        }
    }
}

/// Where `--read-data-subset` continues: `<data_dir>/verify-state.json`.
enum VerifyCursor {
    struct State: Codable {
        var cursor: String
    }

    static func path(dataDir: String) -> String { "\(dataDir)/verify-state.json" }

    static func load(dataDir: String) -> String? {
        guard let bytes = try? FileIO.read(path(dataDir: dataDir)) else { return nil }
        return (try? JSONDecoder().decode(State.self, from: Data(bytes)))?.cursor
    }

    static func save(_ cursor: String, dataDir: String) throws {
        try FileIO.atomicWrite(Array(try JSONEncoder().encode(State(cursor: cursor))), to: path(dataDir: dataDir), mode: 0o600)
    }
}
