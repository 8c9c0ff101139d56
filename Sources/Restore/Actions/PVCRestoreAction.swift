public import DRCore
import Foundation
import Snapshots

/// `pvc.restore {source, path? | pvc: ns/name, image?, config_secret?, data_pvc?}`: restores the newest
/// verified snapshot of a `pvc-archive` source.
///
/// - Into a path (`path`, default the source's `path`): the tree is extracted into a staging
///   sibling and swapped in; a non-empty folder is moved aside as `<path>.pre-restore-<UTC
///   timestamp>` (never deleted), an empty or missing one is simply filled. A mount point cannot
///   be renamed, so there its entries are moved into `<path>/.pre-restore-<timestamp>/` and the
///   restored ones moved in.
/// - Into a PVC of the cluster (`pvc: ns/name`): a restore Job that mounts the PVC at `/restore`
///   and the drctl config/identity Secret (`config_secret`, default `drctl-config`, key
///   `drctl.yaml`, plus the identity file it names) at `/etc/drctl`, optionally a PVC holding
///   drctl's catalog and repository (`data_pvc`) at `/var/lib/drctl`, and runs `drctl snapshots
///   extract` into the volume. The config in the Secret must name a catalog and repository the
///   pod reaches. The plan shows the manifest; running creates it and waits for it to succeed
///   (`image` defaults to the `image` param, else `drctl:local`). Run it before the workload
///   that uses the PVC starts.
public struct PVCRestoreAction: RunbookAction {
    public static let name = "pvc.restore"
    public static let defaultTimeout: Duration = .seconds(3600)

    enum Target: Sendable {
        case path(String)
        case pvc(ObjectReference, job: JSONValue)
    }

    let bound: ActionSnapshot
    let target: Target

    public init(arguments: JSONValue, context: PlanContext) throws {
        let args = try ActionArguments(arguments, action: Self.name, known: ["source", "path", "pvc", "image", "config_secret", "data_pvc"])
        let name = try args.string("source", "a pvc-archive source name")
        let source = try context.source(name, kind: .pvcArchive, for: Self.name)
        let path = try args.optionalString("path")
        if let drill = context.drill {
            // A drill restores into its sandbox, whatever the step targets in an incident.
            bound = try context.bindSnapshot(source: name, kind: .pvcArchive, for: Self.name)
            target = .path(drill.volume(name))
        } else if try args.optionalString("pvc") != nil {
            guard path == nil else {
                throw DRError(.config, "\(Self.name): give either `path:` (a mounted folder) or `pvc: ns/name`, not both")
            }
            try context.requireClusterConfigured(for: Self.name)
            bound = try context.bindSnapshot(source: name, kind: .pvcArchive, for: Self.name, needsIdentity: false)
            let reference = try args.objectReference("pvc", "PersistentVolumeClaim")
            let image = try args.optionalString("image") ?? context.params["image"] ?? "drctl:local"
            let secret = try args.optionalString("config_secret") ?? "drctl-config"
            let dataPVC = try args.optionalString("data_pvc")
            target = .pvc(reference, job: Self.job(snapshot: bound.snapshot, pvc: reference, image: image, secret: secret, dataPVC: dataPVC))
        } else {
            bound = try context.bindSnapshot(source: name, kind: .pvcArchive, for: Self.name)
            if let path {
                target = .path(context.resolvePath(path))
            } else if case .pvcArchive(let spec) = source.spec {
                target = .path(spec.path)
            } else {
                throw DRError(.config, "\(Self.name): source `\(name)` is not a pvc-archive source")
            }
        }
    }

