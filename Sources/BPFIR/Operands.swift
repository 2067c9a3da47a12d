// What each IR operation and terminator reads, writes and jumps to, and how to rename its
// operands: the questions every pass and code generation ask, answered in one place, so a new
// operation is taught to all of them at once (the switches here have no `default:`).

extension Operation {
    /// The Temps this operation writes: one, except for inline asm, which writes each output.
    public var definedTemps: [Temp] {
        switch self {
        case .copy(let d, _), .binary(let d, _, _, _, _), .negate(let d, _, _), .signExtend(let d, _, _),
             .zeroExtend(let d, _, _), .byteSwap(let d, _, _), .load(let d, _, _, _, _), .slotAddress(let d, _, _),
             .symbolAddress(let d, _, _), .addrSpaceCast(let d, _, _, _), .setCondition(let d, _, _, _, _),
             .coreValue(let d, _):
            return [d]
        case .call(let d, _, _), .atomic(let d, _, _, _, _, _):
            return d.map { [$0] } ?? []
        case .compareExchange(let d, _, _, _, _, _):
            return [d]
        case .store, .copyMemory, .setMemory:
            return []
        case .inlineAsm(let asm):
            return asm.outputs
        }
    }

    /// The values this operation reads, address bases included (as `.temp`).
    public var usedValues: [Value] {
        switch self {
        case .copy(_, let v), .negate(_, _, let v), .signExtend(_, let v, _), .zeroExtend(_, let v, _),
             .byteSwap(_, let v, _), .addrSpaceCast(_, let v, _, _):
            return [v]
        case .binary(_, _, _, let a, let b), .setCondition(_, _, _, let a, let b):
            return [a, b]
        case .load(_, let address, _, _, _), .setMemory(let address, _, _, _, _):
            return address.baseValue
        case .store(let address, let value, _, _, _):
            return address.baseValue + [value]
        case .copyMemory(let destination, let source, _, _, _, _):
            return destination.baseValue + source.baseValue
        case .slotAddress, .symbolAddress, .coreValue:
            return []
        case .call(_, _, let arguments):
            return arguments
        case .atomic(_, _, let address, let value, _, _):
            return address.baseValue + [value]
        case .compareExchange(_, let address, let expected, let desired, _, _):
            return address.baseValue + [expected, desired]
        case .inlineAsm(let asm):
            return asm.inputs
        }
    }

    /// The Temps this operation reads.
    public var usedTemps: [Temp] { usedValues.compactMap(\.temp) }

    /// The same operation with its written Temp, read values, addresses and slots replaced.
    public func mapped(defined: (Temp) -> Temp, value: (Value) -> Value, address: (Address) -> Address,
                       slot: (SlotID) -> SlotID = { $0 }) -> Operation {
        switch self {
        case .copy(let d, let v): return .copy(defined(d), value(v))
        case .binary(let d, let op, let w, let a, let b): return .binary(defined(d), op, w, value(a), value(b))
        case .negate(let d, let w, let v): return .negate(defined(d), w, value(v))
        case .signExtend(let d, let v, let bits): return .signExtend(defined(d), value(v), fromBits: bits)
        case .zeroExtend(let d, let v, let bits): return .zeroExtend(defined(d), value(v), fromBits: bits)
        case .byteSwap(let d, let v, let bits): return .byteSwap(defined(d), value(v), bits: bits)
        case .load(let d, let a, let size, let space, let flags):
            return .load(defined(d), address(a), size, addressSpace: space, flags)
        case .store(let a, let v, let size, let space, let flags):
            return .store(address(a), value(v), size, addressSpace: space, flags)
        case .copyMemory(let d, let s, let size, let alignment, let ds, let ss):
            return .copyMemory(destination: address(d), source: address(s), size: size, alignment: alignment,
                               destinationSpace: ds, sourceSpace: ss)
        case .setMemory(let a, let byte, let size, let alignment, let space):
            return .setMemory(address(a), byte: byte, size: size, alignment: alignment, addressSpace: space)
        case .slotAddress(let d, let s, let offset): return .slotAddress(defined(d), slot(s), offset: offset)
        case .symbolAddress(let d, let symbol, let offset):
            return .symbolAddress(defined(d), symbol: symbol, offset: offset)
        case .call(let d, let callee, let arguments): return .call(d.map(defined), callee, arguments.map(value))
        case .addrSpaceCast(let d, let v, let to, let from):
            return .addrSpaceCast(defined(d), value(v), to: to, from: from)
        case .setCondition(let d, let c, let w, let a, let b):
            return .setCondition(defined(d), c, w, value(a), value(b))
        case .atomic(let d, let op, let a, let v, let size, let space):
            return .atomic(d.map(defined), op, address(a), value(v), size, addressSpace: space)
        case .compareExchange(let d, let a, let expected, let desired, let size, let space):
            return .compareExchange(defined(d), address(a), expected: value(expected), desired: value(desired), size,
                                    addressSpace: space)
        case .inlineAsm(let asm):
            return .inlineAsm(asm.mapped(defined: defined, value: value))
        case .coreValue(let d, let relocation):
            return .coreValue(defined(d), relocation)
        }
    }
}

