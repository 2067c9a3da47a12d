import BPFIR
import BPFInstructions
import CBPFSyscall
import Glibc
import KernelTestSupport

// Globals for kernel runs without a loader: one single-entry array map holds every writable
// global of the module at its own offset, filled with the initializers, and a second one, made
// read-only for programs and frozen, holds `.rodata`, as libbpf does, so that the verifier knows
// those bytes (a loop that stops at a const table's zero ends only for a verifier that knows it).
// Each `ld_imm64` that names a global becomes a direct map-value load (src BPF_PSEUDO_MAP_VALUE,
// imm the map fd, the second imm the offset), which is what libbpf makes of a relocation.

/// The maps that stand for a module's data sections while one program is loaded.
final class GlobalsMap {
    /// Where each global's symbol lives: its map and its offset in the map value.
    let places: [String: (fd: Int32, offset: Int)]
    private let fds: [Int32]

    private static let mapCreate: Int32 = 0
    private static let mapUpdateElem: Int32 = 2
    private static let mapFreeze: Int32 = 22
    private static let mapTypeArray: UInt32 = 2
    private static let readOnlyProgram: UInt32 = 1 << 7

    init(_ globals: [GlobalVariable]) throws(KernelError) {
        var places: [String: (fd: Int32, offset: Int)] = [:]
        var fds: [Int32] = []
        do throws(KernelError) {
            for readOnly in [false, true] {
                let members = globals.filter { ($0.section == ".rodata") == readOnly }
                guard !members.isEmpty else { continue }
                var offsets: [String: Int] = [:]
                var size = 0
                for global in members {
                    let alignment = max(global.alignment, 1)
                    size = (size + alignment - 1) / alignment * alignment
                    offsets[global.symbol] = size
                    size += global.size
                }
                var value = [UInt8](repeating: 0, count: max(size, 8))
                for global in members {
                    let start = offsets[global.symbol] ?? 0
                    value.replaceSubrange(start..<start + global.initializer.count, with: global.initializer)
                }
                let fd = try GlobalsMap.map(holding: value, readOnly: readOnly)
                fds.append(fd)
                for (symbol, offset) in offsets { places[symbol] = (fd, offset) }
            }
        } catch {
            for fd in fds { close(fd) }
            throw error
        }
        self.places = places
        self.fds = fds
    }

    deinit { for fd in fds { close(fd) } }

    /// A single-entry array map whose value is `value`; frozen and read-only for programs when
    /// `readOnly`.
    private static func map(holding value: [UInt8], readOnly: Bool) throws(KernelError) -> Int32 {
        var value = value
        var attr = [UInt8](repeating: 0, count: 72)
        attr.withUnsafeMutableBytes { a in
            a.storeBytes(of: GlobalsMap.mapTypeArray, toByteOffset: 0, as: UInt32.self)
            a.storeBytes(of: UInt32(4), toByteOffset: 4, as: UInt32.self)
            a.storeBytes(of: UInt32(value.count), toByteOffset: 8, as: UInt32.self)
            a.storeBytes(of: UInt32(1), toByteOffset: 12, as: UInt32.self)
            a.storeBytes(of: readOnly ? GlobalsMap.readOnlyProgram : 0, toByteOffset: 16, as: UInt32.self)
        }
        let created = attr.withUnsafeMutableBytes { swiftbpf_bpf(GlobalsMap.mapCreate, $0.baseAddress, UInt32($0.count)) }
        guard created >= 0 else { throw .rejected(errno: swiftbpf_errno(), log: "BPF_MAP_CREATE for the globals") }
        let fd = Int32(created)
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
        guard status == 0 else {
            let errno = swiftbpf_errno()
            close(fd)
            throw .rejected(errno: errno, log: "BPF_MAP_UPDATE_ELEM for the globals")
        }
        if readOnly {
            var freeze = [UInt8](repeating: 0, count: 8)
            let frozen = freeze.withUnsafeMutableBytes { a in
                a.storeBytes(of: UInt32(fd), toByteOffset: 0, as: UInt32.self)
                return swiftbpf_bpf(GlobalsMap.mapFreeze, a.baseAddress, UInt32(a.count))
            }
            guard frozen == 0 else {
                let errno = swiftbpf_errno()
                close(fd)
                throw .rejected(errno: errno, log: "BPF_MAP_FREEZE for .rodata")
            }
        }
        return fd
    }

    /// Points the `ld_imm64` at `index` (which names `symbol`) into its map's value.
    func resolve(_ instructions: inout [Instruction], at index: Int, symbol: String) {
        guard let place = places[symbol] else { preconditionFailure("\(symbol) is not a global of the module") }
        let offset = place.offset + Int(instructions[index].imm)
        instructions[index].src = Register(rawValue: Opcode.pseudoMapValue)
        instructions[index].imm = place.fd
        instructions[index + 1].imm = Int32(offset)
    }
}
