import DRCore
import Foundation
import Testing
import TestSupport

@Suite("Command")
struct CommandTests {
    let sh = "/bin/sh"

    @Test("captures stdout, stderr and the exit status")
    func capture() throws {
        let result = try Command(sh, ["-c", "echo out; echo err >&2; exit 3"]).run()
        #expect(result.status == 3)
        #expect(result.stdoutText == "out\n")
        #expect(result.stderr == "err\n")
        #expect(!result.succeeded)
    }

    @Test("feeds stdin bytes larger than a pipe buffer")
    func stdinBytes() throws {
        var command = Command(sh, ["-c", "wc -c"])
        command.input = .bytes([UInt8](repeating: 65, count: 300_000))
        #expect(try command.run().stdoutText.trimmingWhitespace() == "300000")
    }

    @Test("a child that exits without reading its stdin does not kill us (EPIPE, not SIGPIPE)")
    func childIgnoresStdin() throws {
        var command = Command(sh, ["-c", "exit 0"])
        command.input = .bytes([UInt8](repeating: 1, count: 4 << 20))
        #expect(try command.run().status == 0)
    }

    @Test("kills a command that outlives its timeout")
    func timeout() throws {
        var command = Command(sh, ["-c", "sleep 30"])
        command.timeout = .milliseconds(200)
        let start = ContinuousClock.now
        let result = try command.run()
        #expect(result.timedOut)
        #expect(!result.succeeded)
        #expect(ContinuousClock.now - start < .seconds(10))
    }

    @Test("refuses output beyond the capture limit")
    func captureLimit() throws {
        var command = Command(sh, ["-c", "head -c 100000 /dev/zero"])
        command.output = .capture(limit: 1000)
        #expect(throws: DRError.self) { try command.run() }
    }

    @Test("runs in the given working directory without changing ours")
    func workingDirectory() throws {
        try withTemporaryDirectory { dir in
            let before = FileManager.default.currentDirectoryPath
            var command = Command(sh, ["-c", "pwd -P"])
            command.workingDirectory = dir
            let printed = try command.run().stdoutText.trimmingWhitespace()
            #expect(printed == URL(fileURLWithPath: dir).resolvingSymlinksInPath().path)
            #expect(FileManager.default.currentDirectoryPath == before)
        }
    }

    @Test("a missing tool is a missing-tool error naming it")
    func missingTool() throws {
        let environment = Environment(["PATH": "/nonexistent"])
        let error = try #require(throws: DRError.self) {
            try environment.require("git", purpose: "back up repositories")
        }
        #expect(error.code == .missingTool)
        #expect(error.description.contains("apt-get install git"))
    }
}
