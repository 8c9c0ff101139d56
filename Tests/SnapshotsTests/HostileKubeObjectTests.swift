import DRCore
import Foundation
import Snapshots
import Testing
import TestSupport

/// Kubernetes objects with odd names and big values, from kubectl output (issue 9).
@Suite("hostile Kubernetes objects")
struct HostileKubeObjectTests {
    static let oddNames = [
        "unicode-zażółć-名前-😀", String(repeating: "l", count: 253), "dots.in.the.name", "..", ".",
        "../../escape", "trailing-dot.", "has space", "new\nline",
    ]

    func secret(_ name: String, namespace: String = "odd", data: [String: String]) -> JSONValue {
        .object([
            "apiVersion": .string("v1"), "kind": .string("Secret"), "type": .string("Opaque"),
            "metadata": .object(["name": .string(name), "namespace": .string(namespace)]),
            "data": .object(data.mapValues { .string($0) }),
        ])
    }

    @Test("odd names and a 1 MiB Secret round-trip through a secrets backup and snapshots extract, byte for byte")
    func roundTrip() throws {
        try withTemporaryDirectory { dir in
            var generator = SystemRandomNumberGenerator()
            let big = (0..<(1 << 20)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let bigValue = Data(big).base64EncodedString()
            var items = Self.oddNames.enumerated().map { index, name in
                secret(name, data: ["key-\(index)": SecretFixtures.b64("value-\(index)"), "odd.key_\(index)-ü": SecretFixtures.b64("ü")])
            }
            items.append(secret("big", namespace: "wordpress", data: ["blob": bigValue]))
            let list = JSONValue.object(["apiVersion": .string("v1"), "kind": .string("List"), "items": .array(items)])
            let input = "\(dir)/secrets.yaml"
            try FileIO.atomicWrite(Array(try list.yamlString().utf8), to: input)

            let workspace = try makeWorkspace(in: "\(dir)/drctl", sourcesYAML: "  - name: secrets\n    kind: secrets\n    file: \(input)\n")
            let outcome = try #require(try Backup.run(workspace).outcomes.first)
            #expect(outcome.succeeded, "\(outcome.error ?? "")")
            let snapshot = try #require(outcome.snapshot)
            let records = try workspace.catalog.kubeObjects(of: snapshot.id)
            #expect(Set(records.map(\.name)) == Set(Self.oddNames + ["big"]))

            let extracted = "\(dir)/out/restored.yaml"
            try FileIO.createDirectory("\(dir)/out")
            _ = try Extract.snapshot(snapshot.id, to: extracted, in: workspace)
            // Only the one private file was written, whatever the names say.
            #expect(FileIO.list("\(dir)/out") == ["restored.yaml"])
            #expect((try FileManager.default.attributesOfItem(atPath: extracted)[.posixPermissions] as? Int) == 0o600)
            let documents = try JSONValue.parseYAMLDocuments(try String(contentsOfFile: extracted, encoding: .utf8))
            let restored = try #require(documents.first?["items"]?.arrayValue)
            #expect(restored.count == items.count)
            for item in items {
                let name = item[path: ["metadata", "name"]]?.stringValue
                let match = restored.first { $0[path: ["metadata", "name"]]?.stringValue == name }
                #expect(match?["data"] == item["data"], "\(name ?? "?")")
            }
            let blob = try #require(restored.first { $0[path: ["metadata", "name"]]?.stringValue == "big" }?[path: ["data", "blob"]]?.stringValue)
            #expect(Data(base64Encoded: blob) == Data(big))
        }
    }

    @Test("a kubectl-output file that is an alias bomb, not a list, or not YAML is refused without quoting it")
    func hostileInputFiles() throws {
        try withTemporaryDirectory { dir in
            let input = "\(dir)/secrets.yaml"
            let workspace = try makeWorkspace(in: "\(dir)/drctl", sourcesYAML: "  - name: secrets\n    kind: secrets\n    file: \(input)\n")
            var bomb = "apiVersion: v1\nkind: List\nx0: &x0 [\(Array(repeating: "\"\(SecretFixtures.values[0])\"", count: 9).joined(separator: ","))]\n"
            for level in 1..<9 { bomb += "x\(level): &x\(level) [\(Array(repeating: "*x\(level - 1)", count: 9).joined(separator: ","))]\n" }
            bomb += "items: [{? *x8 : 1}]\n"
            let cases: [(String, String)] = [
                (bomb, "YAML aliases expand this document by more than 100000 nodes"),
                ("apiVersion: v1\nkind: List\nitems: [\n  {data: {password: \(SecretFixtures.base64Values[0])}\n", "is not valid YAML"),
                ("\u{0}\u{1}\u{2}binary \(SecretFixtures.values[1])", "is not valid YAML"),
            ]
            for (text, fragment) in cases {
                try FileIO.atomicWrite(Array(text.utf8), to: input)
                let outcome = try #require(try Backup.run(workspace).outcomes.first)
                #expect(!outcome.succeeded)
                let error = outcome.error ?? ""
                #expect(error.contains(fragment), "\(error)")
                for needle in SecretFixtures.values + SecretFixtures.base64Values { #expect(!error.contains(needle), "\(error)") }
            }
            #expect(try workspace.catalog.snapshots().isEmpty)
        }
    }
}
