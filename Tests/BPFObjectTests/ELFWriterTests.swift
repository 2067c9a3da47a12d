import BPFInstructions
import BPFObject
import BTF
import Foundation
import KernelTestSupport
import Testing
import ToolTestSupport

/// A hand-built object: `prog` (SEC "syscall") adds `counter` (.data, 40) and `zero` (.bss) and
/// calls the global sub-program `two` in `.text`, which returns 2; so it returns 42.
func sampleObject() -> ObjectFile {
    func ldImm64(_ dst: Register) -> [Instruction] {
        [Instruction(opcode: Opcode.ldImm64, dst: dst), Instruction(opcode: 0)]
    }
    let loadWord = Opcode.classLDX | Opcode.modeMEM | Opcode.sizeW
    let addRegister = Opcode.classALU64 | Opcode.add | Opcode.sourceX
    let moveRegister = Opcode.classALU64 | Opcode.mov | Opcode.sourceX
    let moveImmediate = Opcode.classALU64 | Opcode.mov | Opcode.sourceK
    let call = Instruction(opcode: Opcode.classJMP | Opcode.call, src: Register(rawValue: Opcode.pseudoCall), imm: -1)
    let exit = Instruction(opcode: Opcode.classJMP | Opcode.exit)

    let prog: [Instruction] = ldImm64(.r1)                          // 0: r1 = &counter
        + [Instruction(opcode: loadWord, dst: .r0, src: .r1)]       // 2: r0 = counter
        + ldImm64(.r1)                                              // 3: r1 = &zero
        + [Instruction(opcode: loadWord, dst: .r2, src: .r1),       // 5: r2 = zero
           Instruction(opcode: addRegister, dst: .r0, src: .r2),    // 6
           Instruction(opcode: moveRegister, dst: .r6, src: .r0),   // 7
           call,                                                    // 8: call two
           Instruction(opcode: addRegister, dst: .r0, src: .r6),    // 9
           exit]                                                    // 10
    let two = [Instruction(opcode: moveImmediate, dst: .r0, imm: 2), exit]

    var btf = BTFSpec()
    let int = btf.add(.int(name: "int", size: 4, encoding: .signed))
    let voidPointer = btf.add(.pointer(.void))
    let progProto = btf.add(.functionProto(returnType: int, parameters: [.init(name: "ctx", type: voidPointer)]))
    let progFunc = btf.add(.function(name: "prog", proto: progProto, linkage: .global))
    let twoProto = btf.add(.functionProto(returnType: int, parameters: []))
    let twoFunc = btf.add(.function(name: "two", proto: twoProto, linkage: .global))
    let counterVar = btf.add(.variable(name: "counter", type: int, linkage: .global))
    let zeroVar = btf.add(.variable(name: "zero", type: int, linkage: .global))
    let char = btf.add(.int(name: "char", size: 1, encoding: .signed))
    let arraySize = btf.add(.int(name: "__ARRAY_SIZE_TYPE__", size: 4, encoding: .unsigned))
    let licenseArray = btf.add(.array(element: char, index: arraySize, count: 4))
    let licenseVar = btf.add(.variable(name: "_license", type: licenseArray, linkage: .global))
    btf.add(.dataSection(name: ".data", size: 4, variables: [.init(type: counterVar, offset: 0, size: 4)]))
    btf.add(.dataSection(name: ".bss", size: 4, variables: [.init(type: zeroVar, offset: 0, size: 4)]))
    btf.add(.dataSection(name: "license", size: 4, variables: [.init(type: licenseVar, offset: 0, size: 4)]))

    func line(_ index: Int, _ number: Int, _ text: String) -> LineRecord {
        LineRecord(instructionIndex: index, file: "sample.c", line: number, column: 5, sourceText: text)
    }
    return ObjectFile(
        codeSections: [
            CodeSection(name: ".text", instructions: two,
                        functions: [FunctionSymbol(name: "two", firstInstruction: 0, instructionCount: 2,
                                                   binding: .global, btfFunction: twoFunc)],
                        lines: [line(0, 3, "int two(void) { return 2; }")]),
            CodeSection(name: "syscall", instructions: prog,
                        functions: [FunctionSymbol(name: "prog", firstInstruction: 0, instructionCount: prog.count,
                                                   binding: .global, btfFunction: progFunc)],
                        relocations: [CodeRelocation(instructionIndex: 0, symbol: "counter"),
                                      CodeRelocation(instructionIndex: 3, symbol: "zero"),
                                      CodeRelocation(instructionIndex: 8, symbol: "two")],
                        lines: [line(0, 7, "    int sum = counter + zero;"), line(8, 8, "    return sum + two();")]),
        ],
        dataSections: [
            DataSection(name: ".data", bytes: [40, 0, 0, 0], alignment: 4,
                        symbols: [DataSymbol(name: "counter", offset: 0, size: 4, binding: .global)]),
            DataSection(name: ".bss", bytes: [0, 0, 0, 0], isZeroFill: true, alignment: 4,
                        symbols: [DataSymbol(name: "zero", offset: 0, size: 4, binding: .global)]),
            DataSection(name: "license", bytes: Array("GPL\0".utf8), alignment: 1,
                        symbols: [DataSymbol(name: "_license", offset: 0, size: 4, binding: .global)]),
        ],
        btf: btf)
}

