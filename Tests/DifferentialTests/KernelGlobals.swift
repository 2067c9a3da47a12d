import BPFIR
import BPFInstructions
import CBPFSyscall
import Glibc
import KernelTestSupport

// Globals for kernel runs without a loader: one single-entry array map holds every global of the
// module at its own offset, filled with the initializers, and each `ld_imm64` that names a global
// becomes a direct map-value load (src BPF_PSEUDO_MAP_VALUE, imm the map fd, the second imm the
// offset), which is what libbpf makes of a `.data`/`.bss`/`.rodata` relocation.

/// The map that stands for a module's data sections while one program is loaded.
final class GlobalsMap {
    let fd: Int32
    /// Where each global's symbol lives in the map value.
    let offsets: [String: Int]

    private static let mapCreate: Int32 = 0
    private static let mapUpdateElem: Int32 = 2
    private static let mapTypeArray: UInt32 = 2

    init(_ globals: [GlobalVariable]) throws(KernelError) {
        var offsets: [String: Int] = [:]
        var size = 0
        for global in globals {
            let alignment = max(global.alignment, 1)
            size = (size + alignment - 1) / alignment * alignment
            offsets[global.symbol] = size
            size += global.size
        }
        var value = [UInt8](repeating: 0, count: max(size, 8))
        for global in globals {
            let start = offsets[global.symbol] ?? 0
            value.replaceSubrange(start..<start + global.initializer.count, with: global.initializer)
        }
        var attr = [UInt8](repeating: 0, count: 72)
        attr.withUnsafeMutableBytes { a in
            a.storeBytes(of: GlobalsMap.mapTypeArray, toByteOffset: 0, as: UInt32.self)
            a.storeBytes(of: UInt32(4), toByteOffset: 4, as: UInt32.self)
            a.storeBytes(of: UInt32(value.count), toByteOffset: 8, as: UInt32.self)
            a.storeBytes(of: UInt32(1), toByteOffset: 12, as: UInt32.self)
        }
        let fd = attr.withUnsafeMutableBytes { swiftbpf_bpf(GlobalsMap.mapCreate, $0.baseAddress, UInt32($0.count)) }
        guard fd >= 0 else { throw .rejected(errno: swiftbpf_errno(), log: "BPF_MAP_CREATE for the globals") }
        self.fd = Int32(fd)
        self.offsets = offsets
        var key: UInt32 = 0
        var update = [UInt8](repeating: 0, count: 32)
        let status = withUnsafeMutableBytes(of: &key) { key in
            value.withUnsafeMutableBytes { value in
                update.withUnsafeMutableBytes { a in
                    a.storeBytes(of: UInt32(fd), toByteOffset: 0, as: UInt32.self)
                    a.storeBytes(of: UInt64(UInt(bitPattern: key.baseAddress)), toByteOffset: 8, as: UInt64.self)
                    a.storeBytes(of: UInt64(UInt(bitPattern: value.baseAddress)), toByteOffset: 16, as: UInt64.self)
                    return swiftbpf_bpf(GlobalsMap.mapUpdateElem, a.baseAddress, UInt32(a.count))
                }
            }
        }
        guard status == 0 else { throw .rejected(errno: swiftbpf_errno(), log: "BPF_MAP_UPDATE_ELEM for the globals") }
    }

    deinit { close(fd) }

    /// Points the `ld_imm64` at `index` (which names `symbol`) into the map value.
    func resolve(_ instructions: inout [Instruction], at index: Int, symbol: String) {
        let offset = (offsets[symbol] ?? 0) + Int(instructions[index].imm)
        instructions[index].src = Register(rawValue: Opcode.pseudoMapValue)
        instructions[index].imm = fd
        instructions[index + 1].imm = Int32(offset)
    }
}
