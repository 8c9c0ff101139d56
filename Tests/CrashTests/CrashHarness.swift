#if canImport(Glibc)
import Glibc
#endif
import DRCore
import Foundation
import Testing
import TestSupport

/// Random kills replay from a seed: every test prints its seed, and `DRCTL_CRASH_SEED`
/// fixes it.
extension SeededRandom {
    /// The seed for a test: `DRCTL_CRASH_SEED` when set (read only), else a fresh one.
    static func seed() -> UInt64 {
        if let text = Environment.current["DRCTL_CRASH_SEED"], let value = UInt64(text) { return value }
        return UInt64.random(in: 1...UInt64(UInt32.max))
    }
}

/// How a spawned drctl ended.
enum Ending: Equatable {
    /// Exited on its own with this status.
    case exited(Int32)
    /// Killed by SIGKILL (the crash switch or the harness).
    case killed
    /// Another signal.
    case signaled(Int32)
}

/// One drctl process started by the harness, with its own output files and trace file.
final class Spawned {
    let process = Process()
    let stdoutPath: String
    let stderrPath: String
    let tracePath: String
    let started = ContinuousClock.now

    init(_ arguments: [String], crashAt: String?, in logs: String, label: String) throws {
        let name = "\(label)-\(FileIO.randomHex(4))"
        stdoutPath = "\(logs)/\(name).out"
        stderrPath = "\(logs)/\(name).err"
        tracePath = "\(logs)/\(name).trace"
        _ = FileManager.default.createFile(atPath: stdoutPath, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        var environment = Environment.current.variables
        environment[CrashPoints.variable] = crashAt
        environment[CrashPoints.traceVariable] = tracePath
        process.executableURL = URL(fileURLWithPath: try drctlExecutable())
        process.arguments = arguments
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle(forWritingAtPath: stdoutPath)
        process.standardError = FileHandle(forWritingAtPath: stderrPath)
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }

    func wait() -> Ending {
        process.waitUntilExit()
        switch process.terminationReason {
        case .exit: return .exited(process.terminationStatus)
        case .uncaughtSignal: return process.terminationStatus == SIGKILL ? .killed : .signaled(process.terminationStatus)
        @unknown default: return .exited(process.terminationStatus)
        }
    }

    var stdout: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    /// The crash points the process passed, in order.
    var trace: [String] {
        ((try? String(contentsOfFile: tracePath, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }
}

/// Tallies kills per phase and writes the summary a run reports.
final class KillTally: @unchecked Sendable {
    let name: String
    let seed: UInt64
    private let lock = NSLock()
    private(set) var counts: [String: Int] = [:]
    private(set) var completedBeforeKill = 0

    init(name: String, seed: UInt64) {
        self.name = name
        self.seed = seed
    }

    func add(_ key: String) { lock.withLock { counts[key, default: 0] += 1 } }

    /// Tallies a random kill under `random<qualifier>, after <last point>`, or a process
    /// that finished first; anything else (another exit status, another signal) is a failure.
    func addRandom(_ ending: Ending, after last: String, qualifier: String = "", _ process: Spawned, _ context: String) {
        switch ending {
        case .killed: add("random\(qualifier), after \(last)")
        case .exited(0): lock.withLock { completedBeforeKill += 1 }
        default: Issue.record("\(context): random kill: \(ending) \(process.stderr)")
        }
    }

    var kills: Int { lock.withLock { counts.values.reduce(0, +) } }

    func count(_ key: String) -> Int { lock.withLock { counts[key] ?? 0 } }

    /// Prints one summary line and writes the same as JSON into `directory`.
    func report(into directory: String) throws {
        let snapshot = lock.withLock { (counts, completedBeforeKill) }
        let line = snapshot.0.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        print("crash summary [\(name)] seed=\(seed) kills=\(snapshot.0.values.reduce(0, +)) finished-before-kill=\(snapshot.1): \(line)")
        let document: [String: Any] = [
            "suite": name, "seed": String(seed), "kills": snapshot.0.values.reduce(0, +),
            "finishedBeforeKill": snapshot.1, "perPhase": snapshot.0,
        ]
        let data = try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .prettyPrinted])
        try FileIO.atomicWrite(Array(data), to: "\(directory)/crash-summary-\(name).json")
        // Optional: collect the figures of a whole run for docs/RELIABILITY.md.
        if let collect = Environment.current["DRCTL_CRASH_SUMMARY_DIR"], FileIO.isDirectory(collect) {
            try FileIO.atomicWrite(Array(data), to: "\(collect)/crash-summary-\(name).json")
        }
    }
}

/// A drctl setup (`drctl init`) with one or more sources, driven through the real binary.
struct CrashSetup {
    let dir: String
    let config: String
    let catalogPath: String
    let repository: String
    let dataDir: String
    let logs: String

    /// `drctl init` in `dir/setup`, then `sourcesYAML` (list items) as the sources.
    init(in dir: String, sourcesYAML: String, extraYAML: String = "") throws {
        self.dir = dir
        let setup = "\(dir)/setup"
        let result = try runDrctl(["init", setup])
        guard result.succeeded else { throw DRError(.failed, "drctl init failed: \(result.stderr)") }
        config = "\(setup)/drctl.yaml"
        catalogPath = "\(setup)/catalog.db"
        repository = "\(setup)/repository"
        dataDir = setup
        logs = "\(dir)/logs"
        try FileIO.createDirectory(logs)
        let text = try String(contentsOfFile: config, encoding: .utf8)
            .replacingOccurrences(of: "sources: []", with: extraYAML + "sources:\n" + sourcesYAML)
        try text.write(toFile: config, atomically: true, encoding: .utf8)
    }

    /// Runs drctl to completion with the config.
    @discardableResult
    func drctl(_ arguments: [String]) throws -> Command.Result {
        try runDrctl(arguments + ["--config", config])
    }

    /// Starts drctl with the config, optionally armed to crash at `crashAt`.
    func spawn(_ arguments: [String], crashAt: String? = nil, label: String) throws -> Spawned {
        try Spawned(arguments + ["--config", config], crashAt: crashAt, in: logs, label: label)
    }

    /// Runs drctl armed at `crashAt`; returns the process once it ended (killed, normally).
    func crash(_ arguments: [String], at crashAt: String, label: String) throws -> (Spawned, Ending) {
        let spawned = try spawn(arguments, crashAt: crashAt, label: label)
        let ending = spawned.wait()
        killStragglers()
        return (spawned, ending)
    }

    /// Starts drctl, waits a random moment below `maxDelay`, then kills it with SIGKILL (and
    /// whatever it had started, as a container or cgroup kill would). Returns the process,
    /// how it ended, and the last crash point it passed.
    func killAtRandom(
        _ arguments: [String], maxDelay: Duration, random: inout SeededRandom, label: String
    ) throws -> (Spawned, Ending, String) {
        let delay = Double.random(in: 0...max(0.005, maxDelay.seconds), using: &random)
        let spawned = try spawn(arguments, label: label)
        Thread.sleep(forTimeInterval: delay)
        kill(spawned.pid, SIGKILL)
        let ending = spawned.wait()
        killStragglers()
        return (spawned, ending, spawned.trace.last ?? "start")
    }

    /// Kills every process left over from a killed drctl (its git, tar or shell children,
    /// recognised by this test's folder on their command line) and waits until they are gone.
    func killStragglers() {
        let me = getpid()
        let needle = Array(dir.utf8)
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            var found = false
            for entry in FileIO.list("/proc") {
                guard let pid = Int32(entry), pid != me else { continue }
                guard let command = try? FileIO.read("/proc/\(entry)/cmdline"), !command.isEmpty,
                      command.firstRange(of: needle) != nil
                else { continue }
                // A zombie waiting for its reaper is gone for our purposes.
                if let stat = try? FileIO.read("/proc/\(entry)/stat"),
                   let close = stat.lastIndex(of: UInt8(ascii: ")")), close + 2 < stat.count,
                   stat[close + 2] == UInt8(ascii: "Z") { continue }
                found = true
                kill(pid, SIGKILL)
            }
            if !found { return }
            Thread.sleep(forTimeInterval: 0.01)
        }
    }

    // MARK: - Invariants

    /// The checks after every kill that must hold whatever phase was hit: the catalog
    /// opens and passes `PRAGMA integrity_check`; every object row names a file of
    /// exactly the recorded size; `drctl verify --read-data` passes (it runs the structure
    /// checks first), and with `structureToo` a plain `drctl verify` as well.
    func checkRepository(_ context: String, structureToo: Bool = false) throws {
        let catalog = try Catalog.open(path: catalogPath, logger: testLogger)
        let problems = try catalog.integrityProblems()
        #expect(problems.isEmpty, "\(context): integrity_check: \(problems)")
        for object in try catalog.allObjects() {
            let path = object.type == .manifest
                ? "\(repository)/snapshots/\(object.sha256)" : "\(repository)/objects/\(object.sha256.prefix(2))/\(object.sha256)"
            let size = FileIO.size(path)
            #expect(size == object.size, "\(context): catalog object \(object.type.rawValue) \(object.sha256.prefix(12)) has \(size.map(String.init) ?? "no file"), recorded \(object.size)")
        }
        if structureToo {
            let structure = try drctl(["verify"])
            #expect(structure.status == 0, "\(context): verify: \(structure.stdoutText) \(structure.stderr)")
        }
        let readData = try drctl(["verify", "--read-data"])
        #expect(readData.status == 0, "\(context): verify --read-data: \(readData.stdoutText) \(readData.stderr)")
    }

    /// `drctl prune --orphan-grace 0s` succeeds and afterwards the repository holds exactly
    /// the files the catalog names, its `tmp/` and `locks/` are empty and no scratch folder
    /// of a dead drctl is left in the data folder.
    func pruneAndCheckClean(_ context: String) throws {
        let prune = try drctl(["prune", "--wait", "--orphan-grace", "0s"])
        #expect(prune.succeeded, "\(context): prune: \(prune.stderr)")
        let catalog = try Catalog.open(path: catalogPath, logger: testLogger)
        let known = Set(try catalog.allObjects().map { "\($0.type.rawValue)/\($0.sha256)" })
        var stored = Set(FileIO.list("\(repository)/snapshots").map { "manifest/\($0)" })
        for prefix in FileIO.list("\(repository)/objects") {
            for name in FileIO.list("\(repository)/objects/\(prefix)") { stored.insert("data/\(name)") }
        }
        #expect(stored.subtracting(known).isEmpty, "\(context): orphans left after prune: \(stored.subtracting(known).sorted())")
        #expect(known.subtracting(stored).isEmpty, "\(context): catalog objects missing: \(known.subtracting(stored).sorted())")
        #expect(FileIO.list("\(repository)/tmp").isEmpty, "\(context): repository tmp/ not clean: \(FileIO.list("\(repository)/tmp"))")
        // A killed backup's repository lock is dead (its process is gone) and prune removes it.
        #expect(FileIO.list("\(repository)/locks").isEmpty, "\(context): repository locks left: \(FileIO.list("\(repository)/locks"))")
        let scratch = FileIO.list("\(dataDir)/tmp")
        #expect(scratch.isEmpty, "\(context): scratch left in the data folder: \(scratch)")
    }
}

/// Runs a long blocking test body (minutes of waiting for child processes) on a thread of
/// its own, so the cooperative pool (two threads) stays free for the async tests running
/// in parallel. It stays the test's task (a task executor preference), so `#expect` and
/// `#require` inside still belong to the test.
///
/// The crash tests start hundreds of processes; one at a time (`crashTestSlots`) keeps the
/// machine's load near one core, so timing-sensitive tests elsewhere in the suite are not
/// starved.
func onOwnThread(_ body: @escaping @Sendable () throws -> Void) async throws {
    let executor = ThreadExecutor()
    defer { executor.stop() }
    try await withTaskExecutorPreference(executor) {
        // The preference applies from the next enqueue: hop onto the thread first.
        await Task.yield()
        crashTestSlots.wait()
        defer { crashTestSlots.signal() }
        try body()
    }
}

/// How many crash-test bodies run at the same time.
let crashTestSlots = DispatchSemaphore(value: 1)

/// A task executor running its jobs on one dedicated thread.
final class ThreadExecutor: TaskExecutor, @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var stopped = false

    init() {
        let thread = Thread { [self] in loop() }
        thread.stackSize = 8 << 20
        thread.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.withLock {
            jobs.append(job)
            condition.signal()
        }
    }

    /// Lets the thread end once its queue is empty.
    func stop() {
        condition.withLock {
            stopped = true
            condition.signal()
        }
    }

    private func loop() {
        while true {
            let next: UnownedJob? = condition.withLock {
                while jobs.isEmpty && !stopped { condition.wait() }
                return jobs.isEmpty ? nil : jobs.removeFirst()
            }
            guard let next else { return }
            next.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}
