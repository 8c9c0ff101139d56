#if canImport(Glibc)
import Glibc
#endif
import DRCore
import Foundation
import Testing
import TestSupport

/// Ctrl-C through the binary: `drctl restore` finishes the running step, runs no more,
/// exits 130 and leaves an execution that `--resume` completes.
@Suite("drctl restore and Ctrl-C")
struct RestoreInterruptTests {
    @Test("SIGINT stops between steps; --resume runs the rest", .timeLimit(.minutes(2)))
    func interruptThenResume() throws {
        try withTemporaryDirectory { dir in
            let setup = try runDrctl(["init", "\(dir)/setup"])
            #expect(setup.succeeded, "\(setup.stderr)")
            let config = "\(dir)/setup/drctl.yaml"
            let text = try String(contentsOfFile: config, encoding: .utf8)
                .replacingOccurrences(of: "sources: []", with: "runbooks_dir: ../runbooks\nsources: []")
            try text.write(toFile: config, atomically: true, encoding: .utf8)
            try FileIO.createDirectory("\(dir)/runbooks")
            try """
                # Two steps

                ```sh {id=first}
                touch \(dir)/started
                while [ ! -f \(dir)/release ]; do sleep 0.05; done
                ```

                ```sh {id=second}
                echo ran >> \(dir)/second.log
                ```
                """.write(toFile: "\(dir)/runbooks/two.md", atomically: true, encoding: .utf8)

            let process = Process()
            process.executableURL = URL(fileURLWithPath: try drctlExecutable())
            process.arguments = ["restore", "two", "--yes", "--config", config]
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = FileHandle.nullDevice
            let stderr = Pipe()
            process.standardError = stderr
            try process.run()
            let deadline = ContinuousClock.now + .seconds(60)
            while !FileIO.exists("\(dir)/started") && process.isRunning && ContinuousClock.now < deadline {
                Thread.sleep(forTimeInterval: 0.02)
            }
            #expect(FileIO.exists("\(dir)/started"), "the first step never started")
            kill(process.processIdentifier, SIGINT)
            // Release the first step only once drctl has taken the signal in.
            var said = ""
            while !said.contains("stopping after the current step") && ContinuousClock.now < deadline {
                let chunk = stderr.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                said += String(decoding: chunk, as: UTF8.self)
            }
            #expect(said.contains("stopping after the current step"), "\(said)")
            try FileIO.atomicWrite([], to: "\(dir)/release")
            process.waitUntilExit()
            #expect(process.terminationStatus == 130)
            #expect(!FileIO.exists("\(dir)/second.log"), "a step ran after Ctrl-C")

            let history = try runDrctl(["restore", "--history", "--json", "--config", config])
            let executions = try #require(try JSONSerialization.jsonObject(with: Data(history.stdout)) as? [[String: Any]])
            let execution = try #require(executions.first)
            #expect(execution["status"] as? String == "interrupted")
            let id = try #require(execution["id"] as? String)

            let resumed = try runDrctl(["restore", "--resume", String(id.prefix(8)), "--yes", "--config", config])
            #expect(resumed.status == 0, "\(resumed.stderr)")
            #expect(try String(contentsOfFile: "\(dir)/second.log", encoding: .utf8) == "ran\n")
        }
    }
}
