import BPFIR

/// A branch into two blocks that each assign the same Temp (`x = c ? 5 : 9`, `if (c) r = 1; else
/// r = 0;`): the side that only assigns it a constant has its assignment moved before the branch,
/// where the other side overwrites it before anything reads it. That side's block is then empty
/// and jump threading sends its edge on to where it jumps, so BPF runs `x = 5; if (!c) x = 9`,
/// one jump fewer than the diamond's `if (c) goto A; x = 9; goto J; A: x = 5`, with the same
/// paths for the verifier to walk.
func speculateConstants(_ function: inout Function) -> Bool {
    let predecessors = ControlFlow.predecessors(of: function)
    /// Whether block `b` assigns `t` before anything in it reads `t`.
    func overwritesFirst(_ b: Int, _ t: Temp) -> Bool {
        for instruction in function.blocks[b].instructions {
            if instruction.operation.usedTemps.contains(t) { return false }
            if instruction.operation.definedTemps.contains(t) { return true }
        }
        return false
    }
    var changed = false
    for b in function.blocks.indices {
        guard case .branch(_, _, let x, let y, let then, let otherwise) = function.blocks[b].terminator,
              then != otherwise, then.index != b, otherwise.index != b else { continue }
        for (side, other) in [(then.index, otherwise.index), (otherwise.index, then.index)] {
            guard predecessors[side].count == 1, function.blocks[side].instructions.count == 1,
                  case .copy(let t, .constant) = function.blocks[side].instructions[0].operation,
                  x != .temp(t), y != .temp(t), overwritesFirst(other, t) else { continue }
            function.blocks[b].instructions.append(function.blocks[side].instructions[0])
            function.blocks[side].instructions = []
            changed = true
            break
        }
    }
    return changed
}
