public import DRCore

/// A failure while writing or reading a volume archive.
public struct VolumeArchiveError: Error, Sendable, CustomStringConvertible, DRErrorConvertible {
    public enum Code: String, Sendable {
        /// A file's size, mtime or ctime changed while it was being archived.
        case fileChangedDuringRead
        /// A path disappeared between the walk and archiving.
        case vanished
        /// The archive's bytes are not a valid zstd-compressed tar stream.
        case corruptArchive
        /// An entry would write outside the target, through a symlink, or is a device/FIFO/socket.
        case unsafeEntry
        case io
        case libarchive
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }

    public var drError: DRError {
        switch code {
        case .corruptArchive: DRError(.dataCorrupt, message)
        case .unsafeEntry: DRError(.refused, message)
        case .io, .vanished: DRError(.io, message)
        case .fileChangedDuringRead, .libarchive: DRError(.failed, message)
        }
    }
}
