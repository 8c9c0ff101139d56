import DRCore
import Foundation
import PropertyBased
import Testing

/// Pieces random configuration documents are assembled from: valid keys and values, YAML
/// syntax (anchors, aliases, tags, flow collections, quotes) and stray characters.
let configFragments: [String] = [
    "repository: ./repo\n", "catalog: ./catalog.db\n", "sources: []\n", "sources:\n", "  - name: gitops\n",
    "    kind: git-bundle\n", "    kind: pvc-archive\n", "    kind: secrets\n", "    repo: /srv/git\n", "    path: /data\n",
    "    schedule: \"0 3 * * *\"\n", "    schedule: 61 * * * *\n", "    retention: {keep_daily: 7}\n", "encryption:\n",
    "  recipients: []\n", "  recipients: [age1abc]\n", "  identity: ~/id.txt\n", "cluster: {kubeconfig: ./k}\n",
    "drills:\n", "  runbooks:\n", "    - runbook: corrupted-repo\n", "notify: {webhook: https://x/y}\n", "on_locked: wait\n",
    "runbook_params: {x: y}\n", "data_dir: ~\n", "metrics_file: ./m.prom\n",
    "&a ", "*a", "&b [*a, *a]\n", "<<: *a\n", "!!str ", "!!binary ", "!custom ", "? ", "[", "]", "{", "}", ", ", ": ", "- ",
    "\"", "'", "#", "|\n", ">-\n", "\n", "  ", "    ", "\t", "~", "null", "true", "0x1F", "1e3", "---\n", "...\n", "%YAML 1.1\n",
    "é", "\u{FEFF}", "\u{0}", "\r\n", "\\", "key", "\u{1F600}",
]

/// A document of random fragments.
let configDocuments = oneOf(configFragments).array(of: 0...40).map { $0.joined() }

/// The valid configuration random edits start from.
let validConfig = """
    repository: ./repo
    catalog: ./catalog.db
    encryption:
      recipients: [age1acskxfhhuwgr70kkyux7avvq6ejg0axfq7arazlxvye2fqlx7d5qv6s3nv]
      identity: ./keys/identity.txt
    cluster:
      kubeconfig: ~/.kube/config
    sources:
      - name: gitops
        kind: git-bundle
        repo: /srv/git/gitops.git
        schedule: "0 */6 * * *"
      - name: wp
        kind: pvc-archive
        path: /data/wp
        exclude: ['*.tmp']
    drills:
      runbooks:
        - runbook: corrupted-repo
          schedule: "@monthly"

    """

/// Random single-byte edits (replace, insert, delete) of ``validConfig``.
let configEdits = zip(Gen.int(in: 0...(validConfig.utf8.count - 1)), Gen.uint8(in: 0...255), Gen.int(in: 0...2))
    .array(of: 1...6)
    .map { edits -> [UInt8] in
        var bytes = Array(validConfig.utf8)
        for (position, byte, kind) in edits {
            let index = min(position, max(bytes.count - 1, 0))
            switch kind {
            case 0 where !bytes.isEmpty: bytes[index] = byte
            case 1: bytes.insert(byte, at: index)
            default: if !bytes.isEmpty { bytes.remove(at: index) }
            }
        }
        return bytes
    }

/// Whole-file errors have no field; every other error names its field or its line.
func checkConfigError(_ error: ConfigError, file: String) {
    #expect(error.file == file)
    let wholeFile = error.message.contains("the file is empty") || error.message.contains("not valid UTF-8")
        || error.message.contains("larger than 1 MiB")
    #expect(wholeFile || !error.field.isEmpty || error.line != nil, "no field and no line: \(error)")
    #expect(!error.message.isEmpty)
    #expect(error.drError.code == .config)
}

@Suite("config parser properties")
struct ConfigProperties {
    static let file = "/etc/drctl/drctl.yaml"

    @Test("random YAML-ish documents never crash; every error is a ConfigError naming the file and a field or line")
    func randomDocuments() async {
        await propertyCheck(count: 400, input: configDocuments) { text in
            do {
                let config = try DRConfig.parse(text: text, path: Self.file, environment: ["HOME": "/home/u"])
                #expect(config.file == Self.file)
            } catch let error as ConfigError {
                checkConfigError(error, file: Self.file)
            } catch {
                Issue.record("not a ConfigError: \(error)")
            }
        }
    }

    @Test("random byte edits of a valid file, loaded from disk (invalid UTF-8 included), fail only with ConfigErrors")
    func editedFiles() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-prop-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = "\(dir)/drctl.yaml"
        try Data(validConfig.utf8).write(to: URL(fileURLWithPath: file))
        #expect(try DRConfig.load(path: file, environment: ["HOME": "/home/u"]).sources.count == 2)
        await propertyCheck(count: 400, input: configEdits) { bytes in
            try Data(bytes).write(to: URL(fileURLWithPath: file))
            do {
                _ = try DRConfig.load(path: file, environment: ["HOME": "/home/u"])
            } catch let error as ConfigError {
                checkConfigError(error, file: file)
            } catch {
                Issue.record("not a ConfigError: \(error)")
            }
        }
    }

    @Test("alias bombs of any depth and width are refused quickly, naming the line")
    func aliasBombs() async {
        await propertyCheck(count: 30, input: Gen.int(in: 2...12), Gen.int(in: 4...40)) { width, depth in
            var text = "repository: ./r\ncatalog: ./c\nsources: []\nrunbook_params:\n  l0: &l0 [\(Array(repeating: "\"lol\"", count: width).joined(separator: ","))]\n"
            for level in 1..<depth {
                text += "  l\(level): &l\(level) [\(Array(repeating: "*l\(level - 1)", count: width).joined(separator: ","))]\n"
            }
            text += "  ? *l\(depth - 1)\n  : x\n"
            let expanded = (0..<depth).reduce(1.0) { total, _ in total * Double(width) }
            do {
                _ = try DRConfig.parse(text: text, path: Self.file, environment: [:])
                #expect(expanded < Double(YAMLAliasGuard.maximumAliasExpansion), "a \(width)^\(depth) bomb parsed")
            } catch let error as ConfigError {
                checkConfigError(error, file: Self.file)
                if expanded > 2 * Double(YAMLAliasGuard.maximumAliasExpansion) {
                    #expect(error.message.contains("alias"), "\(error)")
                }
            } catch {
                Issue.record("not a ConfigError: \(error)")
            }
        }
    }
}
