import DRCore
import Foundation
@testable import Restore
import Testing

/// The checkout's `Runbooks/` folder.
let runbooksFolder = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Runbooks").path

/// The built-in actions and the arguments each accepts (the contract with the action implementations).
let actionArguments: [String: Set<String>] = [
    "git.restore-bundle": ["source", "path"],
    "git.verify": ["source", "path"],
    "k8s.apply": ["path", "namespace"],
    "k8s.create-namespace": ["name"],
    "k8s.rollout-restart": ["deployment"],
    "k8s.wait": ["deployment", "statefulset", "timeout"],
    "argocd.pause-autosync": ["apps", "namespace"],
    "argocd.resume-autosync": ["apps", "namespace"],
    "argocd.sync": ["apps", "namespace", "force", "prune"],
    "argocd.wait": ["apps", "namespace", "timeout"],
    "secrets.restore": ["source"],
    "argocd-state.restore": ["source"],
    "pvc.restore": ["source", "path", "pvc"],
    "manual": ["instructions"],
]

@Suite("shipped runbooks")
struct ShippedRunbooksTests {
    static let names = ["argocd-crash", "cluster-loss", "corrupted-repo"]

    func load(_ name: String) throws -> Runbook {
        let path = "\(runbooksFolder)/\(name).md"
        return try RunbookParser.parse(data: try Data(contentsOf: URL(fileURLWithPath: path)), name: name, origin: path)
    }

    @Test("the three runbooks parse, use only built-in actions with their arguments, and every parameter has a default",
          arguments: names)
    func parses(name: String) throws {
        let runbook = try load(name)
        #expect(!runbook.title.isEmpty)
        #expect(Set(runbook.steps.map(\.id)).count == runbook.steps.count)
        #expect(runbook.requires.contains(.cluster))
        for step in runbook.steps {
            guard case .action(let action, let arguments) = step.body else { continue }
            let allowed = try #require(actionArguments[action], "step \(step.id): unknown action \(action)")
            let keys = Set(arguments.objectValue?.keys.map { $0 } ?? [])
            #expect(keys.isSubset(of: allowed), "step \(step.id): \(action) does not take \(keys.subtracting(allowed).sorted())")
            #expect(!step.title.isEmpty && step.title != runbook.title, "step \(step.id) has no heading of its own")
        }
        // Every placeholder has a default, and every declared parameter is used.
        #expect(Set(runbook.usedParams).isSubset(of: Set(runbook.params.keys)))
        #expect(Set(runbook.params.keys).isSubset(of: Set(runbook.usedParams)), "unused parameters in \(name)")
        let resolved = try runbook.substitutingParams()
        #expect(resolved.usedParams.isEmpty)
    }

    @Test("parameter defaults match the documented setup")
    func defaults() throws {
        let corrupted = try load("corrupted-repo")
        #expect(corrupted.params["git_namespace"] == "gitops-system")
        #expect(corrupted.params["git_daemon"] == "gitops-git-daemon")
        #expect(corrupted.params["apps"] == "wordpress,plugin-deployer")
        #expect(corrupted.params["argocd_namespace"] == "argocd")
        #expect(corrupted.params["git_source"] == "gitops")
        for name in Self.names {
            let runbook = try load(name)
            for (key, value) in runbook.params {
                #expect(!value.contains("://"), "\(name): parameter \(key) is a URL; vendor the manifests instead")
            }
        }
    }

