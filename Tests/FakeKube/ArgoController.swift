import DRCore
import Foundation
import NIOConcurrencyHelpers

/// Simulates ArgoCD's application controller for `argoproj.io/v1alpha1` Applications.
///
/// It acts only while an available `argocd-application-controller` Deployment or StatefulSet exists in the
/// Application's namespace. An Application with `.operation.sync` is synced by really fetching
/// `spec.source.repoURL` at `spec.source.targetRevision` with `git`; YAML manifests under `spec.source.path`
/// are applied into the destination namespace. One operation runs at a time per Application.
final class ArgoController: Sendable {
    static let controllerName = "argocd-application-controller"

    private struct State {
        var running: Set<String> = []
        var stopped = false
    }

    private let store: ResourceStore
    private let git: GitRunner
    private let state = NIOLockedValueBox(State())

    init(store: ResourceStore, gitPath: String, gitTimeout: Duration) {
        self.store = store
        self.git = GitRunner(gitPath: gitPath, timeout: gitTimeout)
    }

    func attach() {
        store.observe { [weak self] event in
            guard let self, event.kind != .deleted else { return }
            let namespace = event.object[path: ["metadata", "namespace"]]?.stringValue
            if Self.isApplication(event.type) {
                self.consider(event.object)
            } else if RolloutController.isWorkload(event.type),
                      event.object[path: ["metadata", "name"]]?.stringValue == Self.controllerName, let namespace {
                self.considerAll(namespace: namespace)
            }
        }
    }

    func stop() { state.withLockedValue { $0.stopped = true } }

    static func isApplication(_ type: ResourceType) -> Bool {
        type.group == "argoproj.io" && type.kind == "Application"
    }

    private var applicationType: ResourceType? { store.type(apiVersion: "argoproj.io/v1alpha1", kind: "Application") }

    private func considerAll(namespace: String) {
        guard let type = applicationType else { return }
        for application in store.all(type, namespace: namespace) { consider(application) }
    }

    /// Whether an available application controller runs in `namespace`.
    func controllerAvailable(namespace: String) -> Bool {
        for type in store.types where RolloutController.isWorkload(type) {
            if let workload = try? store.get(type, namespace: namespace, name: Self.controllerName),
               (workload[path: ["status", "availableReplicas"]]?.intValue ?? 0) >= 1 {
                return true
            }
        }
        return false
    }

    private func consider(_ application: JSONValue) {
        guard let operation = application["operation"], operation["sync"] != nil,
              application[path: ["status", "operationState", "phase"]]?.stringValue != "Running",
              let type = applicationType,
              let name = application[path: ["metadata", "name"]]?.stringValue,
              let namespace = application[path: ["metadata", "namespace"]]?.stringValue,
              controllerAvailable(namespace: namespace) else { return }
        let key = "\(namespace)/\(name)"
        let claimed = state.withLockedValue { state -> Bool in
            guard !state.stopped, !state.running.contains(key) else { return false }
            state.running.insert(key)
            return true
        }
        guard claimed else { return }
        let startedAt = Date().formatted(.iso8601)
        let marked = updateStatus(type, namespace: namespace, name: name) { status, _ in
            status["operationState"] = .object([
                "phase": .string("Running"), "message": .string("syncing"), "startedAt": .string(startedAt),
                "operation": operation,
            ])
        }
        guard marked else {
            state.withLockedValue { _ = $0.running.remove(key) }
            return
        }
        // A dispatch thread, not a Task: the cooperative pool may be saturated by tests.
        DispatchQueue.global().async { [weak self] in
            guard let self else { return }
            let outcome = self.sync(application, operation: operation)
            _ = self.updateStatus(type, namespace: namespace, name: name) { status, object in
                self.record(outcome, into: &status, operation: operation, startedAt: startedAt)
                if object["operation"] == operation { object["operation"] = nil }
            }
            self.state.withLockedValue { _ = $0.running.remove(key) }
            if let latest = try? self.store.get(type, namespace: namespace, name: name) { self.consider(latest) }
        }
    }

    private struct Outcome: Sendable {
        var revision: String?
        var message: String
        var applied: Int
    }

