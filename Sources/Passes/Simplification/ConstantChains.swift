import BPFIR

// Constant chains: inside one block, `t = x | 2` then `u = t | 16` is `u = x | 18`, and a
// variable updated again and again (`bits |= 2; bits |= 16; bits |= 32`, each a C statement)
// is one update. The same for and, xor, add and mul, in either width. A constant between two
// steps moves past a Temp operand (`(x + 40) + y` is `(x + y) + 40`) to join the next one.
// Propagation composes masks of Temps assigned once; this also takes a C local assigned in
// many places.

/// Joins each run of one operation with constants in the blocks of `function`; true when any was.
func joinConstantChains(_ function: inout Function) -> Bool {
    var changed = false
    let reads = function.readCounts
    for b in function.blocks.indices where joinConstantChains(&function.blocks[b], reads: reads) { changed = true }
    return changed
}

/// The last `destination = source op constant` of a Temp, while it still describes the Temp.
private struct ChainStep {
    var index: Int
    var op: BinaryOperator
    var width: ALUWidth
    var source: Temp
    var constant: Int64
}

/// `reads` counts each Temp's reads in the whole function: a step read elsewhere too stays what
/// the next one computes from, or both it and what it steps from would stay live.
private func joinConstantChains(_ block: inout Block, reads: [Int]) -> Bool {
    var steps: [Temp: ChainStep] = [:]
    /// The steps computed from each Temp, which its next assignment makes stale.
    var stepsFrom: [Temp: [Temp]] = [:]
    var removed: Set<Int> = []
    /// Where each Temp was last assigned in the block.
    var assignedAt: [Temp: Int] = [:]
    var changed = false
    for i in block.instructions.indices {
        var operation = block.instructions[i].operation
        var joinedStep = false
        // `t = x + 40; u = t + y` is `t = x + y; u = t + 40`: the constant moves out, where the
        // next step's joins it. Only where y has its value already at t's step.
        if case .binary(let u, let op, let width, .temp(let t), .temp(let y)) = operation, y != t,
           let step = steps[t], step.op == op, step.width == width, step.source != t, reads[t.index] == 1,
           (assignedAt[y] ?? -1) < step.index {
            block.instructions[step.index].operation = .binary(t, op, width, .temp(step.source), .temp(y))
            steps[t] = nil
            operation = .binary(u, op, width, .temp(t), .constant(step.constant))
            block.instructions[i].operation = operation
            changed = true
        }
        if case .binary(let d, let op, let width, .temp(let t), .constant(let c2)) = operation,
           let step = steps[t], step.op == op, step.width == width, let c = joined(op, width, step.constant, c2),
           step.source == t ? d == t : reads[t.index] == 1 {
            // `t = t op c1; t = t op c2`: the first goes, the second does both.
            if step.source == t { removed.insert(step.index) }
            operation = .binary(d, op, width, .temp(step.source), .constant(c))
            block.instructions[i].operation = operation
            changed = true
            joinedStep = true
        }
        // A step that updates its own Temp is joined only while nothing else reads that Temp.
        for t in operation.usedTemps where !joinedStep || t != operation.definedTemps.first {
            if steps[t]?.source == t { steps[t] = nil }
        }
        for defined in operation.definedTemps {
            assignedAt[defined] = i
            steps[defined] = nil
            for t in stepsFrom.removeValue(forKey: defined) ?? [] where steps[t]?.source == defined && t != defined {
                steps[t] = nil
            }
        }
        if case .binary(let d, let op, let width, .temp(let x), .constant(let c)) = operation,
           joined(op, width, c, c) != nil {
            steps[d] = ChainStep(index: i, op: op, width: width, source: x, constant: c)
            if x != d { stepsFrom[x, default: []].append(d) }
        }
    }
    if !removed.isEmpty {
        block.instructions = block.instructions.enumerated().filter { !removed.contains($0.offset) }.map(\.element)
    }
    return changed
}

/// `(x op c1) op c2` as `x op c`, for the operations where that holds; nil for the others, or
/// where `c` would not fit the immediate both constants fitted.
private func joined(_ op: BinaryOperator, _ width: ALUWidth, _ c1: Int64, _ c2: Int64) -> Int64? {
    let c: Int64
    switch op {
    case .or: c = c1 | c2
    case .and: c = c1 & c2
    case .xor: c = c1 ^ c2
    case .add: c = c1 &+ c2
    case .mul: c = c1 &* c2
    case .sub, .udiv, .umod, .sdiv, .smod, .shl, .lshr, .ashr: return nil
    }
    // A 32-bit operation reads the low half of its constant.
    if width == .bits32 { return Int64(Int32(truncatingIfNeeded: c)) }
    guard Int32(exactly: c1) != nil, Int32(exactly: c2) != nil else { return c }
    return Int32(exactly: c).map(Int64.init)
}