@Suite struct ELFWriterTests {
    @Test func objdumpDisassemblesWithRelocations() throws {
        let directory = try makeScratchDirectory("objdump")
        let path = try writeFile(try writeObject(sampleObject()), named: "sample.o", in: directory)
        // `-l` prints the file:line of each line_info record, read back from .BTF.ext.
        let result = try runTool(["llvm-objdump-19", "-d", "-r", "-l", path])
        #expect(result.status == 0, "\(result.stderr)")
        let text = result.stdout
        #expect(text.contains("<two>:"))
        #expect(text.contains("<prog>:"))
        #expect(text.contains("R_BPF_64_64\tcounter"))
        #expect(text.contains("R_BPF_64_64\tzero"))
        #expect(text.contains("R_BPF_64_32\ttwo"))
        #expect(text.contains("call -0x1"))
        #expect(text.contains("r0 = 0x2"))
        #expect(text.contains("; sample.c:8\n       8:\t85 10 00 00 ff ff ff ff\tcall -0x1"))
        #expect(result.stderr.isEmpty, "\(result.stderr)")
    }

    @Test func readelfShowsClangLayout() throws {
        let directory = try makeScratchDirectory("readelf")
        let path = try writeFile(try writeObject(sampleObject()), named: "sample.o", in: directory)
        let result = try runTool(["llvm-readelf-19", "-S", "-s", "-r", path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.isEmpty, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map { $0.split(separator: " ").joined(separator: " ") }
        // Section headers in clang's order with clang's types and flags.
        let expectedSections = [
            "[ 1] .strtab STRTAB", "[ 2] .text PROGBITS", "[ 3] syscall PROGBITS", "[ 4] .relsyscall REL",
            "[ 5] .data PROGBITS", "[ 6] .bss NOBITS", "[ 7] license PROGBITS", "[ 8] .BTF PROGBITS",
            "[ 9] .BTF.ext PROGBITS", "[10] .symtab SYMTAB",
        ]
        for expected in expectedSections {
            #expect(lines.contains { $0.contains(expected) }, "missing \(expected)")
        }
        #expect(lines.contains { $0.contains("syscall PROGBITS") && $0.hasSuffix("AX 0 0 8") })
        #expect(lines.contains { $0.contains(".relsyscall REL") && $0.hasSuffix("10 I 10 3 8") })
        #expect(lines.contains { $0.contains(".bss NOBITS") && $0.hasSuffix("000004 00 WA 0 0 4") })
        #expect(lines.contains { $0.contains(".symtab SYMTAB") && $0.hasSuffix("18 1 3 8") })
        // Locals (null, two section symbols) first, then the globals.
        #expect(lines.contains { $0.hasSuffix("0000000000000000 0 SECTION LOCAL DEFAULT 2 .text") })
        #expect(lines.contains { $0.hasSuffix("0000000000000000 16 FUNC GLOBAL DEFAULT 2 two") })
        #expect(lines.contains { $0.hasSuffix("0000000000000000 88 FUNC GLOBAL DEFAULT 3 prog") })
        #expect(lines.contains { $0.hasSuffix("0000000000000000 4 OBJECT GLOBAL DEFAULT 5 counter") })
        #expect(lines.contains { $0.hasSuffix("0000000000000000 4 OBJECT GLOBAL DEFAULT 6 zero") })
        #expect(lines.contains { $0.hasSuffix("0000000000000000 4 OBJECT GLOBAL DEFAULT 7 _license") })
        #expect(lines.contains { $0.contains("0000000000000040") && $0.contains("R_BPF_64_32") && $0.hasSuffix("two") })
    }

    @Test func bpftoolDumpsTypes() throws {
        let directory = try makeScratchDirectory("bpftool")
        let path = try writeFile(try writeObject(sampleObject()), named: "sample.o", in: directory)
        let result = try runTool(["bpftool", "btf", "dump", "file", path])
        #expect(result.status == 0, "\(result.stderr)")
        let text = result.stdout
        #expect(text.contains("[1] INT 'int' size=4 bits_offset=0 nr_bits=32 encoding=SIGNED"))
        #expect(text.contains("[4] FUNC 'prog' type_id=3 linkage=global"))
        #expect(text.contains("'ctx' type_id=2"))
        #expect(text.contains("[13] DATASEC '.data' size=4 vlen=1"))
        #expect(text.contains("type_id=12 offset=0 size=4 (VAR '_license')"))
    }

    @Test func libbpfOpensLoadsAndRuns() throws {
        let directory = try makeScratchDirectory("libbpf")
        let path = try writeFile(try writeObject(sampleObject()), named: "sample.o", in: directory)
        let checker = try buildLibbpfChecker(in: directory)
        let opened = try runTool([checker, path])
        #expect(opened.status == 0, "\(opened.stdout)\(opened.stderr)")
        #expect(opened.stdout.contains("program prog section syscall insns 11"))
        #expect(opened.stdout.contains("map sample.data type 2 value_size 4"))
        #expect(opened.stdout.contains("map sample.bss type 2 value_size 4"))

        try KernelCapability.bpf.require()
        let loaded = try runTool([checker, path, "load", "prog"])
        #expect(loaded.status == 0, "\(loaded.stdout)\(loaded.stderr)")
        #expect(loaded.stdout.contains("retval 42"))
    }

    /// A relocation may name a data section, as clang does for static variables (the offset then
    /// sits in the ld_imm64); the writer adds that section's STT_SECTION symbol. An empty `.text`
    /// is left out, as clang leaves it out.
    @Test func sectionSymbolForRelocationAgainstDataSection() throws {
        var object = sampleObject()
        object.codeSections[1].relocations[0].symbol = ".data"
        object.codeSections.insert(CodeSection(name: ".text"), at: 0)
        object.codeSections[1].name = ".text.unused"
        let directory = try makeScratchDirectory("section-symbol")
        let path = try writeFile(try writeObject(object), named: "sample.o", in: directory)
        let result = try runTool(["llvm-readelf-19", "-S", "-s", "-r", path])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map { $0.split(separator: " ").joined(separator: " ") }
        #expect(lines.filter { $0.contains(" .text ") }.isEmpty)
        #expect(lines.contains { $0.hasSuffix("0000000000000000 0 SECTION LOCAL DEFAULT 5 .data") })
        #expect(lines.contains { $0.hasPrefix("0000000000000000") && $0.contains("R_BPF_64_64") && $0.hasSuffix(".data") })
    }

    /// Addresses in a data section (a prog_array's `.values`) become R_BPF_64_ABS64 entries in
    /// `.rel<section>`, as clang writes them, and read back as the same relocations.
    @Test func dataRelocationsAreAbsoluteAddresses() throws {
        var object = sampleObject()
        object.dataSections.append(DataSection(
            name: ".maps", bytes: [UInt8](repeating: 0, count: 24),
            symbols: [DataSymbol(name: "jump", offset: 0, size: 24, binding: .global)],
            relocations: [DataRelocation(offset: 8, symbol: "prog"), DataRelocation(offset: 16, symbol: "counter")]))
        let directory = try makeScratchDirectory("data-relocations")
        let bytes = try writeObject(object)
        let path = try writeFile(bytes, named: "sample.o", in: directory)
        let result = try runTool(["llvm-readelf-19", "-r", path])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map { $0.split(separator: " ").joined(separator: " ") }
        #expect(lines.contains { $0.hasPrefix("Relocation section '.rel.maps'") && $0.contains("contains 2 entries") })
        #expect(lines.contains { $0.hasPrefix("0000000000000008") && $0.contains("R_BPF_64_ABS64") && $0.hasSuffix(" prog") })
        #expect(lines.contains { $0.hasPrefix("0000000000000010") && $0.contains("R_BPF_64_ABS64") && $0.hasSuffix(" counter") })
        let read = try readObject(bytes)
        #expect(read.dataSections.first { $0.name == ".maps" }?.relocations == object.dataSections.last?.relocations)
    }

    @Test func dataRelocationPastTheSectionIsRejected() throws {
        var object = sampleObject()
        object.dataSections[0].relocations = [DataRelocation(offset: 0, symbol: "prog")]
        #expect(throws: ObjectWriteError.dataRelocationOutOfRange(section: ".data", offset: 0)) {
            try writeObject(object)
        }
    }

    @Test func relocationOnAnArithmeticInstructionIsRejected() throws {
        var object = sampleObject()
        object.codeSections[1].relocations.append(CodeRelocation(instructionIndex: 6, symbol: "counter"))
        #expect(throws: ObjectWriteError.relocationOnWrongInstruction(section: "syscall", instructionIndex: 6,
                                                                     opcode: 0x0f)) {
            try writeObject(object)
        }
    }

    @Test func unknownSymbolIsRejected() throws {
        var object = sampleObject()
        object.codeSections[1].relocations[2].symbol = "missing"
        #expect(throws: ObjectWriteError.unknownSymbol(section: "syscall", instructionIndex: 8, symbol: "missing")) {
            try writeObject(object)
        }
    }
}
