import BPFIR

/// An edge into an empty block that only branches on a Temp whose value is known at the edge goes
/// straight to the side the branch would take. `can_loop` sets a flag to 1 before its may_goto
/// and to 0 on the bail-out edge, then tests it: both edges can skip the test. bpf_cmp_unlikely
/// sets its result before its asm goto and tests it at the label: the asm's jump goes where
/// the test would. An edge into an empty block that only jumps goes to where it jumps.
///
/// What is known at the end of a block: its own assignments of constants, on top of what was
/// known at the end of its only predecessor.
func threadJumps(_ function: inout Function) -> Bool {
    let count = function.blocks.count
    var predecessors = [[Int]](repeating: [], count: count)
    for (b, block) in function.blocks.enumerated() {
        for s in block.terminator.successors { predecessors[s.index].append(b) }
    }
    var known = [[Temp: Int64]?](repeating: nil, count: count)
    func constantsAtEnd(_ b: Int, depth: Int = 0) -> [Temp: Int64] {
        if let k = known[b] { return k }
        var values: [Temp: Int64] = [:]
        if predecessors[b].count == 1, b != 0, depth < 32 {
            values = constantsAtEnd(predecessors[b][0], depth: depth + 1)
        }
        for instruction in function.blocks[b].instructions {
            for defined in instruction.operation.definedTemps {
                if case .copy(_, .constant(let c)) = instruction.operation { values[defined] = c } else { values[defined] = nil }
            }
        }
        known[b] = values
        return values
    }
    var changed = false
    for b in function.blocks.indices {
        let values = constantsAtEnd(b)
        func constant(_ v: Value) -> Int64? {
            switch v {
            case .constant(let c): return c
            case .temp(let t): return values[t]
            }
        }
        /// Where an edge into `target` ends up.
        func destination(_ target: BlockID) -> BlockID {
            guard function.blocks[target.index].instructions.isEmpty else { return target }
            switch function.blocks[target.index].terminator {
            case .jump(let next):
                return next
            case .branch(let condition, let width, let x, let y, let then, let otherwise):
                guard let a = constant(x), let c = constant(y) else { return target }
                return condition.holds(width, a, c) ? then : otherwise
            case .return, .mayGoto, .inlineAsmGoto:
                return target
            }
        }
        let terminator = function.blocks[b].terminator.mapped(value: { $0 }, block: destination)
        if terminator != function.blocks[b].terminator {
            function.blocks[b].terminator = terminator
            changed = true
        }
    }
    if changed { function.blocks = removingUnreachableBlocks(function.blocks) }
    return changed
}
