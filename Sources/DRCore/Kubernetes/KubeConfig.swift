import Foundation

/// One or more kubeconfig files merged the way kubectl merges `KUBECONFIG`: the first
/// file that names a cluster, context or user wins, and `current-context` comes from the
/// first file that sets it. Each entry remembers its file, so relative paths resolve
/// against that file's folder and errors name it.
struct KubeConfig {
    /// A named `clusters`, `contexts` or `users` entry and the file that defined it.
    struct Entry {
        var name: String
        var value: JSONValue
        var file: String
    }

    /// The files read, in precedence order.
    var files: [String] = []
    var currentContext: String?
    var currentContextFile: String?
    var clusters: [String: Entry] = [:]
    var contexts: [String: Entry] = [:]
    var users: [String: Entry] = [:]

    /// The file list as shown in messages (`a` or `a:b`).
    var filesDescription: String { files.joined(separator: ":") }

    /// Reads and merges `paths` (which must exist) in order.
    static func load(paths: [String]) throws -> KubeConfig {
        var config = KubeConfig()
        for path in paths {
            try config.merge(file: path)
        }
        return config
    }

    private mutating func merge(file path: String) throws {
        let bytes: [UInt8]
        do {
            bytes = try FileIO.read(path)
        } catch {
            throw DRError(.config, "cannot read kubeconfig \(path)", cause: error)
        }
        let documents: [JSONValue]
        do {
            documents = try JSONValue.parseYAMLDocuments(String(decoding: bytes, as: UTF8.self))
        } catch {
            throw DRError(.config, "kubeconfig \(path) is not valid YAML", cause: error)
        }
        files.append(path)
        guard let document = documents.first else { return }
        guard case .object = document else {
            throw DRError(.config, "kubeconfig \(path): expected a mapping at the top level")
        }
        if currentContext == nil, let current = document["current-context"]?.kubeScalar, !current.isEmpty {
            currentContext = current
            currentContextFile = path
        }
        try Self.mergeList(document, key: "clusters", inner: "cluster", file: path, into: &clusters)
        try Self.mergeList(document, key: "contexts", inner: "context", file: path, into: &contexts)
        try Self.mergeList(document, key: "users", inner: "user", file: path, into: &users)
    }

    private static func mergeList(
        _ document: JSONValue, key: String, inner: String, file: String, into entries: inout [String: Entry]
    ) throws {
        guard let list = document[key], list != .null else { return }
        guard let items = list.arrayValue else {
            throw DRError(.config, "kubeconfig \(file): `\(key)` must be a list")
        }
        for (index, item) in items.enumerated() {
            guard let name = item["name"]?.kubeScalar, !name.isEmpty else {
                throw DRError(.config, "kubeconfig \(file): \(key)[\(index)] has no `name`")
            }
            let value = item[inner] ?? .object([:])
            guard case .object = value else {
                throw DRError(.config, "kubeconfig \(file): \(key)[\(index)] (\(name)): `\(inner)` must be a mapping")
            }
            if entries[name] == nil {
                entries[name] = Entry(name: name, value: value, file: file)
            }
        }
    }
}

extension JSONValue {
    /// A YAML scalar as text, whatever type YAML gave it (`token: 12345` is still a token).
    var kubeScalar: String? {
        switch self {
        case .string(let value): value
        case .int(let value): String(value)
        case .double(let value): String(value)
        case .bool(let value): value ? "true" : "false"
        default: nil
        }
    }

    /// A YAML boolean, also accepting the strings `"true"`/`"false"`.
    var kubeBool: Bool? {
        switch self {
        case .bool(let value): value
        case .string(let value): value == "true" ? true : value == "false" ? false : nil
        default: nil
        }
    }
}
