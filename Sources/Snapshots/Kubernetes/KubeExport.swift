public import DRCore
import Foundation
internal import Logging
internal import Crypto

/// Turns Kubernetes objects into an export snapshot: cleaned of server-owned fields, one
/// YAML `List` that `kubectl apply -f` accepts after decryption, always age-encrypted,
/// with names and keyed digests (never values) for the catalog.
public enum KubeExport {
    /// Metadata the server owns. Restoring them would fail (`resourceVersion`, `uid`) or be
    /// harmful: the garbage collector deletes objects whose `ownerReferences` are missing.
    public static let serverMetadata = [
        "managedFields", "resourceVersion", "uid", "creationTimestamp", "generation", "selfLink",
        "ownerReferences", "deletionTimestamp", "deletionGracePeriodSeconds",
    ]

    /// The object without server-owned metadata, without `status` and without `extra` paths.
    public static func clean(_ object: JSONValue, dropping extra: [[String]] = []) -> JSONValue {
        var cleaned = object
        for field in serverMetadata { cleaned.remove(["metadata", field]) }
        cleaned.remove(["status"])
        for path in extra { cleaned.remove(path) }
        if cleaned[path: ["metadata", "annotations"]]?.objectValue?.isEmpty == true {
            cleaned.remove(["metadata", "annotations"])
        }
        return cleaned
    }

    /// Restore order: definitions first, then namespaces, then what pods consume, then the rest.
    static func rank(_ kind: String) -> Int {
        switch kind {
        case "CustomResourceDefinition": 0
        case "Namespace": 1
        case "Secret", "ConfigMap", "ServiceAccount": 2
        default: 3
        }
    }

    /// Objects sorted by restore order, then kind, namespace and name.
    public static func sorted(_ objects: [JSONValue]) -> [JSONValue] {
        objects.sorted { a, b in
            let ka = a["kind"]?.stringValue ?? "", kb = b["kind"]?.stringValue ?? ""
            if rank(ka) != rank(kb) { return rank(ka) < rank(kb) }
            if ka != kb { return ka < kb }
            let na = a[path: ["metadata", "namespace"]]?.stringValue ?? "", nb = b[path: ["metadata", "namespace"]]?.stringValue ?? ""
            if na != nb { return na < nb }
            return (a[path: ["metadata", "name"]]?.stringValue ?? "") < (b[path: ["metadata", "name"]]?.stringValue ?? "")
        }
    }

    /// A `kind: List` document of the objects, as `kubectl get -o yaml` prints one.
    public static func listDocument(_ objects: [JSONValue]) -> JSONValue {
        .object(["apiVersion": .string("v1"), "kind": .string("List"), "metadata": .object([:]),
                 "items": .array(sorted(objects))])
    }

    /// The catalog row of one cleaned object.
    public static func record(_ object: JSONValue, key: DigestKey) throws -> KubeObjectRecord {
        let kind = object["kind"]?.stringValue ?? ""
        var keys = Set<String>()
        for field in ["data", "stringData", "binaryData"] {
            keys.formUnion(object[field]?.objectValue?.keys ?? [:].keys)
        }
        return KubeObjectRecord(
            apiVersion: object["apiVersion"]?.stringValue ?? "", kind: kind,
            namespace: object[path: ["metadata", "namespace"]]?.stringValue ?? "",
            name: object[path: ["metadata", "name"]]?.stringValue ?? "",
            type: kind == "Secret" ? (object["type"]?.stringValue ?? "Opaque") : nil,
            keys: keys.sorted(), digest: key.digest(try object.jsonData()))
    }

