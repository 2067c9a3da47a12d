import Foundation
import Testing
import BPFInstructions
import BPFObject
import BTF
import ToolTestSupport
@testable import BPFLoader

/// CO-RE relocations as records (read back as llvm-objdump prints clang's), as instruction
/// patches, and resolved against kernel BTF laid out in a directory like /sys/kernel/btf.
/// Tests/EndToEndTests/CORERelocationTests.swift runs relocated programs in the kernel.
@Suite struct CORERelocationTests {
    static let source = Programs.prelude + """
        struct task_struct___mine { int pad; int tgid; char comm[16]; } __attribute__((preserve_access_index));
        enum pid_type___mine { PIDTYPE_SID___mine = 3 };
        long out[6];
        SEC("syscall") int entry(void *ctx) {
            struct task_struct___mine *t = 0;
            out[0] = __builtin_preserve_field_info(t->tgid, 0);
            out[1] = __builtin_preserve_field_info(t->comm[2], 0);
            out[2] = __builtin_preserve_field_info(t->pad, 2);
            out[3] = __builtin_preserve_type_info(*t, 1);
            out[4] = __builtin_preserve_enum_value(*(enum pid_type___mine *)PIDTYPE_SID___mine, 1);
            out[5] = __builtin_btf_type_id(*t, 1);
            return 0;
        }
        """

    /// Every core_relo record, with the instruction, kind, root type and access string that
    /// llvm-objdump-19 prints for it (`CO-RE <byte_off> [5] struct task_struct___mine::tgid (0:1)`).
    @Test func readsRelocationsAsLLVMObjdumpPrintsThem() throws {
        let path = try Toolchain.compileClang(Self.source, name: "core_records")
        let object = try readObject(Array(try Data(contentsOf: path)))
        let section = try #require(object.codeSections.first { $0.name == "syscall" })
        let dump = try Toolchain.run("llvm-objdump-19", ["-dr", path.path])
        let printed = dump.split(separator: "\n").filter { $0.contains("CO-RE <") }.map { line in
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            let offset = Int(fields[0].dropLast(), radix: 16) ?? -1
            let access = line.hasSuffix(")") ? line.lastIndex(of: "(").map { String(line[$0...].dropFirst().dropLast()) } ?? "" : "0"
            return "\(offset / 8) \(fields[2]) \(fields[3]) \(access)"
        }
        let read = section.coreRelocations.map { relocation in
            let access = relocation.kind.isEnumeratorBased ? "0" : relocation.accessString
            return "\(relocation.instructionIndex) <\(relocation.kind.spelling)> [\(relocation.type.rawValue)] \(access)"
        }
        #expect(printed.count == 6)
        #expect(read == printed)
    }

    @Test func essentialNamesDropTheLastFlavor() {
        #expect(essentialName("task_struct___v2") == "task_struct")
        #expect(essentialName("a___b___c") == "a___b")
        #expect(essentialName("task_struct") == "task_struct")
        // A flavor needs a character other than an underscore on both sides of the `___`.
        #expect(essentialName("x____y") == "x____y")
        #expect(essentialName("foo___") == "foo___")
        #expect(essentialName("___foo") == "___foo")
    }

    /// An ALU immediate, a load's offset and size, an ld_imm64's two halves; a poisoned ld_imm64
    /// loses both slots; an instruction that does not hold the value the object's types give is
    /// refused.
    @Test func patchesImmediatesOffsetsAndSizes() throws {
        let mov = Instruction(opcode: Opcode.classALU64 | Opcode.mov, dst: .r1, imm: 4)
        var code = [mov]
        #expect(try patch(&code, at: 0, with: COREResult(original: 4, new: 1268)) == nil)
        #expect(code[0].imm == 1268)

        // A u64 field that is a u32 in the kernel: the load narrows, zero-extending as before.
        var load = [Instruction(opcode: Opcode.classLDX | Opcode.modeMEM | Opcode.sizeDW, dst: .r1, src: .r0, offset: 8)]
        _ = try patch(&load, at: 0, with: COREResult(original: 8, new: 40, originalSize: 8, newSize: 4))
        #expect(load[0] == Instruction(opcode: Opcode.classLDX | Opcode.modeMEM | Opcode.sizeW, dst: .r1, src: .r0, offset: 40))

        let wide = [Instruction(opcode: Opcode.ldImm64, dst: .r2, imm: 1), Instruction(opcode: 0)]
        var constant = wide
        _ = try patch(&constant, at: 0, with: COREResult(original: 1, new: 0x1_0000_0002))
        #expect(constant.map(\.imm) == [2, 1])

        var poisoned = wide
        #expect(try patch(&poisoned, at: 0, with: COREResult(original: 1, poison: "absent")) == "absent")
        #expect(poisoned == Array(repeating: Instruction(opcode: Opcode.classJMP | Opcode.call, imm: 0xbad2310), count: 2))

        var signed = load
        #expect(try patch(&signed, at: 0, with: COREResult(original: 40, new: 8, originalSize: 4, newSize: 8, sizeMismatch: "signed")) == "signed")
        #expect(signed[0].imm == 0xbad2310)

        var stale = [mov]
        #expect(throws: COREError.self) { try patch(&stale, at: 0, with: COREResult(original: 8, new: 12)) }
        var register = [Instruction(opcode: Opcode.classALU64 | Opcode.add | Opcode.sourceX, dst: .r1, src: .r2)]
        #expect(throws: COREError.self) { try patch(&register, at: 0, with: COREResult(original: 0, new: 12)) }
    }

