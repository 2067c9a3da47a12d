import BPFIR

/// Removes side-effect-free instructions whose result nobody reads, except addresses of `kept`
/// symbols; true when any went. Removing one may leave its operands unread: a worklist of Temps
/// whose last reader went finds those, where sweeping the function again would cost a sweep per
/// instruction of a dead chain. An assignment that a later one in its block overwrites before
/// anything reads it goes too (unrolled copies leave such runs: `i = 1; i = 2; ...`).
func removeDeadInstructions(_ function: inout Function, keeping kept: Set<String> = []) -> Bool {
    var dead = function.blocks.map { [Bool](repeating: false, count: $0.instructions.count) }
    var removedAny = false
    for (b, block) in function.blocks.enumerated() {
        var overwritten: Set<Temp> = []
        for (i, instruction) in block.instructions.enumerated().reversed() {
            let defined = instruction.operation.definedTemps
            if case .symbolAddress(_, let symbol, _) = instruction.operation, kept.contains(symbol) {
                // Kept even when unread.
            } else if isPure(instruction.operation), defined.count == 1, overwritten.contains(defined[0]) {
                dead[b][i] = true
                removedAny = true
                continue
            }
            overwritten.formUnion(defined)
            overwritten.subtract(instruction.operation.usedTemps)
        }
    }
    var readers = [Int](repeating: 0, count: function.tempCount)
    var pureDefinitions = [[(block: Int, index: Int)]](repeating: [], count: function.tempCount)
    for (b, block) in function.blocks.enumerated() {
        for (i, instruction) in block.instructions.enumerated() where !dead[b][i] {
            for t in instruction.operation.usedTemps { readers[t.index] += 1 }
            if case .symbolAddress(_, let symbol, _) = instruction.operation, kept.contains(symbol) { continue }
            if isPure(instruction.operation), let d = instruction.operation.definedTemps.first {
                pureDefinitions[d.index].append((b, i))
            }
        }
        for t in block.terminator.usedTemps { readers[t.index] += 1 }
    }
    var work = (0..<function.tempCount).filter { readers[$0] == 0 && !pureDefinitions[$0].isEmpty }
    while let t = work.popLast() {
        for (b, i) in pureDefinitions[t] where !dead[b][i] {
            dead[b][i] = true
            removedAny = true
            for u in function.blocks[b].instructions[i].operation.usedTemps {
                readers[u.index] -= 1
                if readers[u.index] == 0 && !pureDefinitions[u.index].isEmpty { work.append(u.index) }
            }
        }
    }
    guard removedAny else { return false }
    for b in function.blocks.indices where dead[b].contains(true) {
        function.blocks[b].instructions = function.blocks[b].instructions.indices.filter { !dead[b][$0] }
            .map { function.blocks[b].instructions[$0] }
    }
    return true
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
