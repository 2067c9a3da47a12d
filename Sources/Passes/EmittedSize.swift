import BPFIR

// What code generation will emit for IR, estimated without running it: the instructions each
// operation selects (a sign extension is two shifts at v3, a global's address an ld_imm64 of two
// slots, an operation whose first operand stays live a move first), and the stores and loads of
// spilled values where more values are live at once than there are registers.

/// The BPF instruction slots code generation will emit for each block of `function`, estimated;
/// `liveOut` holds the Temps live at the end of each block (`liveTemps`).
func emittedSizes(_ function: Function, cpu: CPUVersion, liveOut: [Set<Temp>]) -> [Int] {
    function.blocks.indices.map { b in
        let block = function.blocks[b]
        var live = liveOut[b]
        var size = terminatorSize(block.terminator)
        var touched = Set(block.terminator.usedTemps)
        live.formUnion(block.terminator.usedTemps)
        var peak = live.count
        var peakAcrossCalls = 0
        for instruction in block.instructions.reversed() {
            let operation = instruction.operation
            for t in operation.definedTemps { live.remove(t) }
            if case .call = operation { peakAcrossCalls = max(peakAcrossCalls, live.count) }
            size += operationSize(operation, cpu: cpu, firstOperandLives: { live.contains($0) })
            live.formUnion(operation.usedTemps)
            touched.formUnion(operation.usedTemps + operation.definedTemps)
            peak = max(peak, live.count)
        }
        // The values beyond the registers are spilled; those the block reads or writes are stored
        // or loaded here, about as many of them as of all the values live.
        let spilled = max(0, peak - allocatableRegisters, peakAcrossCalls - preservedRegisters)
        return size + (peak == 0 ? 0 : 2 * spilled * min(touched.count, peak) / peak)
    }
}

/// r1-r4 and r6-r9 (r0 and r5 are instruction selection's scratch registers).
private let allocatableRegisters = 8
/// r6-r9, which a call leaves alone.
private let preservedRegisters = 4

/// The Temps live at the start and at the end of each block.
func liveTemps(_ function: Function) -> (in: [Set<Temp>], out: [Set<Temp>]) {
    let count = function.blocks.count
    var uses = [Set<Temp>](repeating: [], count: count)
    var defines = [Set<Temp>](repeating: [], count: count)
    for (b, block) in function.blocks.enumerated() {
        var used = Set(block.terminator.usedTemps)
        var defined: Set<Temp> = []
        for instruction in block.instructions.reversed() {
            for t in instruction.operation.definedTemps {
                used.remove(t)
                defined.insert(t)
            }
            used.formUnion(instruction.operation.usedTemps)
        }
        uses[b] = used
        defines[b] = defined
    }
    let successors = function.blocks.map { $0.terminator.successors.map(\.index) }
    var liveIn = uses
    var liveOut = [Set<Temp>](repeating: [], count: count)
    var changed = true
    while changed {
        changed = false
        for b in (0..<count).reversed() {
            var out: Set<Temp> = []
            for s in successors[b] { out.formUnion(liveIn[s]) }
            guard out != liveOut[b] else { continue }
            liveOut[b] = out
            liveIn[b] = uses[b].union(out.subtracting(defines[b]))
            changed = true
        }
    }
    return (liveIn, liveOut)
}

private func constantSize(_ c: Int64) -> Int { Int32(exactly: c) == nil ? 2 : 1 }

/// An operation's instructions; `firstOperandLives` tells whether a Temp is read after it (then
/// a two-operand instruction needs a copy of it first).
private func operationSize(_ operation: Operation, cpu: CPUVersion, firstOperandLives: (Temp) -> Bool) -> Int {
    func copied(_ d: Temp, _ value: Value) -> Int {
        switch value {
        case .temp(let t): return t != d && firstOperandLives(t) ? 1 : 0
        case .constant: return 0
        }
    }
    switch operation {
    case .copy(_, .constant(let c)):
        return constantSize(c)
    case .copy(let d, .temp(let t)):
        return t != d && firstOperandLives(t) ? 1 : 0
    case .binary(let d, _, let width, let a, let b):
        let right: Int
        if case .constant(let c) = b { right = Int32(exactly: c) == nil ? 2 : 0 } else { right = 0 }
        if case .constant(let c) = a { return 1 + right + (width == .bits32 ? 1 : constantSize(c)) }
        return 1 + right + copied(d, a)
    case .negate(let d, _, let value), .byteSwap(let d, let value, _):
        return 1 + copied(d, value)
    case .signExtend(let d, let value, _):
        switch cpu {
        case .v3: return 2 + copied(d, value)
        case .v4: return 1
        }
    case .zeroExtend(_, _, let bits):
        return bits == 32 ? 1 : 2
    case .load, .addrSpaceCast:
        return 1
    case .store(_, let value, let size, _, _):
        // Narrower stores take the constant's low bytes as their immediate.
        if case .constant(let c) = value, size == .double, Int32(exactly: c) == nil { return 3 }
        return 1
    case .copyMemory(_, _, let size, let alignment, _, _):
        return 2 * (size + min(max(alignment, 1), 8) - 1) / min(max(alignment, 1), 8)
    case .setMemory(_, _, let size, let alignment, _):
        return (size + min(max(alignment, 1), 8) - 1) / min(max(alignment, 1), 8)
    case .slotAddress:
        return 2
    case .symbolAddress:
        return 2
    case .call(let d, _, let arguments):
        return 1 + arguments.count + (d == nil ? 0 : 1)
    case .setCondition:
        return 3
    case .atomic(let d, _, _, _, _, _):
        return d == nil ? 1 : 2
    case .compareExchange:
        return 3
    case .inlineAsm(let asm):
        return asmSize(asm) + asm.operands.count
    case .coreValue(_, let relocation):
        return relocation.kind.isWide ? 2 : 1
    }
}

private func terminatorSize(_ terminator: Terminator) -> Int {
    switch terminator {
    case .jump: return 0
    case .branch, .mayGoto: return 1
    case .return: return 2
    case .inlineAsmGoto(let asm, _, _): return asmSize(asm) + asm.operands.count
    }
}

/// The instructions an asm template holds: its lines that are not labels or directives only.
private func asmSize(_ asm: InlineAsm) -> Int {
    var text = ""
    for piece in asm.template {
        switch piece {
        case .text(let s): text += s
        case .operand, .label: text += "x"
        }
    }
    return text.split(whereSeparator: { $0 == "\n" || $0 == ";" }).filter { line in
        let trimmed = line.drop(while: { $0 == " " || $0 == "\t" })
        return !trimmed.isEmpty && !trimmed.hasSuffix(":") && !trimmed.hasPrefix(".")
    }.count
}
