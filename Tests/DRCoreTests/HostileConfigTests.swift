import DRCore
import Foundation
import Testing
import TestSupport

/// A "billion laughs" YAML document: `depth` levels of `width` aliases to the level below
/// (width^depth scalars once expanded), with `tail` appended.
func aliasBomb(width: Int = 9, depth: Int = 9, prefix: String = "", indent: String = "", tail: String = "") -> String {
    var text = prefix + "\(indent)l0: &l0 [\(Array(repeating: "\"lol\"", count: width).joined(separator: ", "))]\n"
    for level in 1..<depth {
        text += "\(indent)l\(level): &l\(level) [\(Array(repeating: "*l\(level - 1)", count: width).joined(separator: ", "))]\n"
    }
    return text + tail
}

@Suite("hostile configuration files")
struct HostileConfigTests {
    static let head = "repository: ./repo\ncatalog: ./catalog.db\nsources: []\n"

    @Test("alias bombs are refused before anything walks them, naming the line of the alias that crossed the limit",
          arguments: [
            ("under an unknown key", aliasBomb(prefix: head + "bomb:\n", indent: "  ")),
            ("as a mapping key", aliasBomb(prefix: head + "runbook_params:\n", indent: "  ", tail: "  ? *l8\n  : x\n")),
            ("as source fields", aliasBomb(prefix: "repository: ./r\ncatalog: ./c\nx-defs:\n", indent: "  ",
                                          tail: "sources:\n  - {name: a, kind: git-bundle, repo: *l8}\n")),
            ("wide and shallow", aliasBomb(width: 400, depth: 3, prefix: head + "bomb:\n", indent: "  ")),
          ])
    func aliasBombs(label: String, text: String) throws {
        try withTemporaryDirectory { dir in
            let file = "\(dir)/drctl.yaml"
            try text.write(toFile: file, atomically: true, encoding: .utf8)
            let error = try #require(throws: ConfigError.self) { try DRConfig.load(path: file, environment: [:]) }
            #expect(error.file == file)
            #expect(error.message.contains("YAML aliases expand this document by more than 100000 nodes"), "\(label): \(error)")
            let line = try #require(error.line)
            #expect(line > 3 && line <= text.split(separator: "\n").count, "\(label): \(error)")
            #expect(!error.description.contains("lol"))
        }
    }

    @Test("a few aliases (a shared schedule, a merged mapping) still work")
    func modestAliases() throws {
        let text = """
            repository: ./repo
            catalog: ./catalog.db
            sources:
              - name: a
                kind: git-bundle
                repo: /srv/a
                schedule: &nightly "0 3 * * *"
              - name: b
                kind: git-bundle
                repo: /srv/b
                schedule: *nightly

            """
        let config = try DRConfig.parse(text: text, path: "/etc/drctl/drctl.yaml", environment: [:])
        #expect(config.sources.map(\.schedule) == ["0 3 * * *", "0 3 * * *"])
    }

    @Test("a file over 1 MiB is refused before it is read whole; a file of deep nesting is a YAML error, not a crash")
    func hugeAndDeep() throws {
        try withTemporaryDirectory { dir in
            // 64 MiB sparse file: only 1 MiB + 1 byte is ever read.
            let file = "\(dir)/drctl.yaml"
            #expect(FileManager.default.createFile(atPath: file, contents: Data(Self.head.utf8)))
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: file))
            try handle.truncate(atOffset: 64 << 20)
            try handle.close()
            let error = try #require(throws: ConfigError.self) { try DRConfig.load(path: file, environment: [:]) }
            #expect(error.message.contains("larger than 1 MiB"))

            let deep = Self.head + "x: " + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "\n"
            let nested = try #require(throws: ConfigError.self) { try DRConfig.parse(text: deep, path: file, environment: [:]) }
            #expect(nested.message.contains("invalid YAML"), "\(nested)")
            #expect(nested.line == 4)
        }
    }

    @Test("wrong types in every section name the field; NUL bytes and a BOM are handled")
    func oddBytes() throws {
        let cases: [(String, String, String)] = [
            (Self.head.replacingOccurrences(of: "sources: []", with: "sources: 3"), "sources", "found a number"),
            (Self.head + "drills: [a]\n", "drills", "found a list"),
            (Self.head + "notify: {webhook: 7, on: [backup_failed]}\n", "notify.webhook", "expected an http:// or https:// URL"),
            (Self.head + "on_locked: {}\n", "on_locked", "found a mapping"),
            (Self.head + "runbook_params: [x]\n", "runbook_params", "found a list"),
            (Self.head + "catalog2: \u{0}\n", "", "invalid YAML"),
        ]
        for (text, field, fragment) in cases {
            let error = try #require(throws: ConfigError.self) { try DRConfig.parse(text: text, path: "/c.yaml", environment: [:]) }
            #expect(error.field == field, "\(error)")
            #expect(error.message.contains(fragment), "\(error)")
        }
        // A UTF-8 byte order mark is not an error.
        #expect(try DRConfig.parse(text: "\u{FEFF}" + Self.head, path: "/c.yaml", environment: [:]).sources.isEmpty)
    }
}
