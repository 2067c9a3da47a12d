import BPFIR

/// Returns of the same value share one block: an empty block that returns it, which the other
/// returns of that value jump to, so that each early `return 0;` of a C function does not repeat
/// `r0 = 0; exit` (clang's code shares it too).
func mergeReturns(_ function: inout Function) -> Bool {
    var shared: [Value?: BlockID] = [:]
    for block in function.blocks where block.instructions.isEmpty {
        if case .return(let value) = block.terminator, shared[value] == nil { shared[value] = block.id }
    }
    var changed = false
    for b in function.blocks.indices {
        guard case .return(let value) = function.blocks[b].terminator, let target = shared[value],
              target != function.blocks[b].id else { continue }
        function.blocks[b].terminator = .jump(target)
        changed = true
    }
    if changed { function.blocks = removingUnreachableBlocks(function.blocks) }
    return changed
}
