import BPFInstructions
import BPFObject
import BTF

// Turns one entry function of an object into the instruction stream the kernel loads, the way
// libbpf's bpf_object__relocate does: every sub-program reachable through BPF-to-BPF calls is
// appended after the entry function (bpf_object__reloc_code), call and ld_imm64 immediates are
// rewritten, and func_info/line_info are rebased onto the new layout.

/// What a data relocation resolves to: a map itself (BPF_PSEUDO_MAP_FD) or an address inside a
/// map's value (BPF_PSEUDO_MAP_VALUE).
enum MapReference: Hashable {
    case map(fd: Int32)
    case value(fd: Int32, offset: UInt32)
}

/// The maps a program can refer to, by the names relocations use.
struct MapTable {
    /// Internal maps by ELF section (`.data`, `.rodata`, ...).
    var sectionMaps: [String: Int32] = [:]
    /// BTF-defined maps from `.maps`, by symbol name.
    var definedMaps: [String: Int32] = [:]
}

/// Calls to absent weak kfuncs become calls to helper `absentKernelFunctionBase + n`: no kernel
/// has that many helpers, so the verifier names the number if such a call is reachable.
let absentKernelFunctionBase: Int32 = 2_002_000_000

/// One function placed in a linked program: where it came from and where it starts now.
struct PlacedFunction: Hashable {
    var section: Int
    var function: FunctionSymbol
    var start: Int
}

/// A program ready for BPF_PROG_LOAD, with the map back to the object for error messages.
struct LinkedProgram {
    var name: String
    var section: String
    var instructions: [Instruction] = []
    var placed: [PlacedFunction] = []
    /// func_info records (instruction index, FUNC id); empty unless every function has one,
    /// because the kernel wants one per sub-program or none.
    var funcInfo: [(instruction: Int, type: BTFTypeID)] = []
    /// line_info records rebased to `instructions`.
    var lines: [LineRecord] = []
    /// Weak kfuncs the kernel lacks, by the impossible helper number their calls were given.
    var absentKernelFunctions: [Int32: String] = [:]
    /// Why CO-RE relocations failed, by the poisoned instruction of this program.
    var failedRelocations: [Int: String] = [:]

    /// The source line an instruction of the linked program came from.
    func line(atInstruction index: Int) -> LineRecord? {
        lines.last { $0.instructionIndex <= index }
    }

    /// `.BTF.ext`-style records for the kernel: {insn_off (in instructions here), type_id}.
    func funcInfoBytes() -> [UInt8] {
        funcInfo.flatMap { littleEndian(UInt32($0.instruction)) + littleEndian($0.type.rawValue) }
    }

    /// {insn_off, file_name_off, line_off, line << 10 | col}; names are offsets into `strings`.
    func lineInfoBytes(strings: (String) -> UInt32) -> [UInt8] {
        lines.flatMap { line in
            littleEndian(UInt32(line.instructionIndex)) + littleEndian(strings(line.file))
                + littleEndian(strings(line.sourceText))
                + littleEndian(UInt32(line.line) << BTFWire.lineShift | UInt32(line.column & 0x3ff))
        }
    }
}

func littleEndian(_ value: UInt32) -> [UInt8] {
    (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * UInt32($0))) }
}

