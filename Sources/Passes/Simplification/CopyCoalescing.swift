import BPFIR

/// `t = a op b; x = t` with t read nowhere else becomes `x = a op b`: a C assignment of an
/// expression, without the temporary.
func coalesceCopies(_ function: inout Function) -> Bool {
    var reads = [Int](repeating: 0, count: function.tempCount)
    for block in function.blocks {
        for instruction in block.instructions {
            for t in instruction.operation.usedTemps { reads[t.index] += 1 }
        }
        for t in block.terminator.usedTemps { reads[t.index] += 1 }
    }
    var changed = false
    for b in function.blocks.indices {
        var instructions = function.blocks[b].instructions
        var i = 0
        while i + 1 < instructions.count {
            if case .copy(let x, .temp(let t)) = instructions[i + 1].operation, reads[t.index] == 1,
               instructions[i].operation.definedTemps == [t],
               let retargeted = retarget(instructions[i].operation, to: x) {
                instructions[i].operation = retargeted
                instructions.remove(at: i + 1)
                changed = true
            }
            i += 1
        }
        function.blocks[b].instructions = instructions
    }
    return changed
}

/// The same operation writing `destination` instead of its own Temp; nil for calls and loads,
/// whose results code generation places itself.
private func retarget(_ operation: Operation, to destination: Temp) -> Operation? {
    switch operation {
    case .binary(_, let op, let w, let a, let b): return .binary(destination, op, w, a, b)
    case .negate(_, let w, let v): return .negate(destination, w, v)
    case .signExtend(_, let v, let bits): return .signExtend(destination, v, fromBits: bits)
    case .zeroExtend(_, let v, let bits): return .zeroExtend(destination, v, fromBits: bits)
    case .byteSwap(_, let v, let bits): return .byteSwap(destination, v, bits: bits)
    case .setCondition(_, let c, let w, let a, let b): return .setCondition(destination, c, w, a, b)
    case .copy, .load, .store, .copyMemory, .setMemory, .slotAddress, .symbolAddress, .call, .addrSpaceCast,
         .atomic, .compareExchange, .inlineAsm, .coreValue:
        return nil
    }
}
