#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The user-space mapping of a BPF arena map (BPF_MAP_TYPE_ARENA). The kernel only accepts a
/// program that uses an arena once the arena's user address is fixed, so the loader maps it
/// right after creating it, before any program load, and copies `.addr_space.1` to its start
/// (offset 0, where libbpf puts arena globals on kernels before 7.0). Unmapped on release.
final class ArenaMapping {
    /// Where the `.addr_space.1` globals start in the mapping.
    static let dataOffset = 0

    let address: UnsafeMutableRawPointer
    let length: Int

    init(map: FileDescriptor, pages: UInt32, fixedAddress: UInt64, initialData: [UInt8]) throws(LoadError) {
        length = Int(pages) * Int(sysconf(Int32(_SC_PAGESIZE)))
        guard Self.dataOffset + initialData.count <= length else {
            throw .badMap(name: ".addr_space.1", reason: "\(initialData.count) bytes of arena globals exceed the arena")
        }
        let flags = MAP_SHARED | (fixedAddress != 0 ? MAP_FIXED : 0)
        let hint = UnsafeMutableRawPointer(bitPattern: UInt(fixedAddress))
        guard let mapped = mmap(hint, length, PROT_READ | PROT_WRITE, flags, map.raw, 0), mapped != MAP_FAILED else {
            throw .badMap(name: "arena", reason: "mmap of \(length) bytes failed (errno \(errno))")
        }
        address = mapped
        UnsafeMutableRawBufferPointer(start: mapped + Self.dataOffset, count: length - Self.dataOffset).copyBytes(from: initialData)
    }

    deinit {
        munmap(address, length)
    }
}