    /// The restore Job: mounts the PVC and the config Secret, extracts into a hidden folder of
    /// the volume (extract needs an empty folder; a fresh volume may hold `lost+found`), then
    /// moves the entries up.
    static func job(snapshot: SnapshotRecord, pvc: ObjectReference, image: String, secret: String, dataPVC: String?) -> JSONValue {
        let staging = "/restore/.drctl-restore-\(snapshot.shortID)"
        let script = """
            set -e
            rm -rf '\(staging)'
            drctl snapshots extract '\(snapshot.id)' --to '\(staging)' --config /etc/drctl/drctl.yaml
            cd '\(staging)'
            for entry in * .[!.]* ..?*; do [ -e "$entry" ] || [ -L "$entry" ] || continue; rm -rf "/restore/$entry"; mv "$entry" /restore/; done
            cd / && rmdir '\(staging)'
            """
        let jobName = String("drctl-restore-\(pvc.name)".prefix(52)) + "-\(snapshot.shortID)"
        let labels: JSONValue = .object([
            "app.kubernetes.io/managed-by": .string("drctl"), "drctl.io/snapshot": .string(snapshot.shortID),
            "drctl.io/source": .string(snapshot.source),
        ])
        return .object([
            "apiVersion": .string("batch/v1"), "kind": .string("Job"),
            "metadata": .object(["name": .string(jobName), "namespace": .string(pvc.namespace), "labels": labels]),
            "spec": .object([
                "backoffLimit": .int(0),
                "template": .object([
                    "metadata": .object(["labels": labels]),
                    "spec": .object([
                        "restartPolicy": .string("Never"),
                        "containers": .array([.object([
                            "name": .string("restore"), "image": .string(image), "imagePullPolicy": .string("IfNotPresent"),
                            "command": .array([.string("/bin/sh"), .string("-c"), .string(script)]),
                            "volumeMounts": .array([
                                .object(["name": .string("data"), "mountPath": .string("/restore")]),
                                .object(["name": .string("drctl-config"), "mountPath": .string("/etc/drctl"), "readOnly": .bool(true)]),
                            ] + (dataPVC == nil ? [] : [.object(["name": .string("drctl-data"), "mountPath": .string("/var/lib/drctl")])])),
                        ])]),
                        "volumes": .array([
                            .object(["name": .string("data"), "persistentVolumeClaim": .object(["claimName": .string(pvc.name)])]),
                            .object(["name": .string("drctl-config"), "secret": .object(["secretName": .string(secret), "defaultMode": .int(0o400)])]),
                        ] + (dataPVC.map { [.object(["name": .string("drctl-data"), "persistentVolumeClaim": .object(["claimName": .string($0)])])] } ?? [])),
                    ]),
                ]),
            ]),
        ])
    }

    public var plan: [String] {
        switch target {
        case .path(let path):
            return ["extract \(bound.summary)", "into \(path) (an existing non-empty folder is moved aside as \(path).pre-restore-<UTC timestamp>, never deleted)"]
        case .pvc(let pvc, let job):
            let manifest = (try? job.yamlString()) ?? ""
            return ["restore \(bound.summary)", "into PVC \(pvc) with this Job, then wait for it to succeed:"]
                + manifest.split(separator: "\n").map { "  \($0)" }
        }
    }

    public var snapshots: [String] { [bound.snapshot.id] }
    public var writes: [String] {
        if case .path(let path) = target { return [path] }
        return []
    }

    public func isDone(_ context: ExecutionContext) throws -> Bool {
        switch target {
        case .path(let path):
            return try Self.matches(path, snapshot: bound.snapshot, catalog: context.workspace.catalog)
        case .pvc(_, let job):
            let client = try context.requireCluster()
            let existing = try Self.jobState(client, job)
            return (existing?[path: ["status", "succeeded"]]?.intValue ?? 0) >= 1
        }
    }

    /// Whether `path` holds every entry of the snapshot with the same type and size (names and
    /// sizes only: a cheap "already restored" probe, not a content check).
    static func matches(_ path: String, snapshot: SnapshotRecord, catalog: Catalog) throws -> Bool {
        guard FileIO.isDirectory(path) else { return false }
        var all = true
        var count = 0
        try catalog.files(at: snapshot.id) { record in
            guard all else { return }
            let relative = String(decoding: record.path, as: UTF8.self)
            if relative.isEmpty { return }
            count += 1
            let full = "\(path)/\(relative)"
            switch record.type {
            case .directory: all = FileIO.isDirectory(full)
            case .symlink: all = FileSwap.isSymlink(full)
            case .regular: all = !FileIO.isDirectory(full) && FileIO.size(full) == record.size
            case .hardlink: all = FileIO.exists(full)
            case .deleted: break
            }
        }
        return all && count > 0
    }

    public func run(_ context: ExecutionContext) throws -> StepOutcome {
        switch target {
        case .path(let path): return try restoreIntoPath(path, context: context)
        case .pvc(let pvc, let job): return try restoreIntoPVC(pvc, job: job, context: context)
        }
    }

