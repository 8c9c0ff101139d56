import DRCore
import Foundation

/// An independent description of a directory tree (made by Python, not by drctl's own
/// walker): one line per entry with name bytes, type, mode, mtime in ns, size, content
/// hash, symlink target and hard-link group. Two trees are identical when their
/// manifests are equal.
public func treeManifest(_ root: String, excluding: [String] = []) throws -> [String] {
    let script = #"""
import hashlib, os, sys
root = os.fsencode(sys.argv[1]); skip = [os.fsencode(x) for x in sys.argv[2:]]
inodes = {}
rows = []
for d, dirs, files in os.walk(root):
    dirs.sort(); files.sort()
    for n in dirs + files:
        p = os.path.join(d, n); rel = os.path.relpath(p, root)
        if any(rel == s or rel.startswith(s + b"/") for s in skip): continue
        st = os.lstat(p)
        if os.path.islink(p): kind, extra = "l", os.readlink(p).hex()
        elif os.path.isdir(p): kind, extra = "d", ""
        else:
            kind = "f"; extra = hashlib.sha256(open(p, "rb").read()).hexdigest()
            if st.st_nlink > 1: inodes.setdefault((st.st_dev, st.st_ino), []).append(rel.hex())
        size = st.st_size if kind == "f" else 0
        rows.append([rel.hex(), kind, oct(st.st_mode & 0o7777), str(st.st_mtime_ns), str(size), extra, (st.st_dev, st.st_ino) if kind == "f" and st.st_nlink > 1 else None])
groups = {k: ",".join(sorted(v)) for k, v in inodes.items()}
for r in rows:
    r[6] = "links=" + groups[r[6]] if r[6] else ""
    print(" ".join(r))
"""#
    let python = try Environment.current.require("python3", purpose: "describe trees in tests")
    var command = Command(python, ["-c", script, root] + excluding)
    command.timeout = .seconds(300)
    let result = try command.run()
    guard result.succeeded else { throw DRError(.failed, "tree manifest of \(root) failed: \(result.stderr)") }
    return result.stdoutText.split(separator: "\n").map(String.init)
}

/// The deterministic corpus generator shared with the benchmarks (`../shared/bench/make-corpus`).
public func makeCorpus(_ arguments: [String]) throws {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let script = root.deletingLastPathComponent().appendingPathComponent("shared/bench/make-corpus").path
    guard FileManager.default.fileExists(atPath: script) else {
        throw DRError(.notFound, "make-corpus not found at \(script) (shared/ must sit beside the checkout)")
    }
    let python = try Environment.current.require("python3", purpose: "generate corpora in tests")
    var command = Command(python, [script] + arguments)
    command.timeout = .seconds(600)
    let result = try command.run()
    guard result.succeeded else { throw DRError(.failed, "make-corpus \(arguments) failed: \(result.stderr)") }
}

/// Creates a file whose name is raw bytes (invalid UTF-8 and newlines allowed).
public func writeFile(named name: [UInt8], in directory: String, contents: [UInt8], mode: UInt32 = 0o644) throws {
    let path = Array(directory.utf8) + [UInt8(ascii: "/")] + name
    let fd = withCPath(path) { open($0, O_WRONLY | O_CREAT | O_EXCL, mode_t(mode)) }
    guard fd >= 0 else { throw DRError(.io, "cannot create \(PathKey.display(path))") }
    defer { close(fd) }
    _ = contents.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
}
