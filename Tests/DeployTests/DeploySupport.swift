import DRCore
import Foundation

/// The package root (Tests/DeployTests/ → ../..).
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

let kubectlPath = "/usr/bin/kubectl"
var hasKubectl: Bool { FileManager.default.isExecutableFile(atPath: kubectlPath) }

/// The overlays under deploy/overlays.
let overlayNames = ["minikube", "production"]

/// A child environment of its own: no KUBECONFIG or HOME of the machine leaks in.
func childEnvironment(home: String) -> Environment {
    Environment(["PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": home, "LC_ALL": "C"])
}

/// Runs a command to completion (synchronously) and returns its result.
func run(_ executable: String, _ arguments: [String], home: String, timeout: Duration = .seconds(120)) throws -> Command.Result {
    var command = Command(executable, arguments, environment: childEnvironment(home: home))
    command.workingDirectory = home
    command.timeout = timeout
    return try command.run()
}

/// `kubectl kustomize deploy/overlays/NAME`, as YAML text and parsed objects.
func render(_ overlay: String, home: String) throws -> (yaml: String, objects: [JSONValue]) {
    let result = try run(kubectlPath, ["kustomize", "\(packageRoot)/deploy/overlays/\(overlay)"], home: home)
    guard result.succeeded else {
        throw DRError(.failed, "kubectl kustomize \(overlay) failed: \(result.stderr)")
    }
    let objects = try JSONValue.parseYAMLDocuments(result.stdoutText).filter { $0 != .null }
    return (result.stdoutText, objects)
}

/// A per-test folder, removed by `cleanup()`.
struct Scratch {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-deploy-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { "\(path)/\(name)" }

    func cleanup() { try? FileManager.default.removeItem(atPath: path) }
}

extension JSONValue {
    var kind: String { self["kind"]?.stringValue ?? "" }
    var name: String { self[path: ["metadata", "name"]]?.stringValue ?? "" }
    var namespace: String? { self[path: ["metadata", "namespace"]]?.stringValue }
    var strings: [String] { (arrayValue ?? []).compactMap(\.stringValue) }

    /// The pod spec of a CronJob, Job or workload, or nil.
    var podSpec: JSONValue? {
        switch kind {
        case "CronJob": return self[path: ["spec", "jobTemplate", "spec", "template", "spec"]]
        case "Job", "Deployment", "StatefulSet", "DaemonSet": return self[path: ["spec", "template", "spec"]]
        case "Pod": return self["spec"]
        default: return nil
        }
    }

    /// Every container and init container of a pod spec.
    var containers: [JSONValue] {
        (self["containers"]?.arrayValue ?? []) + (self["initContainers"]?.arrayValue ?? [])
    }
}

/// Whether an image reference is pinned: a digest, or a tag other than `latest`.
func imageIsPinned(_ image: String) -> Bool {
    if image.contains("@sha256:") { return true }
    let last = image.split(separator: "/").last.map(String.init) ?? image
    guard let colon = last.firstIndex(of: ":") else { return false }
    let tag = last[last.index(after: colon)...]
    return !tag.isEmpty && tag != "latest"
}
