import DRCore
import Foundation
import PropertyBased
import Restore
import Testing
import TestSupport

/// Pieces random runbooks are assembled from: headings, fences of both kinds and lengths,
/// info strings with attributes, front matter, YAML, placeholders and stray characters.
let runbookFragments: [String] = [
    "# Title\n", "## Step\n", "prose line\n", "\n", "```sh {id=a}\n", "```sh {id=b timeout=2m retries=2}\n",
    "```drctl {id=c}\n", "```drctl {id=d confirm=true}\n", "````sh {id=e}\n", "~~~sh {id=f}\n", "```\n", "````\n", "~~~\n",
    "```python\n", "```sh {timeout=1m}\n", "```sh {id=Bad_Id}\n", "```sh {id=a check=\"test -f x\"}\n", "```sh {id=g check=\"unclosed}\n",
    "action: manual\n", "action: git.restore-bundle\n", "instructions: do it\n", "source: gitops\n", "source: [gitops\n",
    "timeout: 5m\n", "on_failure: continue\n", "&x ", "*x", "? ", "{{v}}", "{{ unknown }}", "{{.go.template}}",
    "---\n", "requires: [cluster, identity]\n", "requires:\n  - source: git-bundle\n", "params:\n  v: value\n", "params: [\n",
    "echo hi\n", "true\n", "'", "\"", "$(x)", "`", "\\", "\t", "\r\n", "é", "\u{0}", "   ", "- ", ": ",
]

let runbookDocuments = oneOf(runbookFragments).array(of: 0...40).map { $0.joined() }

/// Printable text (with quotes, `$`, backticks, backslashes, newlines and non-ASCII) for parameter values.
let parameterValues = oneOf(Array(#"abc XYZ 019 '"$`\!*?;&|<>(){}[]#~=%^-_./:,"# + "\n\té€😀")).array(of: 0...24)
    .map { String($0) }

/// A valid runbook with random step ids, scripts and prose, as LF text.
let validRunbooks = zip(Gen.lowercaseLetter.string(of: 1...8).array(of: 1...5), oneOf(["true", "echo x", "exit 0"]))
    .map { ids, script -> String in
        var text = "---\nparams:\n  v: default\n---\n# Runbook\n\nSome prose.\n"
        for (index, id) in Set(ids).sorted().enumerated() {
            text += "\n## Step \(index)\n\n```sh {id=\(id) timeout=\(index + 1)m retries=\(index)}\n\(script) {{v}}\n```\n"
        }
        return text
    }

@Suite("runbook parser properties")
struct RunbookProperties {
    @Test("random Markdown never crashes the parser; every error is a config error at test.md:LINE")
    func randomDocuments() async {
        await propertyCheck(count: 500, input: runbookDocuments) { text in
            do {
                let runbook = try RunbookParser.parse(text: text, name: "test", origin: "test.md")
                #expect(!runbook.steps.isEmpty)
                #expect(Set(runbook.steps.map(\.id)).count == runbook.steps.count, "duplicate ids accepted")
                _ = try? runbook.substitutingParams()
            } catch let error as DRError {
                #expect(error.code == .config)
                #expect(error.message.range(of: #"^test\.md:\d+: "#, options: .regularExpression) != nil, "\(error.message)")
            } catch {
                Issue.record("not a DRError: \(error)")
            }
        }
    }

    @Test("random bytes (invalid UTF-8 included) never crash the parser")
    func randomBytes() async {
        await propertyCheck(count: 300, input: Gen.uint8(in: 0...255).array(of: 0...200)) { bytes in
            do {
                _ = try RunbookParser.parse(data: Data(Array("# T\n```sh {id=a}\n".utf8) + bytes), name: "test", origin: "test.md")
            } catch let error as DRError {
                #expect(error.code == .config)
            } catch {
                Issue.record("not a DRError: \(error)")
            }
        }
    }

    @Test("CRLF and LF spellings of a runbook parse to the same steps; the content hash is the bytes' SHA-256")
    func lineEndings() async {
        await propertyCheck(count: 100, input: validRunbooks) { text in
            let lf = try RunbookParser.parse(text: text, name: "t", origin: "t.md")
            let crlf = try RunbookParser.parse(text: text.replacingOccurrences(of: "\n", with: "\r\n"), name: "t", origin: "t.md")
            #expect(lf.steps.map(\.id) == crlf.steps.map(\.id))
            #expect(lf.steps.map(\.body) == crlf.steps.map(\.body))
            #expect(lf.steps.map(\.timeout) == crlf.steps.map(\.timeout))
            #expect(lf.steps.map(\.retries) == crlf.steps.map(\.retries))
            #expect(lf.steps.map(\.line) == crlf.steps.map(\.line))
            #expect(lf.contentHash == RunbookParser.contentHash(of: Data(text.utf8)))
        }
    }

    @Test("shell substitution round-trips: /bin/sh prints back exactly the parameter value")
    func shellRoundTrip() async {
        await propertyCheck(count: 60, input: parameterValues) { value in
            var runbook = try RunbookParser.parse(text: "---\nparams:\n  v: d\n---\n# T\n```sh {id=a}\nprintf '%s' {{v}} x{{v}}\n```\n",
                                                  name: "t", origin: "t.md")
            runbook.params["v"] = value
            guard case .shell(let script) = try #require(try runbook.substitutingParams().steps.first).body else {
                Issue.record("not a shell step")
                return
            }
            let result = try await blocking {
                var command = Command("/bin/sh", ["-e", "-c", script])
                command.timeout = .seconds(30)
                return try command.run()
            }
            #expect(result.succeeded)
            #expect(result.stdoutText == value + "x" + value)
        }
    }

    @Test("action arguments get the value verbatim, whatever YAML or shell syntax it holds")
    func actionRoundTrip() async {
        await propertyCheck(count: 200, input: parameterValues) { value in
            var runbook = try RunbookParser.parse(
                text: "---\nparams:\n  v: d\n---\n# T\n```drctl {id=a}\naction: manual\ninstructions: \"{{v}}\"\nlist: [\"a-{{v}}\", 1]\n```\n",
                name: "t", origin: "t.md")
            runbook.params["v"] = value
            let step = try #require(try runbook.substitutingParams().steps.first)
            #expect(step.body == .action(name: "manual", arguments: .object([
                "instructions": .string(value), "list": .array([.string("a-" + value), .int(1)]),
            ])))
        }
    }
}
