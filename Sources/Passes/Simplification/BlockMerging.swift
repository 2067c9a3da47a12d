import BPFIR

/// A block that only jumps to a block nothing else jumps to absorbs it: the two always run one
/// after the other. Unrolled loops and inlined calls leave such chains, and within one block
/// block propagation can share what the two compute (a global's address loaded once).
func mergeBlocks(_ function: inout Function) -> Bool {
    var predecessorCount = [Int](repeating: 0, count: function.blocks.count)
    for block in function.blocks {
        for s in block.terminator.successors { predecessorCount[s.index] += 1 }
    }
    var changed = false
    for b in function.blocks.indices {
        while case .jump(let next) = function.blocks[b].terminator, next.index != 0, next.index != b,
              predecessorCount[next.index] == 1 {
            let absorbed = function.blocks[next.index]
            function.blocks[b].instructions += absorbed.instructions
            function.blocks[b].terminator = absorbed.terminator
            function.blocks[b].terminatorLocation = absorbed.terminatorLocation
            // The absorbed block is now unreachable; it jumps to itself until it is removed, so
            // that no other block absorbs it too.
            function.blocks[next.index].instructions = []
            function.blocks[next.index].terminator = .jump(next)
            predecessorCount[next.index] = 0
            changed = true
        }
    }
    if changed { function.blocks = removingUnreachableBlocks(function.blocks) }
    return changed
}
