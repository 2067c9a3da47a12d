import BPFIR

// The loop that the expanding passes (signed division, aggregate lowering, stack alignment)
// share: each instruction of each block either stays or is replaced, in place, by a sequence
// that keeps its source location and note.

/// Replaces instructions in every function of `module`. `expand` is given each instruction, the
/// function (for new Temps) and `emit`, which appends one replacing operation; it returns false to
/// keep the instruction unchanged, true when what it emitted replaces it.
func expandInstructions(
    _ module: inout Module,
    _ expand: (IRInstruction, inout Function, (Operation) -> Void) -> Bool
) {
    for f in module.functions.indices {
        var function = module.functions[f]
        for b in function.blocks.indices {
            var rewritten: [IRInstruction] = []
            for instruction in function.blocks[b].instructions {
                let replaced = expand(instruction, &function) { operation in
                    rewritten.append(IRInstruction(operation, at: instruction.location, note: instruction.note))
                }
                if !replaced { rewritten.append(instruction) }
            }
            function.blocks[b].instructions = rewritten
        }
        module.functions[f] = function
    }
}
