import DRCore
import Foundation
import NIOConcurrencyHelpers

/// Simulates the Deployment and StatefulSet controllers: after a spec change (new generation) the status
/// catches up with `spec.replicas` once `delay` has passed, unless rollouts are frozen.
final class RolloutController: Sendable {
    private struct State {
        var frozen = false
        var stopped = false
    }

    private let store: ResourceStore
    private let delay: Duration
    private let state = NIOLockedValueBox(State())

    init(store: ResourceStore, delay: Duration) {
        self.store = store
        self.delay = delay
    }

    func attach() {
        store.observe { [weak self] event in
            guard let self, event.kind != .deleted, Self.isWorkload(event.type), self.needsRollout(event.object) else { return }
            self.schedule(event.type, event.object)
        }
    }

    func stop() { state.withLockedValue { $0.stopped = true } }

    func setFrozen(_ frozen: Bool) {
        state.withLockedValue { $0.frozen = frozen }
        guard !frozen else { return }
        for type in store.types where Self.isWorkload(type) {
            for object in store.all(type, namespace: nil) where needsRollout(object) { schedule(type, object) }
        }
    }

    static func isWorkload(_ type: ResourceType) -> Bool {
        type.group == "apps" && (type.kind == "Deployment" || type.kind == "StatefulSet")
    }

    private func needsRollout(_ object: JSONValue) -> Bool {
        guard let desired = Self.rolledOutStatus(object) else { return false }
        return object["status"] != desired
    }

    private func schedule(_ type: ResourceType, _ object: JSONValue) {
        guard let name = object[path: ["metadata", "name"]]?.stringValue else { return }
        let namespace = object[path: ["metadata", "namespace"]]?.stringValue
        let delay = self.delay
        // On a dispatch queue, not the cooperative pool: tests that block the pool's few
        // threads (2 on these machines) must not stall rollouts for the tests waiting on them.
        let seconds = Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { [weak self] in
            self?.reconcile(type, namespace: namespace, name: name)
        }
    }

    private func reconcile(_ type: ResourceType, namespace: String?, name: String) {
        let (frozen, stopped) = state.withLockedValue { ($0.frozen, $0.stopped) }
        guard !frozen, !stopped, var object = try? store.get(type, namespace: namespace, name: name),
              let desired = Self.rolledOutStatus(object), object["status"] != desired else { return }
        object["status"] = desired
        _ = try? store.update(type, namespace: namespace, name: name, object: object,
                              options: WriteOptions(fieldManager: "kube-controller-manager", subresource: "status"))
    }

    /// The status a finished rollout of the object's current generation shows.
    static func rolledOutStatus(_ object: JSONValue) -> JSONValue? {
        guard let generation = object[path: ["metadata", "generation"]]?.intValue else { return nil }
        let replicas = JSONValue.int(object[path: ["spec", "replicas"]]?.intValue ?? 1)
        let name = object[path: ["metadata", "name"]]?.stringValue ?? ""
        var status: [String: JSONValue] = [
            "observedGeneration": .int(generation), "replicas": replicas, "updatedReplicas": replicas,
            "readyReplicas": replicas, "availableReplicas": replicas,
        ]
        let existing = object["status"]
        if object["kind"]?.stringValue == "StatefulSet" {
            status["currentReplicas"] = replicas
            let revision = "\(name)-\(generation)"
            status["currentRevision"] = .string(revision)
            status["updateRevision"] = .string(revision)
        } else {
            let time = JSONValue.string(Date().formatted(.iso8601))
            let condition = { (type: String, reason: String, message: String) -> JSONValue in
                .object(["type": .string(type), "status": .string("True"), "reason": .string(reason),
                         "message": .string(message), "lastUpdateTime": time, "lastTransitionTime": time])
            }
            // Keep the conditions of a finished rollout so it is not rewritten.
            if existing?["observedGeneration"]?.intValue == generation, let conditions = existing?["conditions"],
               existing?["availableReplicas"] == replicas {
                status["conditions"] = conditions
            } else {
                status["conditions"] = .array([
                    condition("Available", "MinimumReplicasAvailable", "Deployment has minimum availability."),
                    condition("Progressing", "NewReplicaSetAvailable", "ReplicaSet \"\(name)-\(generation)\" has successfully progressed."),
                ])
            }
        }
        return .object(status)
    }
}
