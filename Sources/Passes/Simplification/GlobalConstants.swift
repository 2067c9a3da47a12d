import BPFIR

/// Constants of Temps assigned in several places, across blocks: where every path into a block
/// assigns a Temp the same constant (both sides of an `if` set a flag to 1, a counter starts at 0
/// before a join), reads of it read that constant. What is known at each block's start is the
/// meet of what its predecessors end with, to a fixed point; at most `capacity` Temps are followed,
/// so that a huge function stays linear. Temps assigned once are propagation's.
func propagateConstantsAcrossBlocks(_ function: inout Function, _ onceAssigned: OnceAssigned) -> Bool {
    let count = function.blocks.count
    guard count > 1 else { return false }
    let capacity = 64
    func constant(_ value: Value, _ known: [Temp: Int64]) -> Value {
        if case .temp(let t) = value, let c = known[t] { return .constant(c) }
        return value
    }
    func substituted(_ operation: Operation, _ known: [Temp: Int64]) -> Operation {
        let mapped = operation.mapped(defined: { $0 }, value: { constant($0, known) }, address: { $0 })
        return fold(mapped, zeroExtendedBits: { _ in nil }, signExtendedBits: { _ in nil }, signExtensionSource: { _ in nil })
    }
    func transfer(_ operation: Operation, _ known: inout [Temp: Int64]) {
        for defined in operation.definedTemps {
            if case .copy(_, .constant(let c)) = operation, !onceAssigned.isOnce(defined),
               known.count < capacity || known[defined] != nil {
                known[defined] = c
            } else {
                known[defined] = nil
            }
        }
    }
    let meet: ([Temp: Int64], [Temp: Int64]) -> [Temp: Int64] = { a, b in a.filter { b[$0.key] == $0.value } }
    guard let entries = blockEntryStates(of: function, start: [:], meet: meet, transfer: { b, entry in
        var known = entry
        for instruction in function.blocks[b].instructions { transfer(substituted(instruction.operation, known), &known) }
        return known
    }) else { return false }
    var rewritten = false
    for b in 0..<count {
        guard var known = entries[b] else { continue }
        for i in function.blocks[b].instructions.indices {
            let operation = substituted(function.blocks[b].instructions[i].operation, known)
            if operation != function.blocks[b].instructions[i].operation {
                function.blocks[b].instructions[i].operation = operation
                rewritten = true
            }
            transfer(operation, &known)
        }
        let terminator = foldTerminator(function.blocks[b].terminator.mapped(value: { constant($0, known) }))
        if terminator != function.blocks[b].terminator {
            function.blocks[b].terminator = terminator
            rewritten = true
        }
    }
    return rewritten
}
