import DRCore
import Foundation
import TestSupport

/// A bare GitOps repository at `bare` (with `git-daemon-export-ok`) whose `apps/APP/`
/// folders hold a Deployment each, as ArgoCD Applications point at them.
func makeServedGitOps(_ git: GitFixture, work: String, bare: String, apps: [String]) throws {
    try git.makeGitOpsRepository(at: work)
    for app in apps {
        try git.commit(work, file: "apps/\(app)/deployment.yaml", content: """
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: \(app)}
            spec:
              replicas: 1
              selector: {matchLabels: {app: \(app)}}
              template:
                metadata: {labels: {app: \(app)}}
                spec: {containers: [{name: \(app), image: "\(app):1.0"}]}
            """, message: "Deploy \(app)")
    }
    try FileIO.createDirectory((bare as NSString).deletingLastPathComponent)
    try git("clone", "--quiet", "--bare", work, bare)
    try FileIO.atomicWrite([], to: "\(bare)/git-daemon-export-ok")
}

/// An ArgoCD Application reading `apps/NAME` of `repoURL`, with automated sync.
func applicationYAML(_ name: String, repoURL: String, namespace: String = "argocd") -> String {
    """
    apiVersion: argoproj.io/v1alpha1
    kind: Application
    metadata: {name: \(name), namespace: \(namespace)}
    spec:
      project: default
      source: {repoURL: "\(repoURL)", targetRevision: main, path: apps/\(name)}
      destination: {server: "https://kubernetes.default.svc", namespace: \(name)}
      syncPolicy: {automated: {prune: true, selfHeal: true}}
    """
}

/// A namespace-less Deployment manifest (applied with a namespace, like vendored installs).
func deploymentYAML(_ name: String, namespace: String? = nil) -> String {
    """
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: \(name)\(namespace.map { ", namespace: \($0)" } ?? "")}
    spec:
      replicas: 1
      selector: {matchLabels: {app: \(name)}}
      template:
        metadata: {labels: {app: \(name)}}
        spec: {containers: [{name: \(name), image: "\(name):1.0"}]}
    """
}
