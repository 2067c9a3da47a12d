import BPFIR

/// An edge into an empty block that only branches on a Temp whose value is known at the edge goes
/// straight to the side the branch would take. `can_loop` sets a flag to 1 before its may_goto
/// and to 0 on the bail-out edge, then tests it: both edges can skip the test. bpf_cmp_unlikely
/// sets its result before its asm goto and tests it at the label: the asm's jump goes where
/// the test would. An edge into an empty block that only jumps goes to where it jumps.
///
/// A test decided by an earlier one also goes: after `if (x == 0)`, the same test again (each
/// argument of BPF_KSYSCALL tests the same kconfig flag) takes the side the first one took,
/// whether it ends the block or an empty block the edge goes into. A jump into a block of a few
/// instructions that ends in such a test takes a copy of them and goes on where the test would:
/// `flag ? a : b` joins its two sides in a block that tests `flag` again, as BPF_KSYSCALL's
/// arguments do; each side then goes its own way.
///
/// What is known at the end of a block: BlockEndConstants.
func threadJumps(_ function: inout Function) -> Bool {
    /// The most instructions a jump copies from the block it skips.
    let maximumCopied = 2
    let count = function.blocks.count
    var predecessors = [[Int]](repeating: [], count: count)
    for (b, block) in function.blocks.enumerated() {
        for s in block.terminator.successors { predecessors[s.index].append(b) }
    }
    var ends = BlockEndConstants(function, predecessors: predecessors)
    var changed = false
    for b in function.blocks.indices {
        let values = ends.values(atEndOf: b)
        let conditions = ends.conditions(atEndOf: b)
        func constant(_ v: Value) -> Int64? {
            switch v {
            case .constant(let c): return c
            case .temp(let t): return values[t]
            }
        }
        /// Whether a branch on `x <condition> y` goes to its `then` side, when known.
        func decide(_ condition: Condition, _ width: ALUWidth, _ x: Value, _ y: Value, also edge: KnownCondition?) -> Bool? {
            if let a = constant(x), let c = constant(y) { return condition.holds(width, a, c) }
            guard case .temp(let t) = x, let c = constant(y) else { return nil }
            for known in conditions + (edge.map { [$0] } ?? []) where known.temp == t {
                if let decided = known.decides(condition, width, c) { return decided }
            }
            return nil
        }
        /// Where an edge into `target` ends up; `edge` holds on it.
        func destination(_ target: BlockID, _ edge: KnownCondition?) -> BlockID {
            guard function.blocks[target.index].instructions.isEmpty else { return target }
            switch function.blocks[target.index].terminator {
            case .jump(let next):
                return next
            case .branch(let condition, let width, let x, let y, let then, let otherwise):
                guard let taken = decide(condition, width, x, y, also: edge) else { return target }
                return taken ? then : otherwise
            case .return, .mayGoto, .inlineAsmGoto:
                return target
            }
        }
        let terminator: Terminator
        switch function.blocks[b].terminator {
        case .branch(let condition, let width, let x, let y, let then, let otherwise):
            if let taken = decide(condition, width, x, y, also: nil) {
                terminator = .jump(taken ? then : otherwise)
            } else {
                let original = function.blocks[b].terminator
                terminator = .branch(condition, width, x, y,
                                     then: destination(then, KnownCondition(edgeOf: original, into: then)),
                                     else: destination(otherwise, KnownCondition(edgeOf: original, into: otherwise)))
            }
        case .jump(let target):
            let next = function.blocks[target.index]
            if target.index != b, !next.instructions.isEmpty, next.instructions.count <= maximumCopied,
               case .branch(let condition, let width, let x, let y, let then, let otherwise) = next.terminator,
               !next.instructions.contains(where: { instruction in
                   instruction.operation.definedTemps.contains { [x, y].contains(.temp($0)) } }),
               let taken = decide(condition, width, x, y, also: nil) {
                function.blocks[b].instructions += next.instructions
                terminator = .jump(taken ? then : otherwise)
            } else {
                terminator = .jump(destination(target, nil))
            }
        case .return, .mayGoto, .inlineAsmGoto:
            terminator = function.blocks[b].terminator.mapped(value: { $0 }, block: { destination($0, nil) })
        }
        if terminator != function.blocks[b].terminator {
            function.blocks[b].terminator = terminator
            changed = true
        }
    }
    if changed { function.blocks = removingUnreachableBlocks(function.blocks) }
    return changed
}
