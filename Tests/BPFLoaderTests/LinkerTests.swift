import Testing
import BPFInstructions
import BPFObject
@testable import BPFLoader

/// Linking without a kernel: fake map fds, then check the rewritten instructions.
@Suite struct LinkerTests {
    @Test func appendsReachableSubprogramsAndRebasesInfo() throws {
        let object = try readObject(try Toolchain.compileBPF(Programs.subprograms, name: "linker"))
        let syscall = try #require(object.codeSections.firstIndex { $0.name == "syscall" })
        let entry = try #require(object.codeSections[syscall].functions.first { $0.name == "entry_b" })
        let maps = MapTable(sectionMaps: [".bss": 42], definedMaps: [:])
        let program = try link(object, section: syscall, entry: entry, maps: maps) { (name) throws(LoadError) in
            throw .noSuchProgram(name)
        }
        // entry_b calls sum_squares, which calls square; twice is unreachable.
        #expect(program.placed.map(\.function.name) == ["entry_b", "sum_squares", "square"])
        for (index, instruction) in program.instructions.enumerated() where instruction.opcode == 0x85 && instruction.src.rawValue == 1 {
            let target = index + 1 + Int(instruction.imm)
            #expect(program.placed.contains { $0.start == target }, "call at \(index) lands on a function start")
        }
        let load = try #require(program.instructions.firstIndex { $0.isLoadImm64 })
        #expect(program.instructions[load].src.rawValue == Opcode.pseudoMapValue)
        #expect(program.instructions[load].imm == 42)
        #expect(program.funcInfo.map(\.instruction) == program.placed.map(\.start))
        for piece in program.placed {
            #expect(program.lines.contains { $0.instructionIndex == piece.start }, "\(piece.function.name) starts with a line")
        }
    }

    @Test func unknownSymbolIsARelocationError() throws {
        var object = try readObject(try Toolchain.compileBPF(Programs.subprograms, name: "linker_bad"))
        let syscall = try #require(object.codeSections.firstIndex { $0.name == "syscall" })
        let entry = try #require(object.codeSections[syscall].functions.first { $0.name == "entry_a" })
        object.dataSections.removeAll { $0.name == ".bss" }
        #expect(throws: LoadError.self) {
            try link(object, section: syscall, entry: entry, maps: MapTable()) { (name) throws(LoadError) in
                throw .noSuchProgram(name)
            }
        }
    }

    @Test func verifierLogPointsAtLastInstruction() {
        let log = "0: R1=ctx() R10=fp0\n0: (18) r1 = 0x0\n5: (61) r0 = *(u32 *)(r1 +0)\nR1 invalid mem access 'scalar'\nprocessed 5 insns\n"
        #expect(lastInstruction(in: log) == 5)
        #expect(lastInstruction(in: "no instructions here") == nil)
    }
}
