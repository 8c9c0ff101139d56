import Foundation

/// A vendored stand-in for ArgoCD's `install.yaml`: the argoproj.io CRDs and the three
/// workloads runbooks wait for, without namespaces (applied with `-n argocd`, as the
/// real manifest is). The fake's rollout controller makes them available and its ArgoCD
/// controller starts once `argocd-application-controller` is.
public enum ArgoInstall {
    /// The workloads, as `kind/name`.
    public static let workloads = [
        "Deployment/argocd-server", "Deployment/argocd-repo-server", "StatefulSet/argocd-application-controller",
    ]

    /// The install manifest (workloads only; CRDs are in ``ArgoCRDs``).
    public static var yaml: String {
        workloads.map { item in
            let parts = item.split(separator: "/")
            let kind = parts[0], name = parts[1]
            return """
                apiVersion: apps/v1
                kind: \(kind)
                metadata:
                  name: \(name)
                  labels: {app.kubernetes.io/name: \(name), app.kubernetes.io/part-of: argocd}
                spec:
                  replicas: 1
                  selector:
                    matchLabels: {app.kubernetes.io/name: \(name)}
                  template:
                    metadata:
                      labels: {app.kubernetes.io/name: \(name)}
                    spec:
                      containers:
                      - name: \(name)
                        image: quay.io/argoproj/argocd:v2.9.3
                """
        }.joined(separator: "\n---\n")
    }

    /// Writes `crds.yaml` and `install.yaml` into `directory` (created if missing).
    public static func write(to directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try ArgoCRDs.yaml.write(toFile: "\(directory)/crds.yaml", atomically: true, encoding: .utf8)
        try yaml.write(toFile: "\(directory)/install.yaml", atomically: true, encoding: .utf8)
    }
}
