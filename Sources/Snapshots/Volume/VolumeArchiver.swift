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
        /// Length of the uncompressed tar stream.
        var tarBytes: Int64
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
        var tarBytes: Int64 = 0
        let volumeBytes = Array(volume.utf8)
        let object = try workspace.codec.write(type: .data) { emit in
            try withoutActuallyEscaping(emit) { emit in
                let writer = try TarZstdWriter(sink: emit)
                var done: Int64 = 0
                for (index, entry) in entries.enumerated() {
                    var hasher = SHA256()
                    let isRegular = entry.record.type == .regular
                    do {
                        var record = try writer.addEntry(
                            from: volumeBytes + [UInt8(ascii: "/")] + entry.path, as: entry.path,
                            observe: isRegular ? { hasher.update(bufferPointer: $0) } : nil)
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
                tarBytes = writer.tarBytes
            }
        }
        guard torn.isEmpty else {
            throw DRError(
                .failed,
                "source \(source): \(torn.count) file(s) changed while being read, so this snapshot was abandoned rather than stored torn: \(torn.prefix(5).joined(separator: ", "))",
                hint: "quiesce writers with a pre-hook (e.g. a database dump), or exclude files that are always being written")
        }
        for index in records.indices { records[index].object = object.stored.sha256 }
        return Archived(object: object, records: records, vanished: vanished, tarBytes: tarBytes)
    }

    /// Reads the stored archive back and checks it end to end: the stored bytes' SHA-256
    /// (the object's name), age authentication of every chunk, and a full zstd decode
    /// whose frame checksum covers the exact tar stream written (`tarBytes` long). The
    /// tar stream is libarchive's output for the indexed entries, so a match proves the
    /// stored object restores them; content hashes were taken from the same reads.
    static func verify(_ object: EncodedObject, tarBytes: Int64, in workspace: Workspace) throws -> String {
        let what = "the stored archive \(object.stored.sha256)"
        let decoded = try ZstdDecoder.decode(try workspace.codec.open(object), what: what) { _ in true }
        guard decoded == tarBytes else {
            throw DRError(.dataCorrupt, "\(what) decodes to \(decoded) bytes; \(tarBytes) were written")
        }
        return "ok: stored archive read back (SHA-256 matches)" + (object.encryption == .age ? ", decrypted" : "")
            + ", \(decoded) bytes of tar decoded with a matching zstd checksum"
    }
}
