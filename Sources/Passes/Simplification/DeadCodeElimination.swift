import BPFIR

/// Removes side-effect-free instructions whose result nobody reads, except addresses of `kept`
/// symbols; true when any went.
func removeDeadInstructions(_ function: inout Function, keeping kept: Set<String> = []) -> Bool {
    var removedAny = false
    while true {
        var used = Set<Temp>()
        for block in function.blocks {
            for instruction in block.instructions { used.formUnion(instruction.operation.usedTemps) }
            used.formUnion(block.terminator.usedTemps)
        }
        var removed = false
        for b in function.blocks.indices {
            function.blocks[b].instructions.removeAll { instruction in
                if case .symbolAddress(_, let symbol, _) = instruction.operation, kept.contains(symbol) { return false }
                guard isPure(instruction.operation),
                      let d = instruction.operation.definedTemps.first, !used.contains(d) else { return false }
                removed = true
                return true
            }
        }
        if !removed { return removedAny }
        removedAny = true
    }
}

private func isPure(_ operation: Operation) -> Bool {
    switch operation {
    case .copy, .binary, .negate, .signExtend, .zeroExtend, .byteSwap, .slotAddress, .symbolAddress, .addrSpaceCast,
         .setCondition, .coreValue:
        return true
    case .load(_, _, _, _, let flags):
        // A BPF load cannot fault at run time (the verifier proves each one safe), so an unread one
        // may go, as LLVM drops it; a volatile or atomic one happens as written.
        return !flags.isVolatile && !flags.isOrdered
    case .store, .copyMemory, .setMemory, .call, .atomic, .compareExchange, .inlineAsm:
        return false
    }
}