    /// Parses `kubectl get … -o yaml|json` output: a `List` (or `SecretList` …), several
    /// YAML documents, or one object. Errors give a position, never the offending text,
    /// because the text may be a secret value.
    public static func parseObjects(_ bytes: [UInt8], origin: String) throws -> [JSONValue] {
        let text = String(decoding: bytes, as: UTF8.self)
        var documents: [JSONValue]
        let trimmed = text.drop { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }
        if trimmed.hasPrefix("{") || trimmed.hasPrefix("[") {
            do {
                documents = [try JSONValue.parse(json: Data(bytes))]
            } catch {
                throw DRError(.failed, "\(origin) is not valid JSON", hint: "give the output of `kubectl get secrets -A -o json` or `-o yaml`")
            }
        } else {
            do {
                documents = try JSONValue.parseYAMLDocuments(text)
            } catch let violation as YAMLAliasGuard.Violation {
                throw DRError(.failed, "\(origin) is refused: \(violation)")
            } catch {
                let position = yamlPosition(error).map { " (\($0))" } ?? ""
                throw DRError(.failed, "\(origin) is not valid YAML\(position)",
                              hint: "give the output of `kubectl get secrets -A -o yaml` or `-o json`")
            }
        }
        var objects: [JSONValue] = []
        for document in documents {
            if let items = document["items"]?.arrayValue, (document["kind"]?.stringValue ?? "").hasSuffix("List") {
                let itemKind = String((document["kind"]?.stringValue ?? "List").dropLast(4))
                for item in items {
                    var item = item
                    // `kubectl get secrets -o json` lists omit nothing, but API lists omit kind/apiVersion on items.
                    if item["kind"] == nil, !itemKind.isEmpty { item["kind"] = .string(itemKind) }
                    if item["apiVersion"] == nil, let version = document["apiVersion"] { item["apiVersion"] = version }
                    objects.append(item)
                }
            } else if document.objectValue != nil {
                objects.append(document)
            } else {
                throw DRError(.failed, "\(origin) holds a document that is not a Kubernetes object or List")
            }
        }
        for (index, object) in objects.enumerated() {
            guard object["kind"]?.stringValue != nil, object[path: ["metadata", "name"]]?.stringValue != nil else {
                throw DRError(.failed, "\(origin): item \(index + 1) has no kind or metadata.name")
            }
        }
        return objects
    }

    /// `line L, column C` of a YAML error, without the snippet Yams would quote.
    static func yamlPosition(_ error: any Error) -> String? {
        let text = String(describing: error)
        guard let range = text.range(of: #"\d+:\d+"#, options: .regularExpression) else { return nil }
        let parts = text[range].split(separator: ":")
        guard parts.count == 2 else { return nil }
        return "line \(parts[0]), column \(parts[1])"
    }

    /// Stores cleaned objects as an encrypted export snapshot and describes it.
    static func store(
        _ objects: [JSONValue], source: SourceConfig, previous: SnapshotRecord?, dataTime: Date, in workspace: Workspace
    ) throws -> SnapshotDraft {
        guard workspace.codec.encrypts else {
            throw DRError(.refused, "source \(source.name) holds Secrets and no encryption recipient is configured",
                          hint: "add `encryption.recipients` (drctl keygen prints one)")
        }
        let (key, keyObject) = try DigestKeyStore.load(previous: previous, in: workspace)
        let records = try objects.map { try record($0, key: key) }
        let yaml = try listDocument(objects).yamlString()
        let plaintext = Array(yaml.utf8)
        let export = try workspace.codec.write(type: .data, bytes: plaintext)
        let verifyResult = try verify(export, plaintext: plaintext, in: workspace)

        var note = "\(records.count) object\(records.count == 1 ? "" : "s")"
        if let previous {
            let before = try workspace.catalog.kubeObjects(of: previous.id)
            note += "; " + changeSummary(from: before, to: records)
        }
        var draft = SnapshotDraft(
            level: .full, parentID: nil, dataTime: dataTime,
            objects: [SnapshotObject(object: export, role: "objects"), SnapshotObject(object: keyObject, role: "digest-key")],
            files: Int64(records.count), verifiedAt: workspace.now(), verifyResult: verifyResult, note: note)
        draft.kubeObjects = records
        return draft
    }

    /// Reads the stored export back: decrypted and compared when an identity is configured,
    /// otherwise its stored bytes are hash-checked.
    static func verify(_ object: EncodedObject, plaintext: [UInt8], in workspace: Workspace) throws -> String {
        guard workspace.codec.canDecrypt else {
            try workspace.store.read(object.stored) { _ in }
            return "ok: stored bytes hash-checked (no identity configured to decrypt)"
        }
        let readBack = try workspace.codec.readAll(object)
        guard SHA256.hash(data: readBack) == SHA256.hash(data: plaintext) else {
            throw DRError(.dataCorrupt, "the stored export does not decrypt to what was written")
        }
        return "ok: decrypted and compared"
    }

    /// "2 added, 1 changed, 0 removed" (or "unchanged") between two snapshots' records.
    public static func changeSummary(from before: [KubeObjectRecord], to after: [KubeObjectRecord]) -> String {
        func id(_ r: KubeObjectRecord) -> String { "\(r.apiVersion)|\(r.kind)|\(r.namespace)|\(r.name)" }
        let old = Dictionary(before.map { (id($0), $0.digest) }, uniquingKeysWith: { a, _ in a })
        let new = Dictionary(after.map { (id($0), $0.digest) }, uniquingKeysWith: { a, _ in a })
        let added = new.keys.filter { old[$0] == nil }.count
        let removed = old.keys.filter { new[$0] == nil }.count
        let changed = new.filter { old[$0.key] != nil && old[$0.key] != $0.value }.count
        if added == 0 && removed == 0 && changed == 0 { return "unchanged" }
        return "\(added) added, \(changed) changed, \(removed) removed"
    }
}
