import DRCore
import Foundation
import Testing

@Suite("JSONValue")
struct JSONValueTests {
    @Test("YAML round trip keeps types: strings that look like numbers or booleans stay strings")
    func yamlRoundTrip() throws {
        let value: JSONValue = .object([
            "replicas": .int(2), "ratio": .double(0.5), "enabled": .bool(true), "none": .null,
            "version": .string("1"), "flag": .string("true"), "empty": .string(""), "nulltext": .string("null"),
            "multi": .string("line one\nline two\n"), "list": .array([.string("a"), .int(3)]),
        ])
        let text = try value.yamlString()
        let back = try JSONValue.parseYAMLDocuments(text)
        #expect(back == [value], "\(text)")
        #expect(try JSONValue.parse(json: try value.jsonData()) == value)
    }

    @Test("a YAML syntax error in a later document is an error, not a shorter result")
    func syntaxErrorIsReported() throws {
        #expect(throws: (any Error).self) {
            try JSONValue.parseYAMLDocuments("a: 1\n---\nb: {c: 2\n")
        }
        #expect(try JSONValue.parseYAMLDocuments("a: 1\n---\n---\nb: 2\n").count == 2)
    }

    @Test("path access and removal")
    func access() throws {
        var value = try #require(try JSONValue.parseYAMLDocuments("metadata:\n  name: x\n  uid: u\n").first)
        #expect(value[path: ["metadata", "name"]]?.stringValue == "x")
        value.remove(["metadata", "uid"])
        #expect(value[path: ["metadata", "uid"]] == nil)
        #expect(value[path: ["metadata", "name"]] != nil)
    }
}
