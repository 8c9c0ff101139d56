import DRCore
import Foundation
import Scheduler
import Snapshots
import Testing
import TestSupport

/// Repository locks between hosts: a prune runs alone, backups run together.
@Suite("repository locks")
struct RepositoryLockTests {
    func lockFile(_ kind: String, host: String, pid: Int32 = 4242, age: TimeInterval = 0, released: Bool = false) -> [UInt8] {
        let created = ISO8601.format(Date().addingTimeInterval(-age))
        return Array("{\"createdAt\":\"\(created)\",\"host\":\"\(host)\",\"kind\":\"\(kind)\",\"pid\":\(pid),\"released\":\(released)}".utf8)
    }

    @Test("a backup on another host blocks prune; stale and released locks do not, and prune clears them; a prune blocks backups")
    func locks() throws {
        try withTemporaryDirectory { dir in
            try FileIO.createDirectory("\(dir)/volume")
            try FileIO.atomicWrite(Array("x\n".utf8), to: "\(dir)/volume/x")
            let workspace = try makeWorkspace(
                in: "\(dir)/drctl", sourcesYAML: "  - name: wp\n    kind: pvc-archive\n    path: \(dir)/volume\n", encrypt: false)
            let store = workspace.store
            // Our own backup leaves no lock behind.
            #expect(try Backup.run(workspace).outcomes.allSatisfy(\.succeeded))
            #expect(try store.readLocks().isEmpty)

            try store.writeLock("backup-other-1", lockFile("backup", host: "other-host"))
            do {
                _ = try Prune.run(workspace, options: PruneOptions(orphanGraceSeconds: 0))
                Issue.record("prune ran while another host's backup held the repository")
            } catch let error as DRError {
                #expect(error.code == .refused)
                #expect(error.message.contains("backup on other-host (pid 4242)"), "\(error.message)")
            }
            #expect(try store.readLocks().map(\.name) == ["backup-other-1"], "prune removed its own lock")
            // Backups share the repository with it.
            #expect(try Backup.run(workspace).outcomes.allSatisfy(\.succeeded))

            try store.writeLock("backup-other-1", lockFile("backup", host: "other-host", age: 7 * 3600))
            try store.writeLock("backup-other-2", lockFile("backup", host: "other-host", released: true))
            _ = try Prune.run(workspace, options: PruneOptions(orphanGraceSeconds: 0))
            #expect(try store.readLocks().isEmpty, "stale and released locks are cleared by prune")

            try store.writeLock("prune-other-1", lockFile("prune", host: "other-host"))
            #expect(throws: DRError.self) { try Backup.run(workspace) }
            try store.removeLock("prune-other-1")
            #expect(try Backup.run(workspace).outcomes.allSatisfy(\.succeeded))
        }
    }
}
