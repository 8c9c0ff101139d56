import DRCore
import Foundation
import Restore
import Testing
import TestSupport

/// Runbooks an attacker or a bad edit could produce (issue 9): each is a config error at
/// FILE:LINE; none crashes, hangs or runs anything.
@Suite("hostile runbooks")
struct HostileRunbookTests {
    /// `depth` levels of 9 aliases each (9^depth scalars expanded), as YAML lines.
    func bomb(depth: Int = 9) -> String {
        var text = "l0: &l0 [\(Array(repeating: "lol", count: 9).joined(separator: ", "))]\n"
        for level in 1..<depth { text += "l\(level): &l\(level) [\(Array(repeating: "*l\(level - 1)", count: 9).joined(separator: ", "))]\n" }
        return text
    }

    @Test("alias bombs in a drctl block and in the front matter are refused at the line of the alias")
    func aliasBombs() {
        let block = runbookError("# T\n\n```drctl {id=a}\naction: manual\ninstructions: x\n\(bomb())? *l8\n: x\n```\n")
        #expect(block.hasPrefix("test.md:"), "\(block)")
        #expect(block.contains("drctl block `a` (opened on line 3): YAML aliases expand this document by more than 100000 nodes"), "\(block)")
        let front = runbookError("---\n\(bomb())---\n# T\n```sh {id=a}\ntrue\n```\n")
        #expect(front.contains("front matter: YAML aliases expand this document"), "\(front)")
        let line = Int(front.split(separator: ":")[1]) ?? 0
        #expect(line > 2 && line <= 10, "\(front)")
    }

    @Test("unknown actions, duplicate ids and unterminated blocks are errors with file and line")
    func structuralErrors() {
        // An unknown action is refused when the plan binds it (ExecutorTests "binding errors…").
        #expect(runbookError("# T\n```sh {id=a}\ntrue\n```\n```drctl {id=a}\naction: manual\n```\n")
                == "test.md:5: duplicate step id `a` (first used on line 2); step ids must be unique")
        #expect(runbookError("# T\n```sh {id=a}\ntrue\n").hasPrefix("test.md:2: this ``` fence is never closed"))
        #expect(runbookError("# T\n```drctl {id=a}\naction: manual\n").hasPrefix("test.md:2: this ``` fence is never closed"))
        #expect(runbookError("---\nrequires: [cluster]\n").hasPrefix("test.md:1: the front matter is not closed"))
        #expect(runbookError("# T\n```sh {id=a check=\"x}\ntrue\n```\n").hasPrefix("test.md:2: step attributes"))
        #expect(runbookError("# T\n```sh {id=\(String(repeating: "a", count: 200))}\ntrue\n```\n").hasPrefix("test.md:2: invalid step id"))
    }

    @Test("a runbook over 1 MiB is refused, also when runbooks_dir holds a link to an endless file")
    func hugeRunbooks() throws {
        let big = "# T\n```sh {id=a}\n" + String(repeating: "echo padding padding padding\n", count: 40_000) + "```\n"
        #expect(runbookError(big) == "test.md: the runbook is larger than 1 MiB; expected a Markdown runbook")
        try withTemporaryDirectory { dir in
            let runbooks = "\(dir)/runbooks"
            try FileIO.createDirectory(runbooks)
            try FileManager.default.createSymbolicLink(atPath: "\(runbooks)/endless.md", withDestinationPath: "/dev/zero")
            let configText = "repository: ./repo\ncatalog: ./catalog.db\nrunbooks_dir: ./runbooks\nsources: []\n"
            try configText.write(toFile: "\(dir)/drctl.yaml", atomically: true, encoding: .utf8)
            let config = try DRConfig.load(path: "\(dir)/drctl.yaml", environment: [:])
            let error = try #require(throws: DRError.self) { try RunbookLoader.load(name: "endless", config: config) }
            #expect(error.code == .config)
            #expect(error.message.contains("larger than 1 MiB"), "\(error.message)")
        }
    }
}
