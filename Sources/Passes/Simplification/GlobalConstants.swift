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
    var predecessors = [[Int]](repeating: [], count: count)
    for (b, block) in function.blocks.enumerated() {
        for s in Set(block.terminator.successors.map(\.index)) { predecessors[s].append(b) }
    }
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
    // A block no path reached yet (nil) does not constrain the meet.
    var exits = [[Temp: Int64]?](repeating: nil, count: count)
    func entry(_ b: Int) -> [Temp: Int64]? {
        guard b != 0, !predecessors[b].isEmpty else { return [:] }
        let reached = predecessors[b].compactMap { exits[$0] }
        guard var known = reached.first else { return nil }
        for other in reached.dropFirst() { known = known.filter { other[$0.key] == $0.value } }
        return known
    }
    var changed = true
    var rounds = 0
    while changed {
        guard rounds < 16 else { return false }
        rounds += 1
        changed = false
        for b in 0..<count {
            guard var known = entry(b) else { continue }
            for instruction in function.blocks[b].instructions {
                transfer(substituted(instruction.operation, known), &known)
            }
            if exits[b] != known {
                exits[b] = known
                changed = true
            }
        }
    }
    var rewritten = false
    for b in 0..<count {
        guard var known = entry(b), !known.isEmpty || !(exits[b]?.isEmpty ?? true) else { continue }
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
