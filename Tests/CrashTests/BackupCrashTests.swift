import DRCore
import Foundation
import Testing
import TestSupport

/// A source of one kind with data that changes between backups, so that every backup
/// writes new objects.
struct CrashSource {
    let kind: String
    let yaml: String
    let change: (Int) throws -> Void

    /// Creates the source's data under `dir/src` and describes it as source `src`.
    static func make(_ kind: String, in dir: String, name: String = "src") throws -> CrashSource {
        let root = "\(dir)/src-\(name)"
        switch kind {
        case "git-bundle":
            let git = try GitFixture()
            try git.makeGitOpsRepository(at: root)
            return CrashSource(kind: kind, yaml: "  - name: \(name)\n    kind: git-bundle\n    repo: \(root)\n") { round in
                try git.commit(root, file: "apps/round-\(round).yaml", content: "kind: ConfigMap\nround: \(round)\n",
                               message: "Round \(round)")
            }
        case "pvc-archive":
            try makeCorpus([root, "--mb", "1", "--seed", "1"])
            return CrashSource(kind: kind, yaml: "  - name: \(name)\n    kind: pvc-archive\n    path: \(root)\n") { round in
                try makeCorpus([root, "--mutate", "5", "--seed", "\(round + 2)"])
            }
        default:
            let file = "\(root).yaml"
            try FileIO.atomicWrite(Array(SecretFixtures.kubectlList().utf8), to: file)
            return CrashSource(kind: kind, yaml: "  - name: \(name)\n    kind: secrets\n    file: \(file)\n") { round in
                try FileIO.atomicWrite(Array(SecretFixtures.kubectlList(dbPassword: "rotated-\(round)").utf8), to: file)
            }
        }
    }
}

/// `kill -9` of `drctl backup` at every write phase (the test-only `DRCTL_CRASH_AT`
/// switch) and at random moments, for each source kind. After each kill: the catalog
/// passes `PRAGMA integrity_check`, every object row names a file of the recorded size,
/// `verify` and `verify --read-data` pass, the next backup succeeds, and
/// `prune --orphan-grace 0s` leaves exactly the files the catalog names.
@Suite("kill -9 during backup")
struct BackupCrashTests {
    /// Deterministic kills per kind: every backup phase at its first passage, and the
    /// object phases also at their second (the next object: manifest or export).
    static let deterministic: [(CrashPhase, Int)] =
        CrashPhase.backup.map { ($0, 1) } + [(.objectTmpWritten, 2), (.objectFsynced, 2), (.objectRenamed, 2)]
    static let randomKills = 8

    @Test("backup killed at each phase and at random moments", .timeLimit(.minutes(5)),
          arguments: ["git-bundle", "pvc-archive", "secrets"])
    func backupKills(kind: String) async throws {
        try await onOwnThread {
            try withTemporaryDirectory { dir in
                let source = try CrashSource.make(kind, in: dir)
                let setup = try CrashSetup(in: dir, sourcesYAML: source.yaml)
                let seed = SeededRandom.seed()
                var random = SeededRandom(seed: seed)
                let tally = KillTally(name: "backup-\(kind)", seed: seed)
                let first = try setup.drctl(["backup"])
                try #require(first.succeeded, "first backup: \(first.stderr)")
                var round = 0
                var lastBackup: Duration = .seconds(1)

                func afterKill(_ context: String) throws {
                    try setup.checkRepository(context, structureToo: true)
                    let started = ContinuousClock.now
                    let next = try setup.drctl(["backup"])
                    lastBackup = ContinuousClock.now - started
                    #expect(next.succeeded, "\(context): the next backup failed: \(next.stderr)")
                    try setup.pruneAndCheckClean(context)
                }

                for (phase, n) in Self.deterministic {
                    round += 1
                    try source.change(round)
                    let point = "\(phase.rawValue):\(n)"
                    let (process, ending) = try setup.crash(["backup"], at: point, label: "backup-\(round)")
                    #expect(ending == .killed, "\(kind) at \(point): \(ending) \(process.stderr)")
                    #expect(process.trace.last == phase.rawValue, "\(kind) at \(point): trace \(process.trace)")
                    if ending == .killed { tally.add(phase.rawValue) }
                    try afterKill("\(kind) killed at \(point)")
                }
                for _ in 0..<Self.randomKills {
                    round += 1
                    try source.change(round)
                    // Within the last backup's duration: a kill after the end lands on nothing, and
                    // with a longer window too few kills landed now and then (a flaky count below).
                    let (process, ending, last) = try setup.killAtRandom(
                        ["backup"], maxDelay: lastBackup, random: &random, label: "random-\(round)")
                    tally.addRandom(ending, after: last, process, "\(kind)")
                    try afterKill("\(kind) killed at random after \(last)")
                }
                // Nothing killed is left looking alive.
                let catalog = try Catalog.open(path: setup.catalogPath, logger: testLogger)
                let attempts = try catalog.attempts()
                #expect(!attempts.contains { $0.status == .running }, "attempts still running: \(attempts.filter { $0.status == .running })")
                #expect(try catalog.runIDs(status: .running).isEmpty, "runs still marked running")
                try setup.checkRepository("\(kind): at the end", structureToo: true)
                try tally.report(into: dir)
                for (phase, _) in Self.deterministic {
                    #expect(tally.count(phase.rawValue) >= 1, "\(kind): phase \(phase.rawValue) was never hit")
                }
                #expect(tally.kills >= Self.deterministic.count + Self.randomKills / 2,
                        "\(kind): only \(tally.kills) kills landed (\(tally.completedBeforeKill) backups finished first)")
            }
        }
    }

    @Test("a git killed mid-fetch leaves lock files in the mirror; the next backup removes them", .timeLimit(.minutes(2)))
    func staleGitLocks() async throws {
        try await onOwnThread {
            try withTemporaryDirectory { dir in
                let source = try CrashSource.make("git-bundle", in: dir)
                let setup = try CrashSetup(in: dir, sourcesYAML: source.yaml)
                let first = try setup.drctl(["backup"])
                try #require(first.succeeded, "first backup: \(first.stderr)")
                // What `kill -9` of the whole process group leaves when it lands inside git's ref update.
                let mirror = "\(setup.dataDir)/mirrors/src.git"
                for lock in ["refs/heads/main.lock", "packed-refs.lock", "HEAD.lock"] {
                    try FileIO.atomicWrite([], to: "\(mirror)/\(lock)")
                }
                try source.change(1)
                let next = try setup.drctl(["backup"])
                #expect(next.succeeded, "backup after stale git locks: \(next.stderr)")
                #expect(next.stderr.contains("removed lock files a killed git left"), "\(next.stderr)")
                #expect(!FileIO.exists("\(mirror)/refs/heads/main.lock"))
                try setup.checkRepository("after stale git locks")
            }
        }
    }
}
