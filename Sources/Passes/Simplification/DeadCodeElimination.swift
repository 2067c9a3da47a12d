import BPFIR

/// Removes side-effect-free instructions whose result nothing with an effect needs, except
/// addresses of `kept` symbols; true when any went. Calls of the `pure` functions are free of
/// effects too. An assignment that a later one in its block overwrites before anything reads it
/// goes too (unrolled copies leave such runs: `i = 1; i = 2; ...`).
func removeDeadInstructions(_ function: inout Function, keeping kept: Set<String> = [],
                            pure: PureFunctions = PureFunctions()) -> Bool {
    let removable = { (operation: Operation) in isPure(operation) || pure.isPureCall(operation) }
    var dead = function.blocks.map { [Bool](repeating: false, count: $0.instructions.count) }
    var removedAny = false
    for (b, block) in function.blocks.enumerated() {
        var overwritten: Set<Temp> = []
        for (i, instruction) in block.instructions.enumerated().reversed() {
            let defined = instruction.operation.definedTemps
            if case .symbolAddress(_, let symbol, _) = instruction.operation, kept.contains(symbol) {
                // Kept even when unread.
            } else if removable(instruction.operation), defined.count == 1, overwritten.contains(defined[0]) {
                dead[b][i] = true
                removedAny = true
                continue
            }
            overwritten.formUnion(defined)
            overwritten.subtract(instruction.operation.usedTemps)
        }
    }
    // A Temp is live when something other than a pure instruction reads it (a store, a call, a
    // terminator), or a pure instruction defining a live Temp does. Marked from those roots, a
    // value only a loop's own update reads (`s = s * 7 + p[i]` whose s nobody uses after) is
    // dead too, which counting readers would never find.
    var live = [Bool](repeating: false, count: function.tempCount)
    var pureDefinitions = [[(block: Int, index: Int)]](repeating: [], count: function.tempCount)
    var work: [Temp] = []
    func markLive(_ temps: [Temp]) {
        for t in temps where !live[t.index] {
            live[t.index] = true
            work.append(t)
        }
    }
    for (b, block) in function.blocks.enumerated() {
        for (i, instruction) in block.instructions.enumerated() where !dead[b][i] {
            let operation = instruction.operation
            if case .symbolAddress(_, let symbol, _) = operation, kept.contains(symbol) { continue }
            if removable(operation) {
                if let d = operation.definedTemps.first {
                    pureDefinitions[d.index].append((b, i))
                } else {
                    // A pure call whose result is not taken.
                    dead[b][i] = true
                    removedAny = true
                }
            } else {
                markLive(operation.usedTemps)
            }
        }
        markLive(block.terminator.usedTemps)
    }
    while let t = work.popLast() {
        for (b, i) in pureDefinitions[t.index] where !dead[b][i] {
            markLive(function.blocks[b].instructions[i].operation.usedTemps)
        }
    }
    for t in live.indices where !live[t] {
        for (b, i) in pureDefinitions[t] where !dead[b][i] {
            dead[b][i] = true
            removedAny = true
        }
    }
    guard removedAny else { return false }
    for b in function.blocks.indices where dead[b].contains(true) {
        function.blocks[b].instructions = function.blocks[b].instructions.indices.filter { !dead[b][$0] }
            .map { function.blocks[b].instructions[$0] }
    }
    return true
}

/// Whether the operation only computes its result: it writes no memory and may be left out when
/// nothing reads what it computes.
func isPure(_ operation: Operation) -> Bool {
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