    func restoreIntoPath(_ path: String, context: ExecutionContext) throws -> StepOutcome {
        let workspace = context.workspace
        let snapshot = bound.snapshot
        let stamp = ActionFormat.fileStamp(workspace.now())
        if FileIO.isDirectory(path), !FileIO.list(path).isEmpty, FileSwap.isMountPoint(path) {
            // A mount point: swap its entries, not the folder.
            let staging = "\(path)/.drctl-restore-\(FileIO.randomHex(4))"
            defer { FileIO.remove(staging) }
            let report = try Extract.snapshot(snapshot.id, to: staging, in: workspace)
            let aside = FileSwap.freeName("\(path)/.pre-restore-\(stamp)")
            try FileIO.createDirectory(aside, mode: 0o700)
            let stagingName = (staging as NSString).lastPathComponent, asideName = (aside as NSString).lastPathComponent
            for entry in FileIO.list(path) where entry != stagingName && entry != asideName && !entry.hasPrefix(".pre-restore-") {
                try FileIO.rename("\(path)/\(entry)", to: "\(aside)/\(entry)")
            }
            for entry in FileIO.list(staging) { try FileIO.rename("\(staging)/\(entry)", to: "\(path)/\(entry)") }
            try FileIO.syncDirectory(path)
            context.output("moved the previous contents of mount point \(path) into \(aside) (kept)")
            return try finish(report, path: path, context: context)
        }
        let parent = (path as NSString).deletingLastPathComponent
        let staging = "\(parent)/.\((path as NSString).lastPathComponent).drctl-restore-\(FileIO.randomHex(4))"
        defer { FileIO.remove(staging) }
        try FileIO.createDirectory(parent)
        let report = try Extract.snapshot(snapshot.id, to: staging, in: workspace)
        var aside: String?
        if FileSwap.isEmptyDirectory(path) {
            try FileManager.default.removeItem(atPath: path)
        } else if FileIO.exists(path) || FileSwap.isSymlink(path) {
            let name = FileSwap.freeName("\(path).pre-restore-\(stamp)")
            try FileIO.rename(path, to: name)
            aside = name
            context.output("moved the previous contents of \(path) aside to \(name) (kept)")
        }
        do {
            try FileIO.rename(staging, to: path)
            try FileIO.syncDirectory(parent)
        } catch {
            if let aside, !FileIO.exists(path) { try? FileIO.rename(aside, to: path) }
            throw DRError(.io, "\(Self.name): could not put the restored tree at \(path): \(DRError.describe(error))")
        }
        return try finish(report, path: path, context: context)
    }

    func finish(_ report: ExtractReport, path: String, context: ExecutionContext) throws -> StepOutcome {
        context.output("restored snapshot \(bound.snapshot.shortID) into \(path): \(report.files) entries, \(report.bytes) bytes")
        guard report.mismatches.isEmpty else {
            for mismatch in report.mismatches.prefix(20) { context.output("MISMATCH \(mismatch)") }
            throw DRError(.dataCorrupt, "\(Self.name): \(report.mismatches.count) restored file(s) in \(path) differ from the hashes recorded at backup time; the rest of the tree is in place")
        }
        return .changed
    }

    static func jobResource(_ client: KubeClient) throws -> KubeClient.Resource {
        try client.resource(apiVersion: "batch/v1", kind: "Job")
    }

    static func jobState(_ client: KubeClient, _ job: JSONValue) throws -> JSONValue? {
        try client.get(try jobResource(client), namespace: job[path: ["metadata", "namespace"]]?.stringValue,
                       name: job[path: ["metadata", "name"]]?.stringValue ?? "")
    }

    func restoreIntoPVC(_ pvc: ObjectReference, job: JSONValue, context: ExecutionContext) throws -> StepOutcome {
        let client = try context.requireCluster()
        let jobName = job[path: ["metadata", "name"]]?.stringValue ?? ""
        let display = "job \(pvc.namespace)/\(jobName)"
        if let existing = try Self.jobState(client, job) {
            if (existing[path: ["status", "failed"]]?.intValue ?? 0) >= 1 {
                throw DRError(.failed, "\(Self.name): \(display) from an earlier attempt failed",
                              hint: "read its log (kubectl -n \(pvc.namespace) logs job/\(jobName)), delete the Job, then run the step again")
            }
            context.output("\(display) already exists; waiting for it")
        } else {
            _ = try client.create(job)
            context.output("\(display) created: restoring snapshot \(bound.snapshot.shortID) into PVC \(pvc)")
        }
        var last = "no status yet"
        let done: Bool? = try context.poll(until: context.deadline, interval: .seconds(1)) {
            guard let state = try Self.jobState(client, job) else { return nil }
            if (state[path: ["status", "succeeded"]]?.intValue ?? 0) >= 1 { return true }
            if (state[path: ["status", "failed"]]?.intValue ?? 0) >= 1 {
                throw DRError(.failed, "\(Self.name): \(display) failed",
                              hint: "read its log (kubectl -n \(pvc.namespace) logs job/\(jobName)), delete the Job, then run the step again")
            }
            last = "active \(state[path: ["status", "active"]]?.intValue ?? 0)"
            return nil
        }
        guard done != nil else {
            throw DRError(.failed, "\(Self.name): \(display) did not finish in time (\(last))",
                          hint: "kubectl -n \(pvc.namespace) describe job \(jobName)")
        }
        context.output("\(display) succeeded")
        return .changed
    }
}
