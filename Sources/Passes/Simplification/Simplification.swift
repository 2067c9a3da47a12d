import BPFIR

// Simplification: the clean-up passes below, run in this order over each function until none
// changes anything (at most 8 rounds):
//
//   propagation         constants and copies of Temps assigned once, folded where they meet
//                       (OnceAssigned tells where such a Temp holds its one value), with
//                       addresses of one base compared and subtracted (AddressFolding), runs
//                       of masks and sets composed (MaskedValues), pieces of one value ored
//                       back in place (Reassembly) and, in the last simplification,
//                       comparisons' values without branches (ComparisonValues);
//   narrowing           64-bit arithmetic on numbers read only in its low 32 bits becomes 32-bit;
//   extension removal   32-bit extensions whose readers only look at the low 32 bits;
//   value numbering     a computation every path already made, its operands unchanged since,
//                       is a copy of its result; a call of a pure function (PureFunctions)
//                       with the same arguments is such a computation;
//   global constants    a Temp every path into a block assigns the same constant reads it;
//   block propagation   constants, copies and global addresses inside one block, for any Temp;
//   constant chains     `t |= 2; t |= 16` is `t |= 18`, for any Temp (ConstantChains);
//   copy coalescing     `t = a op b; x = t` becomes `x = a op b`;
//   select folding      in the last simplification, `(x == 7) * 100 + 3` chooses 103 or 3
//                       (SelectFolding);
//   join folding        `y = x + 6` after `x = c ? 2 : 4` is `y = 8` and `y = 10` in the arms
//                       (JoinFolding);
//   speculation         `x = c ? 5 : 9` assigns 5 before the branch, which only 9's side redoes;
//   join hoisting       what follows a branch's arms and depends on neither moves above it
//                       (JoinHoisting);
//   jump threading      a jump into a branch on a value known at the jump goes to its side;
//   block merging       a block that jumps to one nothing else jumps to absorbs it;
//   tail merging        in the last simplification, two blocks that compute the same thing and
//                       end the same way are one (TailMerging);
//   return merging      returns of one value share one block;
//   dead code           side-effect-free instructions nothing with an effect needs, calls of
//                       pure functions among them.
//
// Requires: nothing (it runs right after inlining, on frontend IR, and again after load forwarding).
// Guarantees: the same behaviour with fewer instructions. Stores, calls other than of pure
// functions, volatile or ordered loads and the address of an arena are never removed (an
// ld_imm64 of the arena, read or not, is what gives a program its arena).
// Why: the frontend lowers each C expression on its own, so it leaves copies of constants,
// parameters copied by inlining, and extensions of values that are already extended (a byte
// load is already zero-extended).

/// Simplifies every function of the module. `comparisonsWithoutBranches` (the last simplification,
/// after the loop passes) also computes comparisons' values without a branch where arithmetic can
/// (ComparisonValues.swift); earlier, a comparison says more to the passes than its arithmetic.
public func simplify(_ module: inout Module, comparisonsWithoutBranches: Bool = false) {
    let arenas = arenaSymbols(of: module)
    // What this object defines is somewhere, except in the arena, whose first page may be at 0.
    let nonNull = Set(module.functions.map(\.name) + module.globals.map(\.symbol)).subtracting(arenas)
    let pure = PureFunctions(module)
    for index in module.functions.indices {
        var function = module.functions[index]
        // The kernel reads a program's result in at least 32 bits (an XDP action, a verdict).
        let returnedBits = function.section == nil ? module.types.returnedBits(ofFunction: function.type)
                                                   : max(32, module.types.returnedBits(ofFunction: function.type))
        var graph: ControlFlow?
        for _ in 0..<8 {
            guard simplifyOnce(&function, returnedBits: returnedBits, keeping: arenas, nonNull: nonNull, pure: pure,
                               comparisonsWithoutBranches: comparisonsWithoutBranches, graph: &graph) else { break }
        }
        module.functions[index] = function
    }
}

/// One round of every simplification; true when any changed the function. Callers read the low
/// `returnedBits` of its result; the addresses of `kept` symbols stay even when unread; those of
/// `nonNull` symbols are never 0; calls of `pure` functions are computations. `graph` is the
/// control flow the last round saw, reused while its edges stay.
private func simplifyOnce(_ function: inout Function, returnedBits: Int, keeping kept: Set<String>,
                          nonNull: Set<String>, pure: PureFunctions, comparisonsWithoutBranches: Bool,
                          graph: inout ControlFlow?) -> Bool {
    // Propagation rewrites operands and folds, but keeps every edge it does not prove dead and
    // every instruction where it was, so what OnceAssigned found still holds for extension
    // removal; unless a comparison without a branch took two instructions, which moves the rest.
    var onceAssigned = OnceAssigned(function, reusing: graph)
    graph = onceAssigned.graph
    let count = function.blocks.reduce(0) { $0 + $1.instructions.count }
    var changed = propagateOnceAssigned(&function, onceAssigned, nonNull: nonNull,
                                        comparisonsWithoutBranches: comparisonsWithoutBranches)
    if function.blocks.reduce(0, { $0 + $1.instructions.count }) != count {
        onceAssigned = OnceAssigned(function, reusing: graph)
    }
    if narrowOperations(&function, returnedBits: returnedBits) { changed = true }
    if removeUnneededExtensions(&function, onceAssigned) { changed = true }
    if numberValues(&function, pure: pure) { changed = true }
    if propagateConstantsAcrossBlocks(&function, onceAssigned) { changed = true }
    for b in function.blocks.indices {
        if propagateWithinBlock(&function.blocks[b], pure: pure) { changed = true }
    }
    if joinConstantChains(&function) { changed = true }
    if coalesceCopies(&function) { changed = true }
    if comparisonsWithoutBranches, foldSelects(&function) { changed = true }
    if foldIntoPredecessors(&function) { changed = true }
    if speculateConstants(&function) { changed = true }
    if hoistFromJoins(&function) { changed = true }
    if threadJumps(&function) { changed = true }
    if mergeBlocks(&function) { changed = true }
    if comparisonsWithoutBranches, mergeTails(&function) { changed = true }
    if mergeReturns(&function) { changed = true }
    return removeDeadInstructions(&function, keeping: kept, pure: pure) || changed
}
