import DRCore
import Foundation
import NIOConcurrencyHelpers

/// LIST: selectors and `limit`/`continue` pagination over the objects sorted by namespace/name.
/// Later pages read the current objects after the last key (not a snapshot of the first page's version).
///
/// Continue tokens are opaque base64 of the list's resource version and the last key returned.
/// A token older than the last compaction (`expireContinueTokens()`) answers 410 Expired.
extension ResourceStore {
    func list(_ type: ResourceType, namespace: String?, query: ListQuery) throws -> JSONValue {
        let (stored, revision, compacted) = state.withLockedValue { state in
            (state.objects[type.storageKey] ?? [:], state.resourceVersion, state.compactedRevision)
        }
        var start: String?
        if let token = query.continueToken, !token.isEmpty {
            guard let data = Data(base64Encoded: token), let decoded = try? JSONValue.parse(json: data),
                  let tokenRevision = decoded["rv"]?.intValue, let key = decoded["start"]?.stringValue else {
                throw APIError.badRequest("continue key is not valid: illegal base64 data")
            }
            if tokenRevision < compacted { throw APIError.expired }
            start = key
        }
        var matching: [(String, JSONValue)] = []
        for (key, object) in stored.sorted(by: { $0.key < $1.key }) {
            if let namespace, type.namespaced, !key.hasPrefix(namespace + "/") { continue }
            if let start, key <= start { continue }
            if let selector = query.labelSelector, !selector.matches(Self.labels(object)) { continue }
            if let selector = query.fieldSelector, !selector.matches(object) { continue }
            matching.append((key, object))
        }
        var metadata: [String: JSONValue] = ["resourceVersion": .string(String(revision))]
        if let limit = query.limit, limit > 0, matching.count > limit {
            let remaining = matching.count - limit
            matching = Array(matching.prefix(limit))
            if let last = matching.last?.0 {
                let token = JSONValue.object(["rv": .int(revision), "start": .string(last)])
                metadata["continue"] = .string(((try? token.jsonData()) ?? Data()).base64EncodedString())
                metadata["remainingItemCount"] = .int(Int64(remaining))
            }
        }
        return .object([
            "apiVersion": .string(type.apiVersion),
            "kind": .string(type.kind + "List"),
            "metadata": .object(metadata),
            "items": .array(matching.map { Self.listItem($0.1, as: type) }),
        ])
    }
}
