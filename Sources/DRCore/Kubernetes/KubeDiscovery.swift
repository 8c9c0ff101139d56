import Foundation
import Logging

/// Discovered resources per group version (`v1`, `apps/v1`), shared by a client's threads.
final class KubeDiscoveryCache: @unchecked Sendable {
    private let lock = NSLock()
    private var byGroupVersion: [String: [KubeClient.Resource]] = [:]

    func resources(_ groupVersion: String) -> [KubeClient.Resource]? {
        lock.lock()
        defer { lock.unlock() }
        return byGroupVersion[groupVersion]
    }

    func store(_ groupVersion: String, _ resources: [KubeClient.Resource]) {
        lock.lock()
        defer { lock.unlock() }
        byGroupVersion[groupVersion] = resources
    }

    func clear() {
        lock.lock()
        defer { lock.unlock() }
        byGroupVersion = [:]
    }
}

extension KubeClient {
    /// The resource serving `kind` in `apiVersion` (`apps/v1`, `Deployment`).
    ///
    /// Discovery answers are cached per group version; a kind missing from the cache is
    /// looked up again (a CRD may just have been registered). Throws a
    /// ``DRError/Code/notFound`` error when the server does not serve it.
    public func resource(apiVersion: String, kind: String) throws -> Resource {
        if let cached = discovery.resources(apiVersion)?.first(where: { $0.kind == kind }) {
            return cached
        }
        guard let resources = try fetchResources(groupVersion: apiVersion) else {
            throw DRError(
                .notFound, "the Kubernetes API at \(endpoint.server) does not serve \(apiVersion) (looking for kind \(kind))",
                hint: "is the CRD or API extension installed?")
        }
        discovery.store(apiVersion, resources)
        guard let found = resources.first(where: { $0.kind == kind }) else {
            throw DRError(
                .notFound, "the Kubernetes API at \(endpoint.server) serves no kind \(kind) in \(apiVersion)",
                hint: "check the kind's spelling and apiVersion (kubectl api-resources)")
        }
        return found
    }

    /// Every top-level resource at its group's preferred version (core `v1` first), as
    /// `kubectl api-resources` lists them; subresources are left out. Groups whose
    /// discovery fails with 503 or 404 (an aggregated API that is down) are skipped with a warning.
    public func preferredResources() throws -> [Resource] {
        var groupVersions: [String] = []
        let coreRequest = KubeHTTPRequest(method: "GET", path: "/api")
        let core = try decode(try checked(try send(coreRequest), coreRequest), coreRequest)
        let coreVersions = core["versions"]?.arrayValue?.compactMap(\.stringValue) ?? []
        if coreVersions.contains("v1") { groupVersions.append("v1") } else if let first = coreVersions.first { groupVersions.append(first) }

        let groupsRequest = KubeHTTPRequest(method: "GET", path: "/apis")
        let groups = try decode(try checked(try send(groupsRequest), groupsRequest), groupsRequest)
        for group in groups["groups"]?.arrayValue ?? [] {
            if let preferred = group[path: ["preferredVersion", "groupVersion"]]?.stringValue {
                groupVersions.append(preferred)
            } else if let first = group["versions"]?.arrayValue?.first?["groupVersion"]?.stringValue {
                groupVersions.append(first)
            }
        }

        var result: [Resource] = []
        for groupVersion in groupVersions {
            do {
                guard let resources = try fetchResources(groupVersion: groupVersion) else {
                    logger.warning("kubernetes discovery: group version vanished", metadata: ["group_version": "\(groupVersion)"])
                    continue
                }
                discovery.store(groupVersion, resources)
                result += resources
            } catch let error as DRError where error.kubeStatus?.code == 503 {
                logger.warning("kubernetes discovery: group version unavailable, skipped", metadata: [
                    "group_version": "\(groupVersion)", "error": "\(error.message)",
                ])
            }
        }
        return result
    }

    /// Forgets every discovery answer (the next lookup asks the server again).
    public func invalidateDiscovery() {
        discovery.clear()
    }

    /// The resources of one group version, or nil when the server does not serve it (404).
    func fetchResources(groupVersion: String) throws -> [Resource]? {
        let request = KubeHTTPRequest(method: "GET", path: KubePaths.groupVersionPath(apiVersion: groupVersion))
        let response = try send(request)
        if response.status == 404 { return nil }
        let body = try decode(try checked(response, request), request)
        return Self.parseResourceList(body, groupVersion: groupVersion)
    }

    /// The resources of an `APIResourceList`, without subresources (`deployments/status`).
    static func parseResourceList(_ body: JSONValue, groupVersion: String) -> [Resource] {
        let (group, version) = KubePaths.splitAPIVersion(body["groupVersion"]?.stringValue ?? groupVersion)
        var result: [Resource] = []
        for entry in body["resources"]?.arrayValue ?? [] {
            guard let name = entry["name"]?.stringValue, !name.isEmpty, !name.contains("/"),
                  let kind = entry["kind"]?.stringValue, !kind.isEmpty else { continue }
            result.append(Resource(
                group: entry["group"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? group,
                version: entry["version"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? version,
                name: name, kind: kind,
                namespaced: entry["namespaced"]?.boolValue ?? false,
                verbs: entry["verbs"]?.arrayValue?.compactMap(\.stringValue) ?? []))
        }
        return result
    }
}
