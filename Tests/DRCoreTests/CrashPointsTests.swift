#if canImport(Glibc)
import Glibc
#endif
import DRCore
import Foundation
import Testing
import TestSupport

/// The test-only crash switch's parsing, and the names of staging folders that let a later
/// drctl remove what a killed one left.
@Suite("crash points and staging names")
struct CrashPointsTests {
    @Test("DRCTL_CRASH_AT accepts known points with an optional count and refuses anything else")
    func parsing() throws {
        _ = try CrashPoints.from(Environment([:]))
        _ = try CrashPoints.from(Environment(["DRCTL_CRASH_AT": "object-fsynced"]))
        _ = try CrashPoints.from(Environment(["DRCTL_CRASH_AT": "prune-mid-delete:3"]))
        let unknown = try #require(throws: DRError.self) {
            try CrashPoints.from(Environment(["DRCTL_CRASH_AT": "object-fsyncd"]))
        }
        #expect(unknown.code == .config && unknown.message.contains("object-fsyncd"))
        #expect(unknown.hint?.contains("object-fsynced") == true)
        #expect(throws: DRError.self) { try CrashPoints.from(Environment(["DRCTL_CRASH_AT": "extract-mid:0"])) }
        #expect(throws: DRError.self) { try CrashPoints.from(Environment(["DRCTL_CRASH_AT": "extract-mid:x"])) }
    }

    @Test("a trace file records every point passed, in order; an unarmed point never kills")
    func trace() throws {
        try withTemporaryDirectory { dir in
            let points = try CrashPoints.from(Environment([
                "DRCTL_CRASH_AT": "restore-step:2", "DRCTL_CRASH_TRACE": "\(dir)/trace",
            ]))
            points.reach(.objectTmpWritten)
            points.reach(.restoreStep)
            points.reach(.manifestWritten)
            let lines = try String(contentsOfFile: "\(dir)/trace", encoding: .utf8).split(separator: "\n")
            #expect(lines == ["object-tmp-written", "restore-step", "manifest-written"])
        }
    }

    @Test("staging folders of dead processes are stale; this process's and foreign names are not")
    func staleness() throws {
        try withTemporaryDirectory { dir in
            let mine = StagingName.sibling(of: "\(dir)/target", purpose: "extract")
            #expect((mine as NSString).lastPathComponent.hasPrefix(".target.extract.drctl-\(getpid())-"))
            #expect(!StagingName.isStale((mine as NSString).lastPathComponent))
            // A pid above the kernel's limit cannot be running.
            let dead = ".target.extract.drctl-99999999-0a1b2c3d"
            #expect(StagingName.isStale(dead))
            #expect(!StagingName.isStale(".target.extract.drctl-extract-0a1b"))
            #expect(!StagingName.isStale("notes.txt"))
            try FileIO.createDirectory("\(dir)/\(dead)/sub")
            _ = chmod("\(dir)/\(dead)/sub", 0o500)
            try FileIO.createDirectory(mine)
            try FileIO.createDirectory("\(dir)/.other.extract.drctl-99999999-0a1b2c3d")
            let removed = StagingName.removeStaleSiblings(of: "\(dir)/target")
            #expect(removed == ["\(dir)/\(dead)"])
            #expect(!FileIO.exists("\(dir)/\(dead)"))
            #expect(FileIO.exists(mine))
            #expect(FileIO.exists("\(dir)/.other.extract.drctl-99999999-0a1b2c3d"))
        }
    }

    @Test("prune's tmp cleanup: old partial writes go, moved-aside objects go back when still named, dead lock temps go")
    func temporaryCleanup() throws {
        try withTemporaryDirectory { dir in
            let repository = try LocalRepository.create(name: "default", root: "\(dir)/repo")
            let kept = try repository.write(type: .data) { emit in
                try Array("still referenced".utf8).withUnsafeBytes { try emit($0) }
            }
            let keptPath = "\(dir)/repo/objects/\(kept.sha256.prefix(2))/\(kept.sha256)"
            // What a prune killed between moving an object aside and deleting it leaves.
            try FileIO.rename(keptPath, to: "\(dir)/repo/tmp/data-\(kept.sha256)-0a1b.gc")
            let garbage = String(repeating: "e", count: 64)
            try FileIO.atomicWrite(Array("gone".utf8), to: "\(dir)/repo/tmp/data-\(garbage)-0a1b.gc")
            try FileIO.atomicWrite(Array("half".utf8), to: "\(dir)/repo/tmp/0123456789ab.partial")
            try FileIO.createDirectory("\(dir)/repo/locks")
            try FileIO.atomicWrite([], to: "\(dir)/repo/locks/.prune-host-1-0a1b2c3d.tmp.drctl-99999999-0a1b2c3d")
            let referenced: (ObjectType, String) -> Bool = { type, sha in type == .data && sha == kept.sha256 }
            let first = repository.cleanTemporaryFiles(writtenBefore: Date(timeIntervalSinceNow: -3600), isReferenced: referenced)
            #expect(first.partialRemoved == 1, "only the dead process's lock temp: \(first)")
            #expect(FileIO.exists("\(dir)/repo/tmp/0123456789ab.partial"), "a recent partial write is left alone")
            #expect(first.restored == [kept.sha256])
            #expect(first.asideRemoved == 1)
            let second = repository.cleanTemporaryFiles(writtenBefore: Date(timeIntervalSinceNow: 60), isReferenced: referenced)
            #expect(second.partialRemoved == 1 && second.asideRemoved == 0 && second.restored.isEmpty)
            #expect(FileIO.size(keptPath) == kept.size)
            #expect(FileIO.list("\(dir)/repo/tmp").isEmpty)
            #expect(FileIO.list("\(dir)/repo/locks").isEmpty)
        }
    }
}
