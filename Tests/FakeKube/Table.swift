import DRCore
import Foundation

/// `meta.k8s.io/v1 Table` rendering for `kubectl get` without `-o`.
enum Table {
    static func render(type: ResourceType, objects: [JSONValue], request: APIRequest, listMetadata: JSONValue? = nil) -> JSONValue {
        var columns: [(String, String, String)] = [("Name", "string", "name")]
        switch (type.group, type.kind) {
        case ("apps", "Deployment"):
            columns += [("Ready", "string", ""), ("Up-to-date", "integer", ""), ("Available", "integer", "")]
        case ("apps", "StatefulSet"):
            columns += [("Ready", "string", "")]
        case ("", "Secret"):
            columns += [("Type", "string", ""), ("Data", "string", "")]
        default:
            break
        }
        columns.append(("Age", "string", ""))
        let include = request.query["includeObject"] ?? "Metadata"
        let rows = objects.map { object -> JSONValue in
            var row: [String: JSONValue] = ["cells": .array(cells(type: type, object: object))]
            switch include {
            case "None": break
            case "Object": row["object"] = object
            default:
                var metadata = object["metadata"] ?? .object([:])
                metadata["managedFields"] = nil
                row["object"] = .object(["kind": .string("PartialObjectMetadata"), "apiVersion": .string("meta.k8s.io/v1"),
                                         "metadata": metadata])
            }
            return .object(row)
        }
        var metadata = listMetadata ?? .object([:])
        if metadata["resourceVersion"] == nil {
            metadata["resourceVersion"] = objects.first?[path: ["metadata", "resourceVersion"]] ?? .string("")
        }
        return .object([
            "kind": .string("Table"), "apiVersion": .string("meta.k8s.io/v1"), "metadata": metadata,
            "columnDefinitions": .array(columns.map { name, kind, format in
                .object(["name": .string(name), "type": .string(kind), "format": .string(format),
                         "description": .string(name), "priority": .int(0)])
            }),
            "rows": .array(rows),
        ])
    }

    private static func cells(type: ResourceType, object: JSONValue) -> [JSONValue] {
        var cells: [JSONValue] = [object[path: ["metadata", "name"]] ?? .string("")]
        let status = object["status"]
        let replicas = object[path: ["spec", "replicas"]]?.intValue ?? 1
        switch (type.group, type.kind) {
        case ("apps", "Deployment"):
            cells.append(.string("\(status?["readyReplicas"]?.intValue ?? 0)/\(replicas)"))
            cells.append(.int(status?["updatedReplicas"]?.intValue ?? 0))
            cells.append(.int(status?["availableReplicas"]?.intValue ?? 0))
        case ("apps", "StatefulSet"):
            cells.append(.string("\(status?["readyReplicas"]?.intValue ?? 0)/\(replicas)"))
        case ("", "Secret"):
            cells.append(object["type"] ?? .string("Opaque"))
            cells.append(.string(String(object["data"]?.objectValue?.count ?? 0)))
        default:
            break
        }
        cells.append(.string(age(object[path: ["metadata", "creationTimestamp"]]?.stringValue)))
        return cells
    }

    /// Kubernetes' short human durations ("5s", "3m2s", "4h", "2d").
    static func age(_ timestamp: String?) -> String {
        guard let timestamp, let date = try? Date(timestamp, strategy: .iso8601) else { return "<unknown>" }
        let seconds = max(0, Int(Date().timeIntervalSince(date)))
        switch seconds {
        case ..<120: return "\(seconds)s"
        case ..<600: return "\(seconds / 60)m\(seconds % 60 == 0 ? "" : "\(seconds % 60)s")"
        case ..<10800: return "\(seconds / 60)m"
        case ..<28800: return "\(seconds / 3600)h\((seconds % 3600) / 60 == 0 ? "" : "\((seconds % 3600) / 60)m")"
        case ..<172_800: return "\(seconds / 3600)h"
        default: return "\(seconds / 86400)d"
        }
    }
}
