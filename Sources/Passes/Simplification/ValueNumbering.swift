import BPFIR

/// Common subexpressions across blocks: where every path into an instruction computed the same
/// `a op b` into a Temp, and neither that Temp nor an operand was assigned since, the instruction
/// is a copy of that Temp, or nothing when it assigns that Temp. This finds `r * 16` of an outer loop's counter computed again in each
/// block of an unrolled inner loop, which comparing Temps assigned once could not (the counter is
/// a C local, assigned in several places). What is available at each block's start comes from
/// `blockEntryStates`; only computations made in more than one place are followed, fewer the
/// more blocks there are, so that a huge function stays linear. Block propagation does the same
/// inside a block. A call of one of the `pure` functions with the same arguments is a computation too.
func numberValues(_ function: inout Function, pure: PureFunctions = PureFunctions()) -> Bool {
    // At most about 100,000 entries over all blocks' states.
    let capacity = max(8, min(128, 100_000 / max(function.blocks.count, 1)))
    guard function.blocks.count > 1 else { return false }
    // The computations made more than once, by first appearance; the keys that read each Temp,
    // and those each Temp is assigned, which its assignment makes unavailable.
    var counts: [Operation: Int] = [:]
    var order: [Operation] = []
    for block in function.blocks {
        for instruction in block.instructions {
            guard let (_, what) = computation(instruction.operation, pure: pure) else { continue }
            if counts[what, default: 0] == 0 { order.append(what) }
            counts[what, default: 0] += 1
        }
    }
    let followed = Set(order.filter { counts[$0]! > 1 }.prefix(capacity))
    guard !followed.isEmpty else { return false }
    var readers: [Temp: [Operation]] = [:]
    var held: [Temp: [Operation]] = [:]
    for what in followed { for t in Set(what.usedTemps) { readers[t, default: []].append(what) } }
    for block in function.blocks {
        for instruction in block.instructions {
            if let (d, what) = computation(instruction.operation, pure: pure), followed.contains(what) {
                held[d, default: []].append(what)
            }
        }
    }

    /// Which Temp holds each available computation.
    typealias Available = [Operation: Temp]
    func transfer(_ operation: Operation, _ available: inout Available) {
        for defined in operation.definedTemps {
            for what in readers[defined] ?? [] { available[what] = nil }
            for what in held[defined] ?? [] where available[what] == defined { available[what] = nil }
        }
        if let (d, what) = computation(operation, pure: pure), followed.contains(what), !what.usedTemps.contains(d) {
            available[what] = d
        }
    }
    let meet: (Available, Available) -> Available = { a, b in a.filter { b[$0.key] == $0.value } }
    guard let entries = blockEntryStates(of: function, start: [:], meet: meet, transfer: { b, entry in
        var available = entry
        for instruction in function.blocks[b].instructions { transfer(instruction.operation, &available) }
        return available
    }) else { return false }

    var changed = false
    for b in function.blocks.indices {
        guard var available = entries[b], !available.isEmpty else { continue }
        var kept: [IRInstruction] = []
        for var instruction in function.blocks[b].instructions {
            if let (d, what) = computation(instruction.operation, pure: pure), let holder = available[what] {
                changed = true
                // Computed again into the Temp that holds it (an unrolled loop's copies each
                // compute `%4 = %1 * 16`), it is not needed at all.
                if holder == d { continue }
                instruction.operation = .copy(d, .temp(holder))
            }
            transfer(instruction.operation, &available)
            kept.append(instruction)
        }
        function.blocks[b].instructions = kept
    }
    return changed
}

/// A pure computation's key (see `pureComputation`), or a global's address: the same ld_imm64
/// again is a copy too.
private func computation(_ operation: Operation, pure: PureFunctions) -> (destination: Temp, key: Operation)? {
    if case .symbolAddress(let d, let symbol, let offset) = operation {
        return (d, .symbolAddress(Temp(-1), symbol: symbol, offset: offset))
    }
    return pureComputation(operation, pure: pure)
}
