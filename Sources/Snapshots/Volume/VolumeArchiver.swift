import DRCore
import Foundation

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

    /// Archives `entries` (in key order) into one object: pax tar → zstd → age → repository,
    /// hashing every regular file's content with `contentHash`.
    static func archive(
        _ entries: [WalkEntry], volume: String, source: String, totalBytes: Int64, contentHash: ContentHash,
        options: BackupOptions, in workspace: Workspace
    ) throws -> Archived {
        var records: [FileRecord] = []
        records.reserveCapacity(entries.count)
        var vanished: [[UInt8]] = []
        var torn: [String] = []
        var tarBytes: Int64 = 0
        let volumeBytes = Array(volume.utf8)
        // Three stages on their own threads: this one reads, hashes and tars (zstd's workers
        // compress); `store` encrypts, hashes and writes; `check` decrypts and decodes the
        // stored bytes as they are written (or, with no identity to decrypt, decodes the
        // compressed stream), so verification needs no second pass over the data.
        let codec = workspace.codec
        let what = "the new archive of \(source)"
        let checkStored = !codec.encrypts || codec.canDecrypt
        let encryption: ObjectEncryption = codec.encrypts ? .age : .none
        let check = BackgroundSink<[UInt8], Int64>(capacity: 2) { next in
            try withoutActuallyEscaping(next) { next in
                let stream = try checkStored
                    ? codec.decrypting(ChunkStream(next), encryption: encryption, what: what) : ChunkStream(next)
                return try ZstdDecoder.decode(stream, what: what) { _ in true }
            }
        }
        let store = BackgroundSink<[UInt8], EncodedObject>(capacity: 4) { next in
            try codec.write(type: .data, observeStored: checkStored ? { try check.put(Array($0)) } : nil) { emit in
                while let chunk = try next() { try chunk.withUnsafeBytes { try emit($0) } }
            }
        }
        let decoded: Int64
        let object: EncodedObject
        do {
            let writer = try TarZstdWriter { bytes in
                let chunk = Array(bytes)
                try store.put(chunk)
                if !checkStored { try check.put(chunk) }
            }
            var done: Int64 = 0
            for (index, entry) in entries.enumerated() {
                var hasher = contentHash.hasher()
                let isRegular = entry.record.type == .regular
                do {
                    var record = try writer.addEntry(
                        from: volumeBytes + [UInt8(ascii: "/")] + entry.path, as: entry.path,
                        observe: isRegular ? { hasher.update(bufferPointer: $0) } : nil)
                    if record.type == .regular { record.hash = hasher.finalize() }
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
            object = try store.finish()
            decoded = try check.finish()
        } catch {
            store.abandon()
            check.abandon()
            throw error
        }
        guard decoded == tarBytes else {
            throw DRError(.dataCorrupt, "\(what) decodes to \(decoded) bytes; \(tarBytes) were written")
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

    /// Checks the stored archive after writing. Its stored bytes were decrypted (age
    /// authenticates every chunk) and decoded, zstd frame checksum included, while they
    /// were written (`archive`), and decoded to exactly the `tarBytes` of tar written: the
    /// tar stream is libarchive's output for the indexed entries, so the object restores
    /// them; content hashes were taken from the same reads. Here the object must be in the
    /// repository under its name with the size written (it was fsynced before the rename).
    /// A full re-read from storage is `drctl verify --read-data`'s job.
    static func verify(_ object: EncodedObject, tarBytes: Int64, in workspace: Workspace) throws -> String {
        let size = workspace.store.size(of: object.stored.type, sha256: object.stored.sha256)
        guard size == object.stored.size else {
            throw DRError(.dataCorrupt, "the stored archive \(object.stored.sha256) is \(size.map(String.init) ?? "missing") bytes in the repository; \(object.stored.size) were written")
        }
        let decrypted = object.encryption == .age && workspace.codec.canDecrypt
        return "ok: " + (decrypted ? "stored bytes decrypted and " : object.encryption == .age ? "compressed stream (no identity configured to decrypt) " : "stored bytes ")
            + "decoded while writing: \(tarBytes) bytes of tar with a matching zstd checksum; object durable at its SHA-256 name"
    }
}
