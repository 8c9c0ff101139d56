import DRCore
import Foundation
import Restore
import Testing

@Suite("runbook parameters")
struct RunbookSubstitutionTests {
    static let hostile = "it's $(touch /tmp/drctl-pwned) `id` a  b; \"q\" \\ *"

    /// The substituted shell text of a runbook's single sh step, with `value` as parameter `v`.
    func shellText(_ script: String, value: String, check: String? = nil) throws -> (script: String, check: String?) {
        var runbook = try parseRunbook("""
        ---
        params:
          v: default
        ---
        # T
        ```sh {id=a\(check.map { " check=\"\($0)\"" } ?? "")}
        \(script)
        ```
        """)
        runbook.params["v"] = value
        let step = try #require(try runbook.substitutingParams().steps.first)
        guard case .shell(let text) = step.body else {
            Issue.record("expected a shell step")
            return ("", nil)
        }
        return (text, step.check)
    }

    func runShell(_ script: String) throws -> String {
        var command = Command("/bin/sh", ["-e", "-c", script])
        command.timeout = .seconds(30)
        let result = try command.run()
        #expect(result.succeeded, "sh failed: \(result.stderr)")
        return result.stdoutText
    }

    @Test("sh scripts get shell-quoted values: quotes, $(…), backticks and spaces stay literal")
    func shellQuoting() throws {
        let (script, _) = try shellText("printf '%s' {{v}}", value: Self.hostile)
        #expect(script == #"printf '%s' 'it'\''s $(touch /tmp/drctl-pwned) `id` a  b; "q" \ *'"#)
        #expect(try runShell(script) == Self.hostile)
        // Spaces inside the braces, and concatenation with other words.
        let (joined, _) = try shellText("printf '%s' prefix/{{ v }}/suffix", value: "a b")
        #expect(try runShell(joined) == "prefix/a b/suffix")
        // Placeholders in comments and go-templates are harmless.
        let (other, _) = try shellText("# uses {{v}}\nprintf '%s' {{v}} '{{.metadata.name}}'", value: "x")
        #expect(try runShell(other) == "x{{.metadata.name}}")
    }

    @Test("check probes are shell-quoted too")
    func checkQuoting() throws {
        let (_, check) = try shellText("true", value: Self.hostile, check: "printf '%s' {{v}}")
        let probe = try #require(check)
        #expect(try runShell(probe) == Self.hostile)
    }

    @Test("drctl YAML string values get the value verbatim, after parsing, so it cannot inject YAML")
    func actionValues() throws {
        var runbook = try parseRunbook("""
        ---
        params:
          ns: gitops-system
          name: daemon
        ---
        # T
        ```drctl {id=a}
        action: k8s.rollout-restart
        deployment: "{{ns}}/{{name}}"
        list: ["{{name}}", 3]
        nested: {key: "x-{{name}}"}
        count: 2
        ```
        """)
        runbook.params["name"] = "evil\nforce: true\n# 'q' $(x)"
        let step = try #require(try runbook.substitutingParams().steps.first)
        #expect(step.body == .action(name: "k8s.rollout-restart", arguments: .object([
            "deployment": .string("gitops-system/evil\nforce: true\n# 'q' $(x)"),
            "list": .array([.string("evil\nforce: true\n# 'q' $(x)"), .int(3)]),
            "nested": .object(["key": .string("x-evil\nforce: true\n# 'q' $(x)")]),
            "count": .int(2),
        ])))
        #expect(runbook.usedParams == ["name", "ns"])
    }

    @Test("an unknown {{x}} is an error naming the step and its line, at parse time and when substituting")
    func unknownParameter() throws {
        #expect(runbookError("---\nparams:\n  git_source: gitops\n---\n# T\n\n```sh {id=restore}\necho {{git_sorce}}\n```\n")
                == "test.md:7: step `restore`: unknown parameter `{{git_sorce}}`; did you mean `{{git_source}}`?; known parameters: git_source")
        #expect(runbookError("# T\n```drctl {id=a}\naction: x\nsource: \"{{nope}}\"\n```\n")
                .hasPrefix("test.md:2: step `a`: unknown parameter `{{nope}}`; the runbook declares no parameters"))
        #expect(runbookError("# T\n```sh {id=a check=\"test {{nope}}\"}\ntrue\n```\n")
                .hasPrefix("test.md:2: step `a`: unknown parameter `{{nope}}`"))
        let step = try #require(try parseRunbook("---\nparams:\n  v: x\n---\n# T\n```sh {id=a}\necho {{v}}\n```\n").steps.first)
        let error = try #require(throws: DRError.self) { try step.substituting(params: [:], origin: "rb.md") }
        #expect(error.code == .config)
        #expect(error.message.hasPrefix("rb.md:6: step `a`: unknown parameter `{{v}}`"))
    }

    @Test("a placeholder inside quotes or a here-document is an error (the value is already quoted)")
    func quotedPlaceholders() throws {
        let params = "---\nparams:\n  repo: /srv/git\n---\n# T\n"
        #expect(runbookError(params + "```sh {id=a}\ngit -C \"{{repo}}\" fsck\n```\n")
                .hasPrefix("test.md:6: step `a`: `{{repo}}` in the script is inside quotes"))
        #expect(runbookError(params + "```sh {id=a}\necho 'path: {{repo}}'\n```\n").contains("is inside quotes"))
        #expect(runbookError(params + "```sh {id=a}\ncat <<EOF\n{{repo}}\nEOF\n```\n").contains("inside a here-document"))
        #expect(runbookError(params + "```sh {id=a check=\"test -d \\\"{{repo}}\\\"\"}\ntrue\n```\n")
                .contains("`{{repo}}` in the check is inside quotes"))
        // Unquoted inside $(…) within double quotes is fine; so are apostrophes in comments.
        let runbook = try parseRunbook(params + "```sh {id=a}\n# don't worry\necho \"$(ls {{repo}})\"\ncat <<'EOF'\nit's\nEOF\necho {{repo}}\n```\n")
        #expect(runbook.steps.count == 1)
    }
}
