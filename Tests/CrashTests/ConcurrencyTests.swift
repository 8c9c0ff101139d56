import DRCore
import Foundation
import Testing
import TestSupport

/// `drctl backup`, `drctl prune` and `drctl verify` (structure and `--read-data`) started
/// together on one repository, round after round: no snapshot a backup reported is lost
/// unless prune reported forgetting it (by the source's retention), no live object is
/// collected (every snapshot passes `verify --read-data`, during and after), and the
/// catalog passes `PRAGMA integrity_check`.
@Suite("backup, prune and verify at the same time")
struct ConcurrencyTests {
    static let rounds = 8

    @Test("concurrent backup, prune and verify lose nothing", .timeLimit(.minutes(5)))
    func concurrentRounds() async throws {
        try await onOwnThread {
            try withTemporaryDirectory { dir in
                let secrets = try CrashSource.make("secrets", in: dir, name: "secrets")
                let git = try CrashSource.make("git-bundle", in: dir, name: "gitops")
                let volume = try CrashSource.make("pvc-archive", in: dir, name: "volume")
                // Only the export source has a retention: the others keep everything.
                let setup = try CrashSetup(
                    in: dir, sourcesYAML: secrets.yaml + "    retention: {keep_last: 2}\n" + git.yaml + volume.yaml
                        + "    full_every: 3\n")
                let first = try setup.drctl(["backup"])
                try #require(first.succeeded, "first backup: \(first.stderr)")
                var backedUp: [String: String] = [:]  // snapshot id -> source
                var forgotten: [String: String] = [:]
                var vanishedSeen = 0
                for round in 1...Self.rounds {
                    try secrets.change(round)
                    try git.change(round)
                    try volume.change(round)
                    let processes = [
                        try setup.spawn(["backup", "--json"], label: "backup-\(round)"),
                        try setup.spawn(["prune", "--wait", "--json", "--orphan-grace", "0s"], label: "prune-\(round)"),
                        try setup.spawn(["verify", "--json"], label: "verify-\(round)"),
                        try setup.spawn(["verify", "--read-data", "--json"], label: "verify-data-\(round)"),
                    ]
                    let endings = processes.map { $0.wait() }
                    for (process, ending) in zip(processes, endings) {
                        #expect(ending == .exited(0), "round \(round): \(process.process.arguments ?? []) ended \(ending): \(process.stdout.suffix(2000)) \(process.stderr)")
                    }
                    if let outcomes = try? JSONSerialization.jsonObject(with: Data(processes[0].stdout.utf8)) as? [[String: Any]] {
                        for outcome in outcomes {
                            if let snapshot = outcome["snapshot"] as? [String: Any], let id = snapshot["id"] as? String {
                                backedUp[id] = outcome["source"] as? String
                            }
                        }
                    } else {
                        Issue.record("round \(round): backup --json printed no outcomes")
                    }
                    if let report = try? JSONSerialization.jsonObject(with: Data(processes[1].stdout.utf8)) as? [String: Any],
                       let sources = report["sources"] as? [[String: Any]] {
                        for source in sources {
                            for verdict in source["snapshots"] as? [[String: Any]] ?? [] where verdict["keep"] as? Bool == false {
                                if let id = verdict["id"] as? String { forgotten[id] = source["source"] as? String }
                            }
                        }
                    } else {
                        Issue.record("round \(round): prune --json printed no report")
                    }
                    for verify in processes[2...] {
                        let report = try? JSONSerialization.jsonObject(with: Data(verify.stdout.utf8)) as? [String: Any]
                        vanishedSeen += (report?["vanished"] as? [String])?.count ?? 0
                    }
                }
                let catalog = try Catalog.open(path: setup.catalogPath, logger: testLogger)
                #expect(try catalog.integrityProblems().isEmpty)
                let present = Set(try catalog.snapshots().map(\.id))
                let lost = Set(backedUp.keys).subtracting(present).subtracting(forgotten.keys)
                #expect(lost.isEmpty, "snapshots lost: \(lost.sorted())")
                #expect(Set(forgotten.values) == ["secrets"], "forgotten from sources without retention: \(forgotten)")
                #expect(present.isDisjoint(with: forgotten.keys), "forgotten snapshots still in the catalog")
                #expect(backedUp.count == Self.rounds * 3, "\(backedUp.count) snapshots reported for \(Self.rounds) rounds of 3 sources")
                try setup.checkRepository("after \(Self.rounds) concurrent rounds", structureToo: true)
                try setup.pruneAndCheckClean("after \(Self.rounds) concurrent rounds")
                try setup.checkRepository("after the final prune")
                #expect(try catalog.snapshots(source: "secrets").count == 2, "retention keep_last 2 not applied")
                print("concurrency summary: \(Self.rounds) rounds, \(backedUp.count) snapshots taken, \(forgotten.count) forgotten by retention, \(vanishedSeen) reported vanished by a concurrent verify")
            }
        }
    }
}
