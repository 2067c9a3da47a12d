import BPFIR

// Block layout: the order blocks are emitted in, chosen so that as many edges as possible fall
// through to the next block and need no `ja`.
//
// Greedy chains: after a block, place its preferred successor if it is not placed yet (a jump's
// target, a branch's then-block else its else-block, a may_goto's `next`); otherwise continue with
// the lowest-numbered block not placed yet, which keeps the frontend's order (loop bodies after
// their header, the exit after the loop). Blocks unreachable from the entry are left out, and so
// is the side of a branch on two constants that is never taken: the verifier rejects a program
// with unreachable instructions.

/// The reachable blocks of `function`, entry first, in emission order.
func layoutOrder(_ function: Function) -> [BlockID] {
    var reachable = Set<BlockID>([BlockID(0)])
    var work = [BlockID(0)]
    while let b = work.popLast() {
        for s in takenSuccessors(function.blocks[b.index].terminator) where reachable.insert(s).inserted {
            work.append(s)
        }
    }

    var order: [BlockID] = []
    var placed = Set<BlockID>()
    var candidate: BlockID? = BlockID(0)
    var nextInOrder = 0
    while order.count < reachable.count {
        let block: BlockID
        if let c = candidate, !placed.contains(c) {
            block = c
        } else {
            while placed.contains(BlockID(nextInOrder)) || !reachable.contains(BlockID(nextInOrder)) {
                nextInOrder += 1
            }
            block = BlockID(nextInOrder)
        }
        order.append(block)
        placed.insert(block)
        candidate = preferredSuccessor(function.blocks[block.index].terminator, placed: placed,
                                       isBareReturn: {
                                           function.blocks[$0.index].instructions.isEmpty
                                               && function.blocks[$0.index].terminator.isReturn
                                       },
                                       jumpsTo: { function.blocks[$0.index].terminator == .jump($1) })
    }
    return order
}

/// `isBareReturn` tells the blocks that only return: a branch continues with its other side, so
/// that such a block, shared by the returns of one value, comes after the code that jumps to it
/// (the last of which falls through into it), as an early `return 0;` is laid out by clang.
/// `jumpsTo(a, b)` tells whether block a only jumps to b: a branch whose else side jumps to its
/// then side (`x = 5; if (c) goto join; x = 9; join:`) continues with the else side, which then
/// falls through into the join, where placing the join first would leave the else side a jump
/// back.
private func preferredSuccessor(_ terminator: Terminator, placed: Set<BlockID>, isBareReturn: (BlockID) -> Bool,
                                jumpsTo: (BlockID, BlockID) -> Bool) -> BlockID? {
    switch terminator {
    case .jump(let target):
        return target
    case .branch(_, _, .constant, .constant, _, _):
        return takenSuccessors(terminator).first
    case .branch(_, _, _, _, let then, let otherwise):
        if placed.contains(then) { return otherwise }
        if !placed.contains(otherwise), jumpsTo(otherwise, then) { return otherwise }
        return isBareReturn(then) && !placed.contains(otherwise) ? otherwise : then
    case .mayGoto(_, let next), .inlineAsmGoto(_, _, let next):
        return next
    case .return:
        return nil
    }
}

/// The successors control can reach: a branch on two constants goes one way only.
func takenSuccessors(_ terminator: Terminator) -> [BlockID] {
    if case .branch(let condition, let width, .constant(let x), .constant(let y), let then, let otherwise) = terminator {
        return [condition.holds(width, x, y) ? then : otherwise]
    }
    return terminator.successors
}

private extension Terminator {
    var isReturn: Bool {
        if case .return = self { return true }
        return false
    }
}