/// Links the entry function `entry` of code section `sectionIndex`. `kernelSymbol` resolves an
/// extern of `.ksyms`, and answers nil for one of `.kconfig`, which is data in its own section.
func link(_ object: ObjectFile, section sectionIndex: Int, entry: FunctionSymbol, maps: MapTable,
          kernelSymbol: (String) throws(LoadError) -> KernelSymbol?) throws(LoadError) -> LinkedProgram
{
    var program = LinkedProgram(name: entry.name, section: object.codeSections[sectionIndex].name)
    func place(_ section: Int, _ function: FunctionSymbol) -> Int {
        if let existing = program.placed.first(where: { $0.section == section && $0.function == function }) {
            return existing.start
        }
        let start = program.instructions.count
        let code = object.codeSections[section].instructions
        program.instructions += code[function.firstInstruction..<function.firstInstruction + function.instructionCount]
        program.placed.append(PlacedFunction(section: section, function: function, start: start))
        return start
    }
    _ = place(sectionIndex, entry)

    var next = 0
    while next < program.placed.count {
        let piece = program.placed[next]
        next += 1
        let section = object.codeSections[piece.section]
        let relocations = Dictionary(section.relocations.map { ($0.instructionIndex, $0.symbol) }, uniquingKeysWith: { a, _ in a })
        for original in piece.function.firstInstruction..<piece.function.firstInstruction + piece.function.instructionCount {
            let index = piece.start + original - piece.function.firstInstruction
            var instruction = program.instructions[index]
            func fail(_ symbol: String, _ reason: String) -> LoadError {
                .relocation(program: program.name, section: section.name, instruction: original, symbol: symbol, reason: reason)
            }
            let isCall = instruction.opcode == Opcode.classJMP | Opcode.call
            let symbol = relocations[original]

            if instruction.isLoadImm64, let symbol {
                guard index + 1 < program.instructions.count else { throw fail(symbol, "ld_imm64 has no second slot") }
                if let function = functionTarget(object, symbol: symbol, addend: Int(instruction.imm) / 8) {
                    // A callback address (BPF_PSEUDO_FUNC): imm becomes the distance to the callee.
                    let start = place(function.section, function.function)
                    instruction.src = Register(rawValue: 4)
                    instruction.imm = Int32(start + function.offset - (index + 1))
                } else if object.externs.contains(where: { $0.name == symbol }), let resolved = try kernelSymbol(symbol) {
                    // The address of a kernel variable or function; 0 for a weak one the kernel lacks.
                    switch resolved {
                    case .btf(let id):
                        instruction.src = Register(rawValue: Opcode.pseudoBTFID)
                        instruction.imm = id
                        program.instructions[index + 1].imm = 0  // the BTF object: 0 is vmlinux
                    case .address(let address):
                        instruction.imm = Int32(truncatingIfNeeded: address)
                        program.instructions[index + 1].imm = Int32(truncatingIfNeeded: address >> 32)
                    case .absent:
                        instruction.imm = 0
                        program.instructions[index + 1].imm = 0
                    }
                } else {
                    switch try dataTarget(object, symbol: symbol, addend: Int(instruction.imm), maps: maps, fail: fail) {
                    case .map(let fd):
                        instruction.src = Register(rawValue: Opcode.pseudoMapFD)
                        instruction.imm = fd
                    case .value(let fd, let offset):
                        instruction.src = Register(rawValue: Opcode.pseudoMapValue)
                        instruction.imm = fd
                        program.instructions[index + 1].imm = Int32(bitPattern: offset)
                    }
                }
            } else if isCall, let symbol {
                if object.externs.contains(where: { $0.name == symbol }) {
                    switch try kernelSymbol(symbol) {
                    case .btf(let id)?:
                        instruction.src = Register(rawValue: Opcode.pseudoKfuncCall)
                        instruction.imm = id
                    case .absent?:
                        // A weak kfunc the kernel lacks: as libbpf does, a call to a helper that
                        // cannot exist, which the verifier accepts only where it is dead code.
                        let poison = absentKernelFunctionBase + Int32(program.absentKernelFunctions.count)
                        instruction.src = .r0
                        instruction.imm = program.absentKernelFunctions.first { $0.value == symbol }?.key ?? poison
                        program.absentKernelFunctions[instruction.imm] = symbol
                    case .address?, nil:
                        throw fail(symbol, "call to an extern that is not a kernel function")
                    }
                    instruction.offset = 0
                } else if let function = functionTarget(object, symbol: symbol, addend: Int(instruction.imm) + 1) {
                    let start = place(function.section, function.function)
                    instruction.src = Register(rawValue: Opcode.pseudoCall)
                    instruction.imm = Int32(start + function.offset - (index + 1))
                } else {
                    throw fail(symbol, "call to something that is neither a function nor an extern")
                }
            } else if isCall && instruction.src.rawValue == Opcode.pseudoCall {
                // A call the assembler resolved inside this section; it may leave the function.
                let target = original + 1 + Int(instruction.imm)
                guard let callee = section.functions.first(where: { $0.firstInstruction <= target && target < $0.firstInstruction + $0.instructionCount })
                else { throw fail("pc\(instruction.imm)", "call target \(target) is in no function") }
                let start = place(piece.section, callee)
                instruction.imm = Int32(start + target - callee.firstInstruction - (index + 1))
            } else if let symbol {
                throw fail(symbol, "relocation on an instruction that is neither ld_imm64 nor call")
            }
            program.instructions[index] = instruction
        }
    }

    // Rebase .BTF.ext records onto the linked layout.
    if program.placed.allSatisfy({ $0.function.btfFunction != nil }) {
        program.funcInfo = program.placed.compactMap { piece in piece.function.btfFunction.map { (piece.start, $0) } }
    }
    for piece in program.placed {
        let range = piece.function.firstInstruction..<piece.function.firstInstruction + piece.function.instructionCount
        for var line in object.codeSections[piece.section].lines where range.contains(line.instructionIndex) {
            line.instructionIndex += piece.start - piece.function.firstInstruction
            program.lines.append(line)
        }
    }
    return program
}

/// The function a code relocation points into: by function name, or by a code section name
/// (a static function reached through the section symbol) plus the instruction addend.
private func functionTarget(_ object: ObjectFile, symbol: String, addend: Int)
    -> (section: Int, function: FunctionSymbol, offset: Int)?
{
    for (sectionIndex, section) in object.codeSections.enumerated() {
        let target: Int
        if section.name == symbol {
            target = addend
        } else if let function = section.functions.first(where: { $0.name == symbol }) {
            target = function.firstInstruction + addend
        } else {
            continue
        }
        guard let function = section.functions.first(where: { $0.firstInstruction <= target && target < $0.firstInstruction + $0.instructionCount })
        else { return nil }
        return (sectionIndex, function, target - function.firstInstruction)
    }
    return nil
}

/// The map (or map value) an `ld_imm64` relocation points at. As in libbpf's relocate_data, the
/// instruction's imm is an addend on top of the symbol's offset.
private func dataTarget(_ object: ObjectFile, symbol: String, addend: Int, maps: MapTable,
                        fail: (String, String) -> LoadError) throws(LoadError) -> MapReference
{
    if let fd = maps.definedMaps[symbol] { return .map(fd: fd) }
    let section: DataSection
    let offset: Int
    if let named = object.dataSections.first(where: { $0.name == symbol }) {
        section = named
        offset = addend
    } else if let owner = object.dataSections.first(where: { $0.symbols.contains { $0.name == symbol } }),
              let data = owner.symbols.first(where: { $0.name == symbol }) {
        section = owner
        offset = data.offset + addend
    } else {
        throw fail(symbol, "no such global variable or map")
    }
    guard let fd = maps.sectionMaps[section.name] else {
        throw fail(symbol, "section '\(section.name)' has no map (only .data, .bss, .rodata and .maps are loaded)")
    }
    guard offset >= 0, offset <= section.bytes.count else {
        throw fail(symbol, "offset \(offset) lies outside '\(section.name)'")
    }
    return .value(fd: fd, offset: UInt32(offset))
}
