import BPFDiagnostics
import Foundation
import Glibc

/// Writes the compiler's output where `-o` says, without destroying what the path names.
///
/// `-` is standard output. A regular file (or a new one) is replaced atomically: the bytes go to
/// a temporary file in the same directory, renamed over the target, so a failed compile never
/// leaves half an object behind. A symbolic link is followed and its target replaced, not the link
/// itself. A device or a FIFO (`-o /dev/null`, a pipe to another tool) is opened and written in
/// place: renaming over it would turn /dev/null into a regular file.
public func writeOutput(_ bytes: [UInt8], to path: String) throws(DiagnosticList) {
    if path == "-" {
        FileHandle.standardOutput.write(Data(bytes))
        return
    }
    var status = stat()
    if stat(path, &status) != 0 {
        let missing = errno
        var link = stat()
        if missing == ENOENT && lstat(path, &link) == 0 {
            // A dangling symbolic link: writing through it creates its target, as clang does.
            try writeInPlace(bytes, to: path, creating: true)
            return
        }
        guard missing == ENOENT else { throw cannotWrite(path, errno: missing) }
        try replaceAtomically(bytes, at: path)
        return
    }
    switch status.st_mode & S_IFMT {
    case S_IFREG:
        // realpath follows every link in the chain, so the rename lands next to the real file.
        guard let resolved = realpath(path, nil) else { throw cannotWrite(path, errno: errno) }
        defer { free(resolved) }
        try replaceAtomically(bytes, at: String(cString: resolved))
    case S_IFDIR:
        throw cannotWrite(path, errno: EISDIR)
    default:
        try writeInPlace(bytes, to: path, creating: false)
    }
}

private func replaceAtomically(_ bytes: [UInt8], at path: String) throws(DiagnosticList) {
    do {
        try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
    } catch {
        throw DiagnosticList([.error("cannot write '\(path)': \(error.localizedDescription)", at: nil)])
    }
}

/// Opens `path` for writing (following links) and writes every byte, however the device splits them.
private func writeInPlace(_ bytes: [UInt8], to path: String, creating: Bool) throws(DiagnosticList) {
    let flags = O_WRONLY | O_CLOEXEC | (creating ? O_CREAT | O_TRUNC : 0)
    let descriptor = open(path, flags, 0o666)
    guard descriptor >= 0 else { throw cannotWrite(path, errno: errno) }
    defer { close(descriptor) }
    var written = 0
    while written < bytes.count {
        let count = bytes.withUnsafeBytes { buffer in
            write(descriptor, buffer.baseAddress! + written, buffer.count - written)
        }
        if count < 0 && errno == EINTR { continue }
        guard count > 0 else { throw cannotWrite(path, errno: errno) }
        written += count
    }
}

private func cannotWrite(_ path: String, errno code: Int32) -> DiagnosticList {
    DiagnosticList([.error("cannot write '\(path)': \(String(cString: strerror(code)))", at: nil)])
}
