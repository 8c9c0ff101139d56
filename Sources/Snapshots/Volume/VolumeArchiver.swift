import DRCore
import Foundation
internal import Crypto

/// Writes the archive of a volume snapshot and reads it back to verify it.
enum VolumeArchiver {
    struct Archived {
        var object: EncodedObject
        /// One record per archived entry, with content hash, object and entry number.
        var records: [FileRecord]
        /// Keys of entries that disappeared between the walk and archiving.
        var vanished: [[UInt8]]
    }

    /// Archives `entries` (in key order) into one object: pax tar → zstd → age → repository.
    static func archive(
        _ entries: [WalkEntry], volume: String, source: String, totalBytes: Int64, options: BackupOptions,
        in workspace: Workspace
    ) throws -> Archived {
        var records: [FileRecord] = []
        records.reserveCapacity(entries.count)
        var vanished: [[UInt8]] = []
        var torn: [String] = []
        let volumeBytes = Array(volume.utf8)
        let object = try workspace.codec.write(type: .data) { emit in
            try withoutActuallyEscaping(emit) { emit in
                let writer = try TarZstdWriter(sink: emit)
                var done: Int64 = 0
                for (index, entry) in entries.enumerated() {
                    var hasher = SHA256()
                    let isRegular = entry.record.type == .regular
                    do {
                        let info = try writer.addEntry(
                            from: volumeBytes + [UInt8(ascii: "/")] + entry.path, as: entry.path,
                            observe: isRegular ? { hasher.update(bufferPointer: $0) } : nil)
                        var record = info.record(key: entry.record.key)
                        if record.type == .regular { record.hash = Array(hasher.finalize()) }
                        record.entry = Int64(records.count)
                        records.append(record)
                    } catch let error as VolumeArchiveError where error.code == .fileChangedDuringRead {
                        torn.append(PathKey.display(entry.path))
                    } catch let error as VolumeArchiveError where error.code == .vanished {
                        vanished.append(entry.record.key)
                    }
                    done += entry.record.size
                    options.progress?(BackupOptions.Progress(
                        source: source, files: Int64(index + 1), totalFiles: Int64(entries.count), bytes: done,
                        totalBytes: totalBytes))
                }
                try writer.finish()
            }
        }
        guard torn.isEmpty else {
            throw DRError(
                .failed,
                "source \(source): \(torn.count) file(s) changed while being read, so this snapshot was abandoned rather than stored torn: \(torn.prefix(5).joined(separator: ", "))",
                hint: "quiesce writers with a pre-hook (e.g. a database dump), or exclude files that are always being written")
        }
        for index in records.indices { records[index].object = object.stored.sha256 }
        return Archived(object: object, records: records, vanished: vanished)
    }

    /// Reads the stored archive back (hash check, decryption, decompression) and checks
    /// that its entries are exactly the indexed ones, with matching content hashes.
    static func verify(_ object: EncodedObject, records: [FileRecord], in workspace: Workspace) throws -> String {
        var expected: [[UInt8]: FileRecord] = [:]
        for record in records where record.entry != nil && record.object == object.stored.sha256 {
            expected[record.path] = record
        }
        var seen = 0
        let stream = try workspace.codec.open(object)
        try ArchiveReader.forEach(stream) { entry, readContent in
            guard let record = expected[entry.path] else {
                throw DRError(.dataCorrupt, "the stored archive \(object.stored.sha256) holds an entry the index does not: \(PathKey.display(entry.path))")
            }
            seen += 1
            guard entry.type == record.type || (entry.type == .regular && record.type == .regular) else {
                throw DRError(.dataCorrupt, "the stored archive's entry \(PathKey.display(entry.path)) has the wrong type")
            }
            if record.type == .regular {
                var hasher = SHA256()
                try readContent { hasher.update(bufferPointer: $0) }
                guard Array(hasher.finalize()) == record.hash else {
                    throw DRError(.dataCorrupt, "the stored archive's content of \(PathKey.display(entry.path)) does not match the hash taken while archiving")
                }
            }
        }
        guard seen == expected.count else {
            throw DRError(.dataCorrupt, "the stored archive \(object.stored.sha256) has \(seen) entries; the index expects \(expected.count)")
        }
        return "ok: stored archive read back" + (object.encryption == .age ? ", decrypted" : "")
            + ", \(seen) entries and their content hashes match the index"
    }
}