    private func sync(_ application: JSONValue, operation: JSONValue) -> Outcome {
        guard let repoURL = application[path: ["spec", "source", "repoURL"]]?.stringValue else {
            return Outcome(revision: nil, message: "spec.source.repoURL is required", applied: 0)
        }
        let requested = operation[path: ["sync", "revision"]]?.stringValue
        let target = application[path: ["spec", "source", "targetRevision"]]?.stringValue
        let revision = [requested, target].compactMap { $0 }.first { !$0.isEmpty } ?? "HEAD"
        let path = application[path: ["spec", "source", "path"]]?.stringValue ?? ""
        do {
            let fetched = try git.fetch(repoURL: repoURL, revision: revision, path: path)
            var applied = 0
            let namespace = application[path: ["spec", "destination", "namespace"]]?.stringValue ?? "default"
            for manifest in fetched.manifests where apply(manifest, namespace: namespace) { applied += 1 }
            return Outcome(revision: fetched.sha, message: "successfully synced (all tasks run)", applied: applied)
        } catch {
            return Outcome(revision: nil, message: "\(error)", applied: 0)
        }
    }

    /// Creates or merges one manifest into the store, as a sync would.
    private func apply(_ manifest: JSONValue, namespace: String) -> Bool {
        guard let apiVersion = manifest["apiVersion"]?.stringValue, let kind = manifest["kind"]?.stringValue,
              let type = store.type(apiVersion: apiVersion, kind: kind),
              let name = manifest[path: ["metadata", "name"]]?.stringValue else { return false }
        let target = type.namespaced ? (manifest[path: ["metadata", "namespace"]]?.stringValue ?? namespace) : nil
        if let target, (try? store.get(ResourceStore.namespaceType, namespace: nil, name: target)) == nil {
            _ = try? store.create(ResourceStore.namespaceType, namespace: nil,
                                  object: .object(["metadata": .object(["name": .string(target)])]),
                                  options: WriteOptions(fieldManager: "argocd-controller"))
        }
        return (try? store.patch(type, namespace: target, name: name, kind: .apply, body: manifest,
                                 options: WriteOptions(fieldManager: "argocd-controller"))) != nil
    }

    private func record(_ outcome: Outcome, into status: inout JSONValue, operation: JSONValue, startedAt: String) {
        let finishedAt = Date().formatted(.iso8601)
        if let revision = outcome.revision {
            status["operationState"] = .object([
                "phase": .string("Succeeded"), "message": .string(outcome.message),
                "startedAt": .string(startedAt), "finishedAt": .string(finishedAt), "operation": operation,
                "syncResult": .object(["revision": .string(revision)]),
            ])
            status["sync"] = .object(["status": .string("Synced"), "revision": .string(revision)])
            status["health"] = .object(["status": .string("Healthy")])
            status["conditions"] = nil
        } else {
            status["operationState"] = .object([
                "phase": .string("Failed"), "message": .string(outcome.message),
                "startedAt": .string(startedAt), "finishedAt": .string(finishedAt), "operation": operation,
            ])
            status["sync"] = .object(["status": .string("Unknown")])
            status["health"] = .object(["status": .string("Missing")])
            status["conditions"] = .array([.object([
                "type": .string("ComparisonError"), "message": .string(outcome.message),
                "lastTransitionTime": .string(finishedAt),
            ])])
        }
    }

    /// Re-reads the Application and writes its status (and possibly the object) back; false if it is gone.
    private func updateStatus(_ type: ResourceType, namespace: String, name: String,
                              _ change: (inout JSONValue, inout JSONValue) -> Void) -> Bool {
        for _ in 0..<5 {
            guard var object = try? store.get(type, namespace: namespace, name: name) else { return false }
            var status = object["status"] ?? .object([:])
            change(&status, &object)
            object["status"] = status
            if type.hasStatus {
                let operation = object["operation"]
                guard (try? store.update(type, namespace: namespace, name: name, object: object,
                                         options: WriteOptions(fieldManager: "argocd-application-controller", subresource: "status"))) != nil
                else { continue }
                if operation == nil, var latest = try? store.get(type, namespace: namespace, name: name) {
                    latest["operation"] = nil
                    _ = try? store.update(type, namespace: namespace, name: name, object: latest,
                                          options: WriteOptions(fieldManager: "argocd-application-controller"))
                }
                return true
            }
            if (try? store.update(type, namespace: namespace, name: name, object: object,
                                  options: WriteOptions(fieldManager: "argocd-application-controller"))) != nil {
                return true
            }
        }
        return false
    }
}
