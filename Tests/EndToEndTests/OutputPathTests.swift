// `-o PATH` writes where the path leads and leaves the path what it was: a symbolic link stays a
// link (its target gets the object), a FIFO and a character device are written in place (renaming
// a temporary file over them once turned /dev/null into a regular file), `-` is standard output.
import Foundation
import Glibc
import Testing

@Suite("Where -o writes")
struct OutputPathTests {
    /// The first four bytes of every ELF file.
    static let elfMagic: [UInt8] = [0x7f, 0x45, 0x4c, 0x46]

    /// A tiny program in the work directory, compiled with `-o output`.
    private func compile(to output: String, in directory: URL) async throws -> ProcessResult {
        let source = directory.appendingPathComponent("prog.c")
        try "int x;\n__attribute__((section(\"syscall\"), used)) int prog(void *ctx) { return x; }\n"
            .write(to: source, atomically: true, encoding: .utf8)
        return try await runProcess(try await Tools.ours("swiftbpfcc"), ["-O2", source.path, "-o", output],
                                    in: directory)
    }

    /// What `lstat` says the path is: S_IFREG, S_IFLNK, S_IFCHR, S_IFIFO...
    private func fileType(_ path: String) -> mode_t? {
        var status = stat()
        return lstat(path, &status) == 0 ? status.st_mode & S_IFMT : nil
    }

    private func prefix(of path: String) -> [UInt8] {
        Array(((try? Data(contentsOf: URL(fileURLWithPath: path))) ?? Data()).prefix(4))
    }

    @Test func regularFilesAreCreatedAndReplaced() async throws {
        let directory = try Paths.workDirectory("output/regular")
        let object = directory.appendingPathComponent("prog.o").path
        let first = try await compile(to: object, in: directory)
        #expect(first.status == 0, "\(first.transcript)")
        #expect(prefix(of: object) == Self.elfMagic)
        try Data("old".utf8).write(to: URL(fileURLWithPath: object))
        let second = try await compile(to: object, in: directory)
        #expect(second.status == 0, "\(second.transcript)")
        #expect(fileType(object) == S_IFREG)
        #expect(prefix(of: object) == Self.elfMagic)
    }

    @Test func symbolicLinksAreWrittenThrough() async throws {
        let directory = try Paths.workDirectory("output/symlink")
        let target = directory.appendingPathComponent("real.o").path
        let link = directory.appendingPathComponent("link.o").path
        try Data("old".utf8).write(to: URL(fileURLWithPath: target))
        try #require(symlink("real.o", link) == 0)
        let result = try await compile(to: link, in: directory)
        #expect(result.status == 0, "\(result.transcript)")
        #expect(fileType(link) == S_IFLNK, "the link itself must stay a link")
        #expect(prefix(of: target) == Self.elfMagic, "the link's target must hold the object")

        // A link whose target does not exist yet: the object is created there.
        let dangling = directory.appendingPathComponent("dangling.o").path
        try #require(symlink("created.o", dangling) == 0)
        let second = try await compile(to: dangling, in: directory)
        #expect(second.status == 0, "\(second.transcript)")
        #expect(fileType(dangling) == S_IFLNK)
        #expect(prefix(of: directory.appendingPathComponent("created.o").path) == Self.elfMagic)
    }

    @Test func fifosAreWrittenInPlace() async throws {
        let directory = try Paths.workDirectory("output/fifo")
        let fifo = directory.appendingPathComponent("pipe").path
        try #require(mkfifo(fifo, 0o600) == 0)
        // A reader opened first (non-blocking, so that a compiler that never opens the FIFO cannot
        // hang the test) lets the compiler's open succeed; a small object fits in the pipe's buffer.
        let reader = open(fifo, O_RDONLY | O_NONBLOCK)
        try #require(reader >= 0)
        defer { close(reader) }
        let result = try await compile(to: fifo, in: directory)
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while case let count = read(reader, &buffer, buffer.count), count > 0 {
            received += buffer.prefix(count)
        }
        #expect(result.status == 0, "\(result.transcript)")
        #expect(Array(received.prefix(4)) == Self.elfMagic, "the reader got \(received.count) bytes")
        #expect(fileType(fifo) == S_IFIFO, "the FIFO must stay a FIFO")
    }

    /// A null device of our own (made with mknod, which needs root), so that a regression cannot
    /// destroy the machine's /dev/null; without root, /dev/null itself, which must stay a device.
    @Test func characterDevicesStayDevices() async throws {
        let directory = try Paths.workDirectory("output/device")
        var device = directory.appendingPathComponent("null").path
        // Device 1:3 (null); glibc's makedev is a macro Swift cannot call, and for numbers this small
        // it is major << 8 | minor.
        if mknod(device, S_IFCHR | 0o666, dev_t(1 << 8 | 3)) != 0 { device = "/dev/null" }
        let result = try await compile(to: device, in: directory)
        #expect(result.status == 0, "\(result.transcript)")
        #expect(fileType(device) == S_IFCHR, "\(device) must stay a character device")
    }

    @Test func dashIsStandardOutput() async throws {
        let directory = try Paths.workDirectory("output/stdout")
        let result = try await compile(to: "-", in: directory)
        #expect(result.status == 0, "\(result.transcript)")
        #expect(Array(result.stdout.utf8.prefix(4)) == Self.elfMagic)
        #expect(fileType(directory.appendingPathComponent("-").path) == nil, "no file named '-'")
    }

    @Test func aDirectoryIsAnError() async throws {
        let directory = try Paths.workDirectory("output/directory")
        let result = try await compile(to: directory.path, in: directory)
        #expect(result.status == 1)
        #expect(result.stderr.contains("cannot write '\(directory.path)'"), "\(result.transcript)")
    }
}