    @Test("corrupted-repo: pause, restore, verify, restart, wait, sync with force, wait, resume")
    func corruptedRepoOrder() throws {
        let runbook = try load("corrupted-repo").substitutingParams()
        let actions = runbook.steps.compactMap { step -> String? in
            if case .action(let name, _) = step.body { return name }
            return nil
        }
        #expect(actions == ["argocd.pause-autosync", "git.restore-bundle", "git.verify", "k8s.rollout-restart", "k8s.wait",
                            "argocd.sync", "argocd.wait", "argocd.resume-autosync"])
        let restart = try #require(runbook.steps.first { $0.id == "restart-daemon" })
        #expect(restart.body == .action(name: "k8s.rollout-restart",
                                        arguments: .object(["deployment": .string("gitops-system/gitops-git-daemon")])))
        let sync = try #require(runbook.steps.first { $0.id == "sync-apps" })
        guard case .action(_, let arguments) = sync.body else { return }
        #expect(arguments["force"] == .bool(true))
        #expect(arguments["apps"] == .string("wordpress,plugin-deployer"))
    }

    @Test("cluster-loss: the cluster is confirmed by a person first, volumes come back before ArgoCD's Applications")
    func clusterLossOrder() throws {
        let runbook = try load("cluster-loss")
        let first = try #require(runbook.steps.first)
        #expect(first.confirm)
        guard case .action("manual", _) = first.body else {
            Issue.record("the first step is not manual")
            return
        }
        func index(_ action: String) -> Int? {
            runbook.steps.firstIndex { if case .action(action, _) = $0.body { return true } else { return false } }
        }
        let pvc = try #require(index("pvc.restore"))
        let state = try #require(index("argocd-state.restore"))
        let secrets = try #require(index("secrets.restore"))
        let sync = try #require(index("argocd.sync"))
        let pause = try #require(index("argocd.pause-autosync"))
        let resume = try #require(index("argocd.resume-autosync"))
        #expect(secrets < state && pvc < state && state < pause && pause < sync && sync < resume)
    }

    @Test("argocd-crash: install from the vendored folder, wait for the three components, restore state, sync")
    func argocdCrash() throws {
        let runbook = try load("argocd-crash").substitutingParams()
        let apply = try #require(runbook.steps.first { if case .action("k8s.apply", _) = $0.body { true } else { false } })
        #expect(apply.body == .action(name: "k8s.apply", arguments: .object([
            "path": .string("/var/lib/drctl/vendor/argocd"), "namespace": .string("argocd"),
        ])))
        let waited = runbook.steps.compactMap { step -> String? in
            guard case .action("k8s.wait", let arguments) = step.body else { return nil }
            return (arguments["deployment"] ?? arguments["statefulset"])?.stringValue
        }
        #expect(waited == ["argocd/argocd-server", "argocd/argocd-repo-server", "argocd/argocd-application-controller"])
        #expect(runbook.steps.contains { if case .action("argocd-state.restore", _) = $0.body { true } else { false } })
    }

    @Test("the examples in Runbooks/README.md are valid runbooks")
    func readmeExamples() throws {
        let path = "\(runbooksFolder)/README.md"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        // The README itself: its two example steps outside the big example.
        let readme = try RunbookParser.parse(text: text, name: "README", origin: path)
        #expect(readme.steps.map(\.id) == ["example-wait", "example-namespace"])
        #expect(readme.steps[0].confirm && readme.steps[0].retries == 1 && readme.steps[0].timeout == .seconds(300))
        #expect(readme.steps[1].check == "kubectl get namespace gitops-system")
        // The complete example inside the ````markdown fence.
        let start = try #require(text.range(of: "````markdown\n"))
        let end = try #require(text.range(of: "\n````\n", range: start.upperBound..<text.endIndex))
        let example = try RunbookParser.parse(text: String(text[start.upperBound..<end.lowerBound]), name: "example", origin: "example.md")
        #expect(example.steps.map(\.id) == ["restore-repo", "restart-daemon", "clone-check"])
        #expect(example.requires == [.cluster, .source(.gitBundle)])
        _ = try example.substitutingParams()
    }

    @Test("the copies built into drctl equal Runbooks/*.md (run scripts/embed-runbooks when this fails)")
    func embeddedCopiesAreFresh() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: runbooksFolder)
            .filter { $0.hasSuffix(".md") && $0 != "README.md" }
        var onDisk: [String: String] = [:]
        for file in files {
            let data = try Data(contentsOf: URL(fileURLWithPath: "\(runbooksFolder)/\(file)"))
            onDisk[file] = String(decoding: data, as: UTF8.self)
        }
        #expect(Set(onDisk.keys) == Set(Self.names.map { $0 + ".md" }))
        let stale = Set(onDisk.keys).union(EmbeddedRunbooks.files.keys).filter { onDisk[$0] != EmbeddedRunbooks.files[$0] }
        #expect(stale.isEmpty, """
            Sources/Restore/Runbook/EmbeddedRunbooks.swift is stale for \(stale.sorted().joined(separator: ", ")): \
            run scripts/embed-runbooks and commit the result
            """)
    }
}
