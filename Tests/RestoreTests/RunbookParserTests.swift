import DRCore
import Foundation
import Restore
import Testing

/// Parses `text` as `test.md`.
func parseRunbook(_ text: String) throws -> Runbook {
    try RunbookParser.parse(text: text, name: "test", origin: "test.md")
}

/// The message of the `.config` error parsing `text` raises.
func runbookError(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> String {
    do {
        let runbook = try parseRunbook(text)
        Issue.record("expected an error, parsed \(runbook.steps.count) steps", sourceLocation: sourceLocation)
        return ""
    } catch let error as DRError {
        #expect(error.code == .config, sourceLocation: sourceLocation)
        return error.message
    } catch {
        Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
        return ""
    }
}

@Suite("runbook parser")
struct RunbookParserTests {
    @Test("title, steps, bodies, nearest headings and prose blocks")
    func basicStructure() throws {
        let runbook = try parseRunbook("""
        # Corrupted repository

        Some prose.

        ```sh
        echo "prose, even though it is sh"
        ```

        ## 1. Restore

        ```drctl {id=restore-repo}
        action: git.restore-bundle
        source: gitops
        path: /srv/git
        ```

        ### 2. Check
        ```sh {id=check-it}
        git -C /srv/git fsck
        echo done
        ```

        ```yaml
        not: a step
        ```
        """)
        #expect(runbook.title == "Corrupted repository")
        #expect(runbook.name == "test")
        #expect(runbook.origin == "test.md")
        #expect(runbook.steps.map(\.id) == ["restore-repo", "check-it"])
        #expect(runbook.steps.map(\.title) == ["1. Restore", "2. Check"])
        #expect(runbook.steps.map(\.line) == [11, 18])
        #expect(runbook.steps[0].body == .action(name: "git.restore-bundle",
                                                 arguments: .object(["source": .string("gitops"), "path": .string("/srv/git")])))
        #expect(runbook.steps[1].body == .shell("git -C /srv/git fsck\necho done"))
        #expect(runbook.requires.isEmpty)
        #expect(runbook.params.isEmpty)
        // Defaults.
        let step = runbook.steps[1]
        #expect(step.timeout == nil && step.retries == 0 && step.delay == .seconds(5))
        #expect(step.confirm == false && step.onFailure == .stop && step.check == nil)
    }

    @Test("every step attribute in the info string, quoted values with escapes")
    func infoStringAttributes() throws {
        let runbook = try parseRunbook(#"""
        # T
        ```sh {id=restore-repo timeout=2m retries=2 delay=10s confirm on_failure=continue check="test -d /srv/\"x\" && echo \\ok"}
        true
        ```
        ```sh {  id=b   timeout=90 delay=0 confirm=false retries=0 on_failure=stop }
        true
        ```
        ```sh {id=c timeout=1h confirm=true}
        true
        ```
        """#)
        let a = runbook.steps[0]
        #expect(a.timeout == .seconds(120))
        #expect(a.retries == 2)
        #expect(a.delay == .seconds(10))
        #expect(a.confirm)
        #expect(a.onFailure == .continue)
        #expect(a.check == #"test -d /srv/"x" && echo \ok"#)
        let b = runbook.steps[1]
        #expect(b.timeout == .seconds(90) && b.delay == .zero && !b.confirm && b.retries == 0 && b.onFailure == .stop)
        #expect(runbook.steps[2].timeout == .seconds(3600) && runbook.steps[2].confirm)
    }

    @Test("attributes as YAML keys of a drctl block are removed from the arguments (timeout is also passed on)")
    func yamlAttributes() throws {
        let runbook = try parseRunbook("""
        # T
        ```drctl {id=wait}
        action: k8s.wait
        deployment: gitops-system/gitops-git-daemon
        timeout: 5m
        retries: 3
        delay: 30s
        confirm: true
        on_failure: continue
        check: test -e /tmp/x
        replicas: 2
        force: true
        ```
        """)
        let step = runbook.steps[0]
        #expect(step.timeout == .seconds(300) && step.retries == 3 && step.delay == .seconds(30))
        #expect(step.confirm && step.onFailure == .continue && step.check == "test -e /tmp/x")
        #expect(step.body == .action(name: "k8s.wait", arguments: .object([
            "deployment": .string("gitops-system/gitops-git-daemon"), "timeout": .string("5m"),
            "replicas": .int(2), "force": .bool(true),
        ])))
    }

    @Test("fences: tildes, longer fences, nested shorter fences, indentation")
    func fences() throws {
        let runbook = try parseRunbook("""
        # T
        ~~~~sh {id=tilde}
        cat <<'EOF'
        ~~~
        ```
        EOF
        ~~~~
        - a list item:

          ````drctl {id=indented}
          action: manual
          instructions: |
            do this
          ````
        """)
        #expect(runbook.steps.map(\.id) == ["tilde", "indented"])
        #expect(runbook.steps[0].body == .shell("cat <<'EOF'\n~~~\n```\nEOF"))
        #expect(runbook.steps[1].body == .action(name: "manual", arguments: .object(["instructions": .string("do this\n")])))
    }

    @Test("front matter: requires and params (a list becomes a comma-separated string)")
    func frontMatter() throws {
        let runbook = try parseRunbook("""
        ---
        requires:
          - cluster
          - identity
          - source: git-bundle
          - source: pvc-archive
          - tool: kubectl
          - cluster
        params:
          git_source: gitops
          apps: [wordpress, plugin-deployer]
          replicas: 2
          empty: ""
        ---
        # T
        ```sh {id=a}
        echo {{git_source}} {{apps}} {{replicas}} {{empty}}
        ```
        """)
        #expect(runbook.requires == [.cluster, .identity, .source(.gitBundle), .source(.pvcArchive), .tool("kubectl")])
        #expect(runbook.params == ["git_source": "gitops", "apps": "wordpress,plugin-deployer", "replicas": "2", "empty": ""])
        #expect(runbook.steps[0].line == 16)
    }

    @Test("the content hash is the SHA-256 of the exact bytes")
    func contentHash() throws {
        let text = "# T\n```sh {id=a}\ntrue\n```\n"
        let runbook = try parseRunbook(text)
        #expect(runbook.contentHash == RunbookParser.contentHash(of: Data(text.utf8)))
        let changed = try parseRunbook(text + "\n")
        #expect(changed.contentHash != runbook.contentHash)
        // Known vector: SHA-256("abc").
        #expect(RunbookParser.contentHash(of: Data("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test("CRLF files parse like LF files")
    func crlf() throws {
        let runbook = try parseRunbook("# T\r\n```sh {id=a}\r\necho hi\r\n```\r\n")
        #expect(runbook.steps[0].body == .shell("echo hi"))
        #expect(runbook.title == "T")
    }

    // MARK: - Errors, each with file:line

    @Test("unknown attribute, with a suggestion")
    func unknownAttribute() {
        #expect(runbookError("# T\n\n```sh {id=a timout=2m}\ntrue\n```\n")
                == "test.md:3: unknown step attribute `timout`; did you mean `timeout`?")
        #expect(runbookError("# T\n```sh {id=a on-failure=stop}\ntrue\n```\n").hasSuffix("did you mean `on_failure`?"))
    }

    @Test("bad durations, retries, on_failure, confirm")
    func badValues() {
        #expect(runbookError("# T\n```sh {id=a timeout=2x}\ntrue\n```\n")
                .hasPrefix("test.md:2: invalid timeout `2x`: expected a duration such as 90 (seconds), 30s, 10m or 1h"))
        #expect(runbookError("# T\n```sh {id=a timeout=0s}\ntrue\n```\n").hasPrefix("test.md:2: invalid timeout `0s`"))
        #expect(runbookError("# T\n```sh {id=a delay=-1s}\ntrue\n```\n").hasPrefix("test.md:2: invalid delay `-1s`"))
        #expect(runbookError("# T\n```sh {id=a retries=two}\ntrue\n```\n").hasPrefix("test.md:2: invalid retries `two`"))
        #expect(runbookError("# T\n```sh {id=a on_failure=ignore}\ntrue\n```\n")
                == "test.md:2: invalid on_failure `ignore`: expected `stop` or `continue`")
        #expect(runbookError("# T\n```sh {id=a confirm=maybe}\ntrue\n```\n").hasPrefix("test.md:2: `confirm` takes true or false"))
        #expect(runbookError("# T\n```sh {id=a timeout}\ntrue\n```\n") == "test.md:2: attribute `timeout` needs a value: timeout=…")
        #expect(runbookError("# T\n```sh {id=a check=\"unclosed}\ntrue\n```\n").hasPrefix("test.md:2: step attributes: the quoted value of `check` is not closed"))
        #expect(runbookError("# T\n```sh {id=a retries=1 retries=2}\ntrue\n```\n") == "test.md:2: step attribute `retries` is given twice")
        #expect(runbookError("# T\n```drctl {id=a}\naction: manual\ninstructions: x\ntimeout: soon\n```\n")
                .hasPrefix("test.md:5: step `a`: invalid timeout `soon`"))
        #expect(runbookError("# T\n```drctl {id=a}\naction: manual\ninstructions: x\nconfirm: please\n```\n")
                .contains("test.md:5: drctl block `a` (opened on line 2): `confirm` expects true or false"))
    }

    @Test("invalid and duplicate ids")
    func ids() {
        #expect(runbookError("# T\n```sh {id=a}\ntrue\n```\n\n```sh {id=a}\ntrue\n```\n")
                == "test.md:6: duplicate step id `a` (first used on line 2); step ids must be unique")
        #expect(runbookError("# T\n```sh {id=Restore_Repo}\ntrue\n```\n").hasPrefix("test.md:2: invalid step id `Restore_Repo`"))
        #expect(runbookError("# T\n```sh {id=-a}\ntrue\n```\n").hasPrefix("test.md:2: invalid step id `-a`"))
    }

    @Test("attributes without an id, a language that cannot be a step, an empty block")
    func notSteps() throws {
        #expect(runbookError("# T\n```sh {timeout=2m}\ntrue\n```\n```sh {id=b}\ntrue\n```\n")
                .hasPrefix("test.md:2: this block has the step attribute `timeout` but no `id=`"))
        #expect(runbookError("# T\n```bash {id=a}\ntrue\n```\n")
                .hasPrefix("test.md:2: step `a` is a `bash` block; only `sh`"))
        #expect(runbookError("# T\n```python {id=a}\nprint()\n```\n").contains("only `sh`"))
        #expect(runbookError("# T\n``` {id=a}\ntrue\n```\n").hasPrefix("test.md:2: step `a` has no language"))
        #expect(runbookError("# T\n```sh {id=a}\n\n```\n").hasPrefix("test.md:2: step `a`: the sh block is empty"))
        // Other attribute syntaxes are prose.
        let runbook = try parseRunbook("# T\n```python {.numberLines}\nprint()\n```\n```sh {id=b}\ntrue\n```\n")
        #expect(runbook.steps.map(\.id) == ["b"])
    }

    @Test("unterminated fences, including a shorter or different closing fence")
    func unterminated() {
        #expect(runbookError("# T\n```sh {id=a}\ntrue\n```\n\n````sh {id=b}\ntrue\n```\n")
                .hasPrefix("test.md:6: this ```` fence is never closed; close it with a line of at least 4"))
        #expect(runbookError("# T\n\n~~~sh {id=a}\ntrue\n```\n").hasPrefix("test.md:3: this ~~~ fence is never closed"))
    }

    @Test("front matter errors: unterminated, unknown key, unknown requirement, bad source kind, missing default")
    func frontMatterErrors() {
        #expect(runbookError("---\nrequires: [cluster]\n# T\n") == "test.md:1: the front matter is not closed: add a `---` line after its last key")
        #expect(runbookError("---\nrequires: [cluster]\nparms:\n  a: b\n---\n# T\n```sh {id=a}\ntrue\n```\n")
                == "test.md:3: front matter: unknown key `parms`; did you mean `params`?")
        #expect(runbookError("---\nrequires:\n  - cluster\n  - clutser\n---\n# T\n")
                == "test.md:4: front matter: unknown requirement `clutser`; did you mean `cluster`?")
        #expect(runbookError("---\nrequires:\n  - source: git_bundle\n---\n# T\n")
                .hasPrefix("test.md:3: front matter: unknown source kind `git_bundle`; did you mean `git-bundle`?"))
        #expect(runbookError("---\nrequires:\n  - tool:\n---\n# T\n").hasPrefix("test.md:3: front matter: `tool` expects a name"))
        #expect(runbookError("---\nrequires:\n  - source\n---\n# T\n").hasPrefix("test.md:3: front matter: `source` needs a value"))
        #expect(runbookError("---\nparams:\n  a:\n---\n# T\n").hasPrefix("test.md:3: front matter: parameter `a` has no default value"))
        #expect(runbookError("---\nparams:\n  a: {b: c}\n---\n# T\n").hasPrefix("test.md:3: front matter: parameter `a` expects a string or a list"))
        #expect(runbookError("---\nparams:\n  9a: x\n---\n# T\n").hasPrefix("test.md:3: front matter: invalid parameter name `9a`"))
        #expect(runbookError("---\nparams: [a, b\n---\n# T\n").hasPrefix("test.md:"))
        #expect(runbookError("---\nparams: [a, b\n---\n# T\n").contains("front matter: invalid YAML"))
    }

    @Test("bad YAML in a drctl block names the block's line and the YAML line; missing action")
    func drctlBlockErrors() {
        let message = runbookError("# T\n\n```drctl {id=restore}\naction: git.restore-bundle\nsource: [gitops\n```\n")
        #expect(message.hasPrefix("test.md:"))
        #expect(message.contains("drctl block `restore` (opened on line 3): invalid YAML"))
        #expect(runbookError("# T\n```drctl {id=a}\nsource: gitops\n```\n")
                == "test.md:2: drctl block `a` (opened on line 2): missing `action:`; a drctl block names the built-in action it runs (`action: git.restore-bundle`)")
        #expect(runbookError("# T\n```drctl {id=a}\naction: x\nsource: a\nsource: b\n```\n").contains("duplicate key `source`"))
        #expect(runbookError("# T\n```drctl {id=a}\n- action: x\n```\n").hasPrefix("test.md:3: drctl block `a` (opened on line 2): expected a mapping"))
        #expect(runbookError("# T\n```drctl {id=a}\n```\n").hasPrefix("test.md:2: drctl block `a` (opened on line 2): the block is empty"))
        #expect(runbookError("# T\n```drctl {id=a timeout=1m}\naction: x\ntimeout: 2m\n```\n")
                == "test.md:4: step `a`: `timeout` is set both in the info string (line 2) and in the YAML; keep one")
        #expect(runbookError("# T\n```drctl {id=a}\naction: [x]\n```\n").hasPrefix("test.md:3: drctl block `a` (opened on line 2): `action` expects an action name"))
    }

    @Test("no title, no steps, not UTF-8")
    func documentErrors() {
        #expect(runbookError("```sh {id=a}\ntrue\n```\n") == "test.md:1: the runbook has no title; start it with a `# Title` heading")
        #expect(runbookError("# T\n\nonly prose\n").hasPrefix("test.md:1: the runbook has no steps"))
        #expect(throws: DRError.self) {
            try RunbookParser.parse(data: Data([0x23, 0x20, 0xff, 0x0a]), name: "x", origin: "x.md")
        }
    }
}