extension AsmOperand {
    /// The number the template gets in place of the operand, when it is one.
    public var immediate: Int64? {
        switch self {
        case .immediate(let value): return value
        case .registerOrImmediate(let value): return value.immediate
        case .input, .output, .inputOutput, .tied: return nil
        }
    }
}

extension Value {
    /// A constant an instruction's 32-bit immediate holds.
    var immediate: Int64? {
        guard case .constant(let c) = self, Int64(Int32(truncatingIfNeeded: c)) == c else { return nil }
        return c
    }
}

extension InlineAsm {
    /// The Temps the asm writes: its outputs, read-write ones included.
    public var outputs: [Temp] {
        operands.compactMap { operand in
            switch operand {
            case .output(let t, _), .inputOutput(let t, _): return t
            case .input, .tied, .immediate, .registerOrImmediate: return nil
            }
        }
    }

    /// The values the asm reads: its register inputs, read-write outputs included.
    public var inputs: [Value] {
        operands.compactMap { operand in
            switch operand {
            case .input(let v), .registerOrImmediate(let v): return v
            case .inputOutput(let t, _): return .temp(t)
            case .output, .tied, .immediate: return nil
            }
        }
    }

    /// The same asm with its written Temps and read values replaced; a read-write operand is one
    /// Temp, renamed as written.
    public func mapped(defined: (Temp) -> Temp, value: (Value) -> Value) -> InlineAsm {
        var result = self
        result.operands = operands.map { operand in
            switch operand {
            case .input(let v): return .input(value(v))
            case .registerOrImmediate(let v): return .registerOrImmediate(value(v))
            case .output(let t, let early): return .output(defined(t), earlyClobber: early)
            case .inputOutput(let t, let early): return .inputOutput(defined(t), earlyClobber: early)
            case .tied, .immediate: return operand
            }
        }
        return result
    }
}

extension Terminator {
    /// The values this terminator reads.
    public var usedValues: [Value] {
        switch self {
        case .branch(_, _, let a, let b, _, _): return [a, b]
        case .return(let v): return v.map { [$0] } ?? []
        case .jump, .mayGoto: return []
        case .inlineAsmGoto(let asm, _, _): return asm.inputs
        }
    }

    public var usedTemps: [Temp] { usedValues.compactMap(\.temp) }

    /// The blocks control may go to next.
    public var successors: [BlockID] {
        switch self {
        case .jump(let b): return [b]
        case .branch(_, _, _, _, let then, let otherwise): return [then, otherwise]
        case .return: return []
        case .mayGoto(let bail, let next): return [bail, next]
        case .inlineAsmGoto(_, let labels, let next): return labels + [next]
        }
    }

