import DRCore
import Foundation
import Testing
import TestSupport

/// `kill -9` during `drctl prune`: after the catalog forgot snapshots, between file
/// deletions, and at random moments. No live object is ever collected (every remaining
/// snapshot passes `verify --read-data`) and the next prune collects what was left.
@Suite("kill -9 during prune")
struct PruneCrashTests {
    @Test("prune killed after forgetting, mid-delete and at random moments", .timeLimit(.minutes(5)))
    func pruneKills() async throws {
        try await onOwnThread {
            try withTemporaryDirectory { dir in
                let secrets = try CrashSource.make("secrets", in: dir, name: "secrets")
                let git = try CrashSource.make("git-bundle", in: dir, name: "gitops")
                let setup = try CrashSetup(
                    in: dir, sourcesYAML: secrets.yaml + "    retention: {keep_last: 1}\n" + git.yaml)
                let seed = SeededRandom.seed()
                var random = SeededRandom(seed: seed)
                let tally = KillTally(name: "prune", seed: seed)
                var round = 0
                var lastPrune: Duration = .milliseconds(300)

                /// Three more export snapshots for retention to forget, and a git snapshot that stays.
                func grow() throws {
                    for _ in 0..<3 {
                        round += 1
                        try secrets.change(round)
                        try git.change(round)
                        let backup = try setup.drctl(["backup"])
                        try #require(backup.succeeded, "backup: \(backup.stderr)")
                    }
                }
                func afterKill(_ context: String) throws {
                    try setup.checkRepository(context, structureToo: true)
                    let started = ContinuousClock.now
                    try setup.pruneAndCheckClean(context)
                    lastPrune = ContinuousClock.now - started
                    let catalog = try Catalog.open(path: setup.catalogPath, logger: testLogger)
                    #expect(try catalog.snapshots(source: "secrets").count == 1, "\(context): retention keep_last 1 not applied")
                    try setup.checkRepository("\(context), after the next prune")
                }

                let points: [(CrashPhase, Int)] = [(.pruneAfterForget, 1), (.pruneMidDelete, 1), (.pruneMidDelete, 3)]
                for (phase, n) in points {
                    try grow()
                    let point = "\(phase.rawValue):\(n)"
                    let (process, ending) = try setup.crash(["prune"], at: point, label: "prune-\(round)")
                    #expect(ending == .killed, "prune at \(point): \(ending) \(process.stderr)")
                    #expect(process.trace.last == phase.rawValue, "prune at \(point): trace \(process.trace)")
                    if ending == .killed { tally.add(phase.rawValue) }
                    try afterKill("prune killed at \(point)")
                }
                for _ in 0..<5 {
                    try grow()
                    let (process, ending, last) = try setup.killAtRandom(
                        ["prune"], maxDelay: lastPrune * 1.2, random: &random, label: "random-prune-\(round)")
                    tally.addRandom(ending, after: last, process, "prune")
                    try afterKill("prune killed at random after \(last)")
                }
                try tally.report(into: dir)
                for (phase, _) in points { #expect(tally.count(phase.rawValue) >= 1, "phase \(phase.rawValue) was never hit") }
            }
        }
    }
}

/// `kill -9` during `drctl snapshots extract`: the target is either absent or complete,
/// never a half-written tree under its name; the retry succeeds and removes the killed
/// run's staging folder.
@Suite("kill -9 during extract")
struct ExtractCrashTests {
    @Test("extract killed half-way and at random moments", .timeLimit(.minutes(5)))
    func extractKills() async throws {
        try await onOwnThread {
            try withTemporaryDirectory { dir in
                let volume = try CrashSource.make("pvc-archive", in: dir, name: "volume")
                let git = try CrashSource.make("git-bundle", in: dir, name: "gitops")
                let secrets = try CrashSource.make("secrets", in: dir, name: "secrets")
                let setup = try CrashSetup(in: dir, sourcesYAML: volume.yaml + git.yaml + secrets.yaml)
                for round in 1...2 {
                    try volume.change(round)
                    try git.change(round)
                    let backup = try setup.drctl(["backup"])
                    try #require(backup.succeeded, "backup: \(backup.stderr)")
                }
                let catalog = try Catalog.open(path: setup.catalogPath, logger: testLogger)
                let volumeSnapshots = try catalog.snapshots(source: "volume")
                let gitSnapshot = try #require(try catalog.snapshots(source: "gitops").first)
                let secretsSnapshot = try #require(try catalog.snapshots(source: "secrets").first)
                let seed = SeededRandom.seed()
                var random = SeededRandom(seed: seed)
                let tally = KillTally(name: "extract", seed: seed)

                let fixture = try GitFixture()
                /// A volume tree entry by entry, a git repository's refs, an export's bytes.
                func describe(_ snapshot: SnapshotRecord, _ path: String) throws -> [String] {
                    switch snapshot.kind {
                    case "pvc-archive": return try treeManifest(path)
                    case "git-bundle":
                        try fixture.run(["fsck", "--no-progress"], in: path)
                        return try fixture.refs(path)
                    default: return [String(decoding: try FileIO.read(path), as: UTF8.self)]
                    }
                }
                // What a complete extraction of each looks like (an uninterrupted run).
                var reference: [String: [String]] = [:]
                var referenceTime: [String: Duration] = [:]
                for snapshot in volumeSnapshots + [gitSnapshot, secretsSnapshot] {
                    let target = "\(dir)/reference/\(snapshot.id)"
                    let started = ContinuousClock.now
                    let result = try setup.drctl(["snapshots", "extract", snapshot.id, "--to", target])
                    referenceTime[snapshot.id] = ContinuousClock.now - started
                    try #require(result.succeeded, "reference extract: \(result.stderr)")
                    reference[snapshot.id] = try describe(snapshot, target)
                }
                var attempt = 0
                /// After a kill: the target is absent or complete; a retry (when absent) completes;
                /// nothing is left beside it.
                func afterKill(_ snapshot: SnapshotRecord, _ target: String, _ context: String) throws {
                    if FileIO.exists(target) {
                        #expect(try describe(snapshot, target) == reference[snapshot.id], "\(context): \(target) exists but is not complete")
                    } else {
                        let retry = try setup.drctl(["snapshots", "extract", snapshot.id, "--to", target])
                        #expect(retry.succeeded, "\(context): retry: \(retry.stderr)")
                        #expect(try describe(snapshot, target) == reference[snapshot.id], "\(context): the retry's tree differs")
                    }
                    let parent = (target as NSString).deletingLastPathComponent
                    let left = FileIO.list(parent).filter { $0 != (target as NSString).lastPathComponent }
                    #expect(left.isEmpty, "\(context): left beside the target: \(left)")
                    FileIO.removeTree(parent)
                }

                for snapshot in volumeSnapshots + [gitSnapshot] {
                    attempt += 1
                    let target = "\(dir)/out-\(attempt)/tree"
                    let (process, ending) = try setup.crash(
                        ["snapshots", "extract", snapshot.id, "--to", target], at: CrashPhase.extractMid.rawValue, label: "extract-\(attempt)")
                    #expect(ending == .killed, "extract \(snapshot.kind): \(ending) \(process.stderr)")
                    #expect(!FileIO.exists(target), "extract \(snapshot.kind): killed half-way, yet \(target) exists")
                    if ending == .killed { tally.add("\(CrashPhase.extractMid.rawValue) (\(snapshot.kind))") }
                    try afterKill(snapshot, target, "extract of \(snapshot.kind) killed half-way")
                }
                let candidates = volumeSnapshots + [gitSnapshot, secretsSnapshot]
                for _ in 0..<10 {
                    attempt += 1
                    let snapshot = candidates[Int.random(in: 0..<candidates.count, using: &random)]
                    let target = "\(dir)/out-\(attempt)/\(snapshot.kind == "secrets" ? "export.yaml" : "tree")"
                    let (process, ending, last) = try setup.killAtRandom(
                        ["snapshots", "extract", snapshot.id, "--to", target], maxDelay: (referenceTime[snapshot.id] ?? .seconds(1)) * 0.8, random: &random,
                        label: "random-extract-\(attempt)")
                    tally.addRandom(ending, after: last, qualifier: " (\(snapshot.kind))", process, "extract")
                    try afterKill(snapshot, target, "extract of \(snapshot.kind) killed at random")
                }
                try tally.report(into: dir)
                #expect(tally.count("extract-mid (pvc-archive)") >= 1 && tally.count("extract-mid (git-bundle)") >= 1)
            }
        }
    }
}

/// `kill -9` during `drctl restore` of a runbook that rebuilds a git repository: the
/// execution resumes with `--resume` and ends with the repository exactly as recorded.
@Suite("kill -9 during restore")
struct RestoreCrashTests {
    @Test("restore killed inside a step, mid-rebuild and at random moments; --resume completes", .timeLimit(.minutes(5)))
    func restoreKills() async throws {
        try await onOwnThread {
            try withTemporaryDirectory { dir in
                let git = try CrashSource.make("git-bundle", in: dir, name: "gitops")
                let setup = try CrashSetup(in: dir, sourcesYAML: git.yaml, extraYAML: "runbooks_dir: ../runbooks\n")
                let backup = try setup.drctl(["backup"])
                try #require(backup.succeeded, "backup: \(backup.stderr)")
                let restored = "\(dir)/served/gitops.git"
                try FileIO.createDirectory("\(dir)/runbooks")
                try """
                    # Crash restore

                    ```drctl {id=rebuild}
                    action: git.restore-bundle
                    source: gitops
                    path: \(restored)
                    ```

                    ```sh {id=after}
                    echo done >> \(dir)/after.log
                    ```
                    """.write(toFile: "\(dir)/runbooks/crash.md", atomically: true, encoding: .utf8)
                let fixture = try GitFixture()
                let expected = try fixture.refs("\(dir)/src-gitops")
                let seed = SeededRandom.seed()
                var random = SeededRandom(seed: seed)
                let tally = KillTally(name: "restore", seed: seed)
                let catalog = try Catalog.open(path: setup.catalogPath, logger: testLogger)
                var runTime: Duration = .seconds(1)

                /// Resumes (or, when the kill came before the journal, starts) the execution;
                /// then the repository matches the snapshot and nothing is left beside it.
                func finish(_ context: String, knownBefore: Set<String>) throws {
                    let newest = try catalog.executions().first { !knownBefore.contains($0.id) }
                    if let newest, newest.status != .succeeded {
                        let resumed = try setup.drctl(["restore", "--resume", newest.id, "--yes"])
                        #expect(resumed.succeeded, "\(context): resume: \(resumed.stdoutText) \(resumed.stderr)")
                    } else if newest == nil {
                        let again = try setup.drctl(["restore", "crash", "--yes"])
                        #expect(again.succeeded, "\(context): rerun: \(again.stderr)")
                    }
                    #expect(try fixture.refs(restored) == expected, "\(context): restored refs differ")
                    let left = FileIO.list("\(dir)/served").filter { $0 != "gitops.git" }
                    #expect(left.isEmpty, "\(context): left beside the repository: \(left)")
                    #expect(try catalog.executions().first?.status == .succeeded, "\(context): the execution did not succeed")
                    FileIO.removeTree("\(dir)/served")
                }

                let clean = ContinuousClock.now
                let first = try setup.drctl(["restore", "crash", "--yes"])
                runTime = ContinuousClock.now - clean
                try #require(first.succeeded, "restore: \(first.stdoutText) \(first.stderr)")
                FileIO.removeTree("\(dir)/served")

                for point in ["\(CrashPhase.restoreStep.rawValue):1", CrashPhase.extractMid.rawValue] {
                    let known = Set(try catalog.executions().map(\.id))
                    let (process, ending) = try setup.crash(["restore", "crash", "--yes"], at: point, label: "restore")
                    #expect(ending == .killed, "restore at \(point): \(ending) \(process.stderr)")
                    if ending == .killed { tally.add(String(point.split(separator: ":")[0])) }
                    let execution = try #require(try catalog.executions().first { !known.contains($0.id) })
                    #expect(execution.status == .running, "killed at \(point): the journal says \(execution.status)")
                    try finish("restore killed at \(point)", knownBefore: known)
                }
                for round in 0..<6 {
                    let known = Set(try catalog.executions().map(\.id))
                    let (process, ending, last) = try setup.killAtRandom(
                        ["restore", "crash", "--yes"], maxDelay: runTime * 0.7, random: &random, label: "random-restore-\(round)")
                    tally.addRandom(ending, after: last, process, "restore")
                    try finish("restore killed at random after \(last)", knownBefore: known)
                }
                // The sh step after the rebuild ran once per execution that got that far: a
                // step whose journal entry was lost to the kill runs again on resume (at least
                // once), every other step exactly once.
                let lines = (try? String(contentsOfFile: "\(dir)/after.log", encoding: .utf8))?.split(separator: "\n").count ?? 0
                let executions = try catalog.executions().count
                #expect(lines >= executions && lines <= executions + tally.kills, "after.log has \(lines) lines for \(executions) executions")
                try tally.report(into: dir)
                #expect(tally.count(CrashPhase.restoreStep.rawValue) == 1 && tally.count(CrashPhase.extractMid.rawValue) == 1)
            }
        }
    }
}
