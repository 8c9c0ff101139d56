public import DRCore
import Foundation
internal import Logging

/// Exports ArgoCD's own state (`kind: argocd-state`), as `argocd admin export` does:
/// Applications (without `.operation` and `.status`), AppProjects, ApplicationSets,
/// ArgoCD's ConfigMaps, `argocd-secret` and every Secret labelled
/// `argocd.argoproj.io/secret-type` (repositories, clusters). The argoproj.io CRDs are
/// saved too, so the export restores into an empty cluster.
public struct ArgoStateSnapshotter: Snapshotter {
    public init() {}

    /// ConfigMaps ArgoCD reads its settings from.
    public static let configMaps = ["argocd-cm", "argocd-rbac-cm", "argocd-ssh-known-hosts-cm", "argocd-tls-certs-cm"]
    /// ArgoCD's custom resource kinds; only Application must exist.
    public static let customKinds = ["Application", "AppProject", "ApplicationSet"]
    static let crdNames = ["applications.argoproj.io", "appprojects.argoproj.io", "applicationsets.argoproj.io"]

    public func snapshot(
        _ source: SourceConfig, previous: SnapshotRecord?, options: BackupOptions, in workspace: Workspace
    ) throws -> SnapshotDraft {
        guard case .argocdState(let spec) = source.spec else {
            throw DRError(.failed, "source \(source.name) is not an argocd-state source")
        }
        let dataTime = workspace.now()
        let client = try workspace.kubeClient()
        var objects: [JSONValue] = []

        for kind in Self.customKinds {
            let resource: KubeClient.Resource
            do {
                resource = try client.resource(apiVersion: "argoproj.io/v1alpha1", kind: kind)
            } catch let error as DRError where error.code == .notFound {
                if kind == "Application" {
                    throw DRError(.notFound, "source \(source.name): the cluster has no argoproj.io Application resource",
                                  hint: "is ArgoCD installed? its CRDs must be applied before its state can be exported")
                }
                workspace.logger.info("source \(source.name): no \(kind) resource in the cluster, skipped")
                continue
            }
            let drop: [[String]] = kind == "Application" ? [["operation"]] : []
            objects += try client.list(resource).map { KubeExport.clean($0, dropping: drop) }
        }
        let crd = try client.resource(apiVersion: "apiextensions.k8s.io/v1", kind: "CustomResourceDefinition")
        for name in Self.crdNames {
            if let object = try client.get(crd, namespace: nil, name: name) { objects.append(KubeExport.clean(object)) }
        }
        let configMap = try client.resource(apiVersion: "v1", kind: "ConfigMap")
        for name in Self.configMaps {
            if let object = try client.get(configMap, namespace: spec.namespace, name: name) {
                objects.append(KubeExport.clean(object))
            } else {
                workspace.logger.info("source \(source.name): ConfigMap \(spec.namespace)/\(name) does not exist, skipped")
            }
        }
        let secret = try client.resource(apiVersion: "v1", kind: "Secret")
        var secrets = try client.list(secret, namespace: spec.namespace, labelSelector: "argocd.argoproj.io/secret-type")
        if !secrets.contains(where: { $0[path: ["metadata", "name"]]?.stringValue == "argocd-secret" }),
           let object = try client.get(secret, namespace: spec.namespace, name: "argocd-secret") {
            secrets.append(object)
        }
        objects += secrets.map { KubeExport.clean($0) }
        return try KubeExport.store(objects, source: source, previous: previous, dataTime: dataTime, in: workspace)
    }
}