    // MARK: Kernel BTF in a directory

    /// vmlinux: [1] int, [2] struct shared { int x; int y; }.
    static let vmlinux: BTFSpec = {
        var spec = BTFSpec()
        let int = spec.add(.int(name: "int", size: 4, encoding: .signed))
        spec.add(.structure(name: "shared", size: 8, members: [
            .init(name: "x", type: int, bitOffset: 0), .init(name: "y", type: int, bitOffset: 32),
        ]))
        return spec
    }()

    /// A module's split BTF on `base`: [3] struct mod_thing { int a; int b; }, [4] struct shared
    /// { int y; }, naming vmlinux's int and continuing its strings.
    static func moduleBTF(base: [UInt8]) -> [UInt8] {
        let baseStrings = UInt32(base[20]) | UInt32(base[21]) << 8 | UInt32(base[22]) << 16 | UInt32(base[23]) << 24
        let strings = Array("\0mod_thing\0a\0b\0shared\0y\0".utf8)
        func name(_ text: String) -> UInt32 {
            let bytes = Array(text.utf8) + [0]
            let start = (0...(strings.count - bytes.count)).first { strings[$0..<$0 + bytes.count].elementsEqual(bytes) }!
            return baseStrings + UInt32(start)
        }
        var types = ByteWriter()
        func structure(_ structName: String, size: UInt32, _ members: [(String, UInt32)]) {
            types.append(name(structName))
            types.append(UInt32(4) << 24 | UInt32(members.count))
            types.append(size)
            for (memberName, bitOffset) in members {
                types.append(name(memberName))
                types.append(UInt32(1))
                types.append(bitOffset)
            }
        }
        structure("mod_thing", size: 8, [("a", 0), ("b", 32)])
        structure("shared", size: 4, [("y", 0)])
        var blob = ByteWriter()
        blob.append(BTFWire.magic)
        blob.append(BTFWire.version)
        blob.append(UInt8(0))
        blob.append(BTFWire.headerLength)
        blob.append(UInt32(0))
        blob.append(UInt32(types.count))
        blob.append(UInt32(types.count))
        blob.append(UInt32(strings.count))
        blob.append(bytes: types.bytes)
        blob.append(bytes: strings)
        return blob.bytes
    }

    /// A type vmlinux lacks is found in module BTF (decoded on vmlinux's, ids after its ids); a
    /// type vmlinux has is taken from vmlinux alone, as libbpf does.
    @Test func moduleBTFIsSearchedWhenVmlinuxLacksTheType() throws {
        let directory = Toolchain.directory.appendingPathComponent("kernel_btf")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let base = BTFEncoder(Self.vmlinux).btf
        try Data(base).write(to: directory.appendingPathComponent("vmlinux"))
        try Data(Self.moduleBTF(base: base)).write(to: directory.appendingPathComponent("swiftbpf_test_module"))
        let kernel = KernelBTF(directory: directory.path)
        let module = try #require(try kernel.modules().first)
        #expect(module.name == "swiftbpf_test_module" && module.firstOwnID == 3)
        #expect(module.spec[BTFTypeID(rawValue: 3)] == .structure(name: "mod_thing", size: 8, members: [
            .init(name: "a", type: BTFTypeID(rawValue: 1), bitOffset: 0), .init(name: "b", type: BTFTypeID(rawValue: 1), bitOffset: 32),
        ]))

        var local = BTFSpec()
        let int = local.add(.int(name: "int", size: 4, encoding: .signed))
        let thing = local.add(.structure(name: "mod_thing___mine", size: 4, members: [.init(name: "b", type: int, bitOffset: 0)]))
        let shared = local.add(.structure(name: "shared", size: 4, members: [.init(name: "y", type: int, bitOffset: 0)]))
        var resolver = COREResolver(local: local, kernel: kernel)
        let inModule = try resolver.resolve(CoreRelocationRecord(instructionIndex: 0, type: thing, accessString: "0:0", kind: .fieldByteOffset))
        #expect(inModule.original == 0 && inModule.new == 4 && inModule.poison == nil)
        let targetID = try resolver.resolve(CoreRelocationRecord(instructionIndex: 0, type: thing, accessString: "0", kind: .typeIDTarget))
        #expect(targetID.new == 3)
        let inVmlinux = try resolver.resolve(CoreRelocationRecord(instructionIndex: 0, type: shared, accessString: "0:0", kind: .fieldByteOffset))
        #expect(inVmlinux.new == 4)
    }
}
