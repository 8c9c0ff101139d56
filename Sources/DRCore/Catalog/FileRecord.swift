/// The type of a file-index entry.
public enum FileType: String, Sendable, Codable {
    case regular = "f"
    case directory = "d"
    case symlink = "l"
    /// A hard link to an earlier entry of the same archive (`linkTarget` is its key).
    case hardlink = "h"
    /// Deleted since the parent snapshot.
    case deleted = "x"
}

/// One path of a volume as the file index records it.
public struct FileRecord: Sendable, Equatable {
    /// Path components joined by 0x00 (the volume root is the empty key). See ``PathKey``.
    public var key: [UInt8]
    public var type: FileType
    public var size: Int64
    public var mtimeNs: Int64
    public var ctimeNs: Int64
    public var mode: UInt32
    public var uid: UInt32
    public var gid: UInt32
    /// Symlink target bytes, or the key of a hard link's target.
    public var linkTarget: [UInt8]?
    /// SHA-256 of a regular file's content.
    public var hash: [UInt8]?
    /// The stored SHA-256 of the archive holding this entry's bytes.
    public var object: String?
    /// The entry's position in that archive.
    public var entry: Int64?

    public init(
        key: [UInt8], type: FileType, size: Int64 = 0, mtimeNs: Int64 = 0, ctimeNs: Int64 = 0, mode: UInt32 = 0,
        uid: UInt32 = 0, gid: UInt32 = 0, linkTarget: [UInt8]? = nil, hash: [UInt8]? = nil, object: String? = nil,
        entry: Int64? = nil
    ) {
        self.key = key
        self.type = type
        self.size = size
        self.mtimeNs = mtimeNs
        self.ctimeNs = ctimeNs
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.linkTarget = linkTarget
        self.hash = hash
        self.object = object
        self.entry = entry
    }

    /// The path relative to the volume root, `/`-separated.
    public var path: [UInt8] { PathKey.path(key) }

    /// True when the metadata that decides "unchanged" is equal: type, size, mtime, ctime,
    /// mode, owner, and the link target. Inode numbers are ignored on purpose (a remounted
    /// volume gets new ones).
    public func sameMetadata(as other: FileRecord) -> Bool {
        type == other.type && size == other.size && mtimeNs == other.mtimeNs && ctimeNs == other.ctimeNs
            && mode == other.mode && uid == other.uid && gid == other.gid && linkTarget == other.linkTarget
    }
}

/// Path keys: the components of a relative path joined by 0x00 instead of `/`.
///
/// File names cannot contain 0x00 or `/`, so the mapping is exact, and byte order of keys
/// equals the order of a depth-first walk that visits siblings sorted by name bytes
/// (`a` < `a/b` < `a-c`), which lets change detection merge the walk with the catalog.
public enum PathKey {
    /// `a/b/c` → `a\0b\0c`.
    public static func key(_ path: [UInt8]) -> [UInt8] {
        path.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true)
            .joined(separator: [0]).map { $0 }
    }

    /// `a\0b\0c` → `a/b/c`.
    public static func path(_ key: [UInt8]) -> [UInt8] {
        key.map { $0 == 0 ? UInt8(ascii: "/") : $0 }
    }

    /// A key for display: the path, with bytes that are not valid UTF-8 shown as `\xNN`.
    public static func display(_ key: [UInt8]) -> String {
        let path = path(key)
        if let text = String(validating: path, as: UTF8.self) { return text }
        return path.map { $0 < 0x80 ? String(UnicodeScalar($0)) : "\\x" + String($0, radix: 16, uppercase: true) }.joined()
    }
}

/// The file-index rows a snapshot adds, committed with it.
public struct FileIndexUpdate: Sendable {
    /// Every entry for a full snapshot; changed, new and deleted ones for an incremental.
    public var records: [FileRecord]
    /// True for a full snapshot: the source's current state is replaced, not patched.
    public var replacesState: Bool

    public init(records: [FileRecord], replacesState: Bool) {
        self.records = records
        self.replacesState = replacesState
    }
}
