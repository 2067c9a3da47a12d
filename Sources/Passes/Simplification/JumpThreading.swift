import BPFIR

/// An edge into an empty block that only branches on a Temp whose value is known at the edge goes
/// straight to the side the branch would take. `can_loop` sets a flag to 1 before its may_goto
/// and to 0 on the bail-out edge, then tests it: both edges can skip the test. bpf_cmp_unlikely
/// sets its result before its asm goto and tests it at the label: the asm's jump goes where
/// the test would. An edge into an empty block that only jumps goes to where it jumps.
///
/// What is known at the end of a block: BlockEndConstants.
func threadJumps(_ function: inout Function) -> Bool {
    let count = function.blocks.count
    var predecessors = [[Int]](repeating: [], count: count)
    for (b, block) in function.blocks.enumerated() {
        for s in block.terminator.successors { predecessors[s.index].append(b) }
    }
    var ends = BlockEndConstants(function, predecessors: predecessors)
    var changed = false
    for b in function.blocks.indices {
        let values = ends.values(atEndOf: b)
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
