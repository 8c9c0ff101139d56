public import DRCore
import Foundation
internal import Logging

/// Exports Kubernetes Secrets (`kind: secrets`): from the cluster's API, or from a
/// `kubectl get secrets -o yaml|json` file for air-gapped clusters.
public struct SecretsSnapshotter: Snapshotter {
    public init() {}

    public func snapshot(
        _ source: SourceConfig, previous: SnapshotRecord?, options: BackupOptions, in workspace: Workspace
    ) throws -> SnapshotDraft {
        guard case .secrets(let spec) = source.spec else {
            throw DRError(.failed, "source \(source.name) is not a secrets source")
        }
        let dataTime = workspace.now()
        var secrets: [JSONValue]
        switch spec.input {
        case .file(let path):
            let bytes: [UInt8]
            if path == "-" {
                bytes = Array(FileHandle.standardInput.readDataToEndOfFile())
            } else {
                do { bytes = try FileIO.read(path) } catch {
                    throw DRError(.notFound, "source \(source.name): cannot read \(path)", cause: error)
                }
            }
            let origin = path == "-" ? "standard input" : path
            secrets = try KubeExport.parseObjects(bytes, origin: origin).filter { $0["kind"]?.stringValue == "Secret" }
            if !spec.namespaces.isEmpty {
                secrets = secrets.filter { spec.namespaces.contains($0[path: ["metadata", "namespace"]]?.stringValue ?? "") }
            }
            if let selector = spec.selector {
                let parsed = try LabelSelector(parsing: selector)
                secrets = secrets.filter(parsed.matches)
            }
        case .cluster:
            let client = try workspace.kubeClient()
            let resource = try client.resource(apiVersion: "v1", kind: "Secret")
            if spec.namespaces.isEmpty {
                secrets = try client.list(resource, labelSelector: spec.selector)
            } else {
                secrets = []
                for namespace in spec.namespaces {
                    secrets += try client.list(resource, namespace: namespace, labelSelector: spec.selector)
                }
            }
        }
        let before = secrets.count
        secrets = secrets.filter { !spec.excludeTypes.contains($0["type"]?.stringValue ?? "Opaque") }
        if before != secrets.count {
            workspace.logger.info("source \(source.name): \(before - secrets.count) Secret(s) of excluded types left out")
        }
        return try KubeExport.store(
            secrets.map { KubeExport.clean($0) }, source: source, previous: previous, dataTime: dataTime, in: workspace)
    }
}