    /// The same terminator with its read values and targets replaced.
    public func mapped(value: (Value) -> Value, block: (BlockID) -> BlockID = { $0 }) -> Terminator {
        switch self {
        case .jump(let b): return .jump(block(b))
        case .branch(let c, let w, let a, let b, let then, let otherwise):
            return .branch(c, w, value(a), value(b), then: block(then), else: block(otherwise))
        case .return(let v): return .return(v.map(value))
        case .mayGoto(let bail, let next): return .mayGoto(bail: block(bail), next: block(next))
        case .inlineAsmGoto(let asm, let labels, let next):
            return .inlineAsmGoto(asm.mapped(defined: { $0 }, value: value), labels: labels.map(block), next: block(next))
        }
    }
}

extension Value {
    /// The Temp, when the value is one.
    public var temp: Temp? {
        if case .temp(let t) = self { return t }
        return nil
    }
}

extension Address {
    /// The register the address is relative to; nil for a stack slot.
    public var baseTemp: Temp? {
        switch self {
        case .temp(let t, _): return t
        case .slot: return nil
        }
    }

    var baseValue: [Value] { baseTemp.map { [.temp($0)] } ?? [] }
}

extension Condition {
    /// Whether `a cond b` holds for constants, as BPF compares them on `width` bits (JMP32 looks
    /// at the low halves only).
    public func holds(_ width: ALUWidth, _ a: Int64, _ b: Int64) -> Bool {
        let (x, y) = width == .bits32 ? (Int64(Int32(truncatingIfNeeded: a)), Int64(Int32(truncatingIfNeeded: b))) : (a, b)
        let (ux, uy) = width == .bits32
            ? (UInt64(UInt32(truncatingIfNeeded: a)), UInt64(UInt32(truncatingIfNeeded: b)))
            : (UInt64(bitPattern: a), UInt64(bitPattern: b))
        switch self {
        case .eq: return ux == uy
        case .ne: return ux != uy
        case .ugt: return ux > uy
        case .uge: return ux >= uy
        case .ult: return ux < uy
        case .ule: return ux <= uy
        case .sgt: return x > y
        case .sge: return x >= y
        case .slt: return x < y
        case .sle: return x <= y
        }
    }
}

/// Drops the blocks no path from the entry reaches and renumbers the rest densely, keeping their
/// order: the verifier rejects unreachable instructions, and code generation wants dense ids.
public func removingUnreachableBlocks(_ blocks: [Block]) -> [Block] {
    guard !blocks.isEmpty else { return blocks }
    var reachable: Set<BlockID> = [blocks[0].id]
    var work = [blocks[0].id]
    while let b = work.popLast() {
        for s in blocks[b.index].terminator.successors where reachable.insert(s).inserted {
            work.append(s)
        }
    }
    var renumber: [BlockID: BlockID] = [:]
    for block in blocks where reachable.contains(block.id) {
        renumber[block.id] = BlockID(renumber.count)
    }
    return blocks.filter { reachable.contains($0.id) }.map { block in
        var b = block
        b.id = renumber[block.id] ?? block.id
        b.terminator = block.terminator.mapped(value: { $0 }, block: { renumber[$0] ?? $0 })
        return b
    }
}

extension Function {
    /// The operations that write each Temp `including` selects, in block order: a Temp's
    /// assignments when it has several (a C local), what its value may come from.
    public func assignments(where including: (Temp) -> Bool) -> [Temp: [Operation]] {
        var assignments: [Temp: [Operation]] = [:]
        for block in blocks {
            for instruction in block.instructions {
                for t in instruction.operation.definedTemps where including(t) {
                    assignments[t, default: []].append(instruction.operation)
                }
            }
        }
        return assignments
    }

    /// How many times each Temp is read, by instructions and terminators, indexed by Temp.
    public var readCounts: [Int] {
        var reads = [Int](repeating: 0, count: tempCount)
        for block in blocks {
            for instruction in block.instructions {
                for t in instruction.operation.usedTemps { reads[t.index] += 1 }
            }
            for t in block.terminator.usedTemps { reads[t.index] += 1 }
        }
        return reads
    }
}
