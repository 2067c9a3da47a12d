import BPFDiagnostics
import BPFIR
import BPFInstructions
import BPFObject

// Branch resolution: the selected blocks, laid end to end, become final instructions.
//
// A jump's `off` counts slots from the instruction after it to the target block's first slot
// (ld_imm64 takes two). Relocations are recorded at the slot that carries them: ld_imm64's first
// half, or the `call`.
//
// A may_goto must never get `off` 0 (older kernels reject it, LLVM deletes it): that happens when
// its bail-out target is the very next instruction, for instance when every block in between is
// empty. Such a may_goto is followed by `ja +0`, so that it jumps over one instruction to the same
// place: both edges still lead where the IR said. Adding that slot moves later blocks, so offsets
// are recomputed until no may_goto needs one.

/// The finished code of one function, before it is placed in a section.
struct ResolvedCode {
    var instructions: [Instruction] = []
    var relocations: [CodeRelocation] = []
    var locations: [SourceLocation?] = []
    var notes: [String?] = []
    /// CO-RE relocations by the index of the instruction holding their value.
    var coreRelocations: [(instructionIndex: Int, relocation: CoreRelocation)] = []
}

func resolveBranches(_ blocks: [MachineBlock], in function: Function) throws(DiagnosticList) -> ResolvedCode {
    /// Positions (block, line) of may_gotos that get a `ja +0` after them.
    var padded = Set<[Int]>()
    while true {
        var start: [BlockID: Int] = [:]
        var slot = 0
        for (b, block) in blocks.enumerated() {
            start[block.id] = slot
            for (l, line) in block.lines.enumerated() {
                slot += line.instruction.slotCount + (padded.contains([b, l]) ? 1 : 0)
            }
        }
        var needsPadding: [[Int]] = []
        slot = 0
        for (b, block) in blocks.enumerated() {
            for (l, line) in block.lines.enumerated() {
                if case .jump(let opcode, _, _, _, let target) = line.instruction, opcode == BPF.mayGoto,
                   start[target] == slot + 1, !padded.contains([b, l]) {
                    needsPadding.append([b, l])
                }
                slot += line.instruction.slotCount + (padded.contains([b, l]) ? 1 : 0)
            }
        }
        if needsPadding.isEmpty { return try emit(blocks, start: start, padded: padded, function: function) }
        padded.formUnion(needsPadding)
    }
}

private func emit(_ blocks: [MachineBlock], start: [BlockID: Int], padded: Set<[Int]>,
                  function: Function) throws(DiagnosticList) -> ResolvedCode {
    var code = ResolvedCode()
    var diagnostics: [Diagnostic] = []
    for (b, block) in blocks.enumerated() {
        for (l, line) in block.lines.enumerated() {
            func append(_ instruction: Instruction) {
                code.instructions.append(instruction)
                code.locations.append(line.location)
                code.notes.append(line.note)
            }
            if let relocation = line.coreRelocation {
                code.coreRelocations.append((code.instructions.count, relocation))
            }
            switch line.instruction {
            case .plain(let instruction):
                append(instruction)
            case .loadImm64(let dst, let value):
                append(Instruction(opcode: Opcode.ldImm64, dst: dst, imm: Int32(truncatingIfNeeded: value)))
                append(Instruction(opcode: 0, imm: Int32(truncatingIfNeeded: value >> 32)))
            case .symbolAddress(let dst, let symbol, let offset):
                code.relocations.append(CodeRelocation(instructionIndex: code.instructions.count, symbol: symbol))
                append(Instruction(opcode: Opcode.ldImm64, dst: dst, imm: offset))
                append(Instruction(opcode: 0))
            case .relocatedCall(let symbol):
                code.relocations.append(CodeRelocation(instructionIndex: code.instructions.count, symbol: symbol))
                append(Instruction(opcode: Opcode.classJMP | Opcode.call, src: Register(rawValue: Opcode.pseudoCall),
                                   imm: -1))
            case .jump(let opcode, let dst, let src, let imm, let target):
                let distance = (start[target] ?? 0) - (code.instructions.count + 1)
                guard let offset = Int16(exactly: distance) else {
                    diagnostics.append(.error("function '\(function.name)' is too large: a jump spans \(distance) "
                                              + "instructions, more than BPF's 16-bit offset reaches",
                                              at: line.location ?? function.location))
                    append(Instruction(opcode: opcode, dst: dst, src: src, imm: imm))
                    continue
                }
                append(Instruction(opcode: opcode, dst: dst, src: src, offset: offset, imm: imm))
                if padded.contains([b, l]) { append(Instruction(opcode: BPF.ja)) }
            }
        }
    }
    if !diagnostics.isEmpty { throw DiagnosticList(diagnostics) }
    return code
}
