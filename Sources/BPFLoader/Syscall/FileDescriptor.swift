#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// An open file descriptor returned by bpf() (a map, a program, a BTF object). It closes itself
/// when the last reference goes away, so every fd is closed on every path, errors included.
public final class FileDescriptor: Sendable {
    public let raw: Int32

    init(_ raw: Int32) {
        precondition(raw >= 0, "a FileDescriptor owns a valid fd")
        self.raw = raw
    }

    deinit {
        close(raw)
    }
}

/// A heap copy of bytes at a fixed address, for the pointers that bpf() attrs carry (instruction
/// arrays, log buffers, keys and values). It lives as long as the object and frees itself.
final class PinnedBuffer {
    let pointer: UnsafeMutableRawBufferPointer

    init(_ bytes: [UInt8]) {
        pointer = .allocate(byteCount: max(bytes.count, 1), alignment: 8)
        pointer.initializeMemory(as: UInt8.self, repeating: 0)
        pointer.copyBytes(from: bytes)
    }

    init(zeroed count: Int) {
        pointer = .allocate(byteCount: max(count, 1), alignment: 8)
        pointer.initializeMemory(as: UInt8.self, repeating: 0)
    }

    deinit {
        pointer.deallocate()
    }

    var address: UInt64 { UInt64(UInt(bitPattern: pointer.baseAddress)) }

    func bytes(count: Int) -> [UInt8] {
        Array(pointer.prefix(count))
    }
}
