import BPFIR

/// Code after a branch's arms that depends on neither arm moves above the branch. The verifier
/// walks what follows a branch once for each arm whose registers differ (`kind = c ? 1 : 2`
/// leaves 1 in one and 2 in the other), until the paths meet in the same state; clang leaves such
/// a branch just before the first read of what it chose, so that the loads and stores in between
/// are walked once. Here the join's leading instructions that read nothing the arms assign and
/// assign nothing the arms or the branch read move to the end of the branching block.
///
/// Only for arms that jump to the join alone and hold no memory access or call (a diamond of two,
/// or a triangle of one and the join itself): what moves then runs exactly as often, after the
/// same memory accesses, in the same order among its own.
func hoistFromJoins(_ function: inout Function) -> Bool {
    let predecessors = ControlFlow.predecessors(of: function)
    var changed = false
    for b in function.blocks.indices {
        guard case .branch(_, _, _, _, let then, let otherwise) = function.blocks[b].terminator, then != otherwise,
              let (arms, join) = armsAndJoin(of: b, then.index, otherwise.index, function, predecessors),
              arms.allSatisfy({ function.blocks[$0].instructions.allSatisfy { isArmOperation($0.operation) } })
        else { continue }
        var armReads: Set<Temp> = Set(function.blocks[b].terminator.usedTemps)
        var armDefines: Set<Temp> = []
        for arm in arms {
            for instruction in function.blocks[arm].instructions {
                armReads.formUnion(instruction.operation.usedTemps)
                armDefines.formUnion(instruction.operation.definedTemps)
            }
        }
        // What a moved instruction may not read (assigned by the arms or by an instruction that
        // stays before it), and may not assign (also read there).
        var unreadable = armDefines
        var unassignable = armReads.union(armDefines)
        var skippedMemory = false
        var moved: [IRInstruction] = [], kept: [IRInstruction] = []
        for instruction in function.blocks[join].instructions {
            let operation = instruction.operation
            let accessesMemory = touchesMemory(operation)
            if isMovable(operation), !isConstant(operation), unreadable.isDisjoint(with: operation.usedTemps),
               unassignable.isDisjoint(with: operation.definedTemps), !(accessesMemory && skippedMemory) {
                moved.append(instruction)
                continue
            }
            unreadable.formUnion(operation.definedTemps)
            unassignable.formUnion(operation.usedTemps)
            unassignable.formUnion(operation.definedTemps)
            if accessesMemory { skippedMemory = true }
            kept.append(instruction)
        }
        guard !moved.isEmpty else { continue }
        function.blocks[b].instructions += moved
        function.blocks[join].instructions = kept
        changed = true
    }
    return changed
}

/// The arms between branching block `b` and the join both reach: a diamond (`then` and
/// `otherwise` each entered from `b` alone and jumping to the join, which only they enter) or a
/// triangle (one side the join, entered only from `b` and the other side).
private func armsAndJoin(of b: Int, _ then: Int, _ otherwise: Int, _ function: Function,
                         _ predecessors: [[Int]]) -> (arms: [Int], join: Int)? {
    func jumpTarget(_ arm: Int) -> Int? {
        guard arm != b, predecessors[arm] == [b], case .jump(let target) = function.blocks[arm].terminator else { return nil }
        return target.index
    }
    if let a = jumpTarget(then), let c = jumpTarget(otherwise), a == c, a != b,
       Set(predecessors[a]) == [then, otherwise], predecessors[a].count == 2 {
        return ([then, otherwise], a)
    }
    for (side, join) in [(then, otherwise), (otherwise, then)] {
        if jumpTarget(side) == join, join != b, Set(predecessors[join]) == [b, side], predecessors[join].count == 2 {
            return ([side], join)
        }
    }
    return nil
}

/// A constant, which costs the verifier next to nothing to walk twice and, left in the
/// join, stays what a loop after it starts from (the unroller reads the constants a loop's entry
/// block assigns).
private func isConstant(_ operation: Operation) -> Bool {
    if case .copy(_, .constant) = operation { return true }
    return false
}

/// Whether an arm's instruction lets the join's code move above it: it touches no memory and calls nothing.
private func isArmOperation(_ operation: Operation) -> Bool {
    isMovable(operation) && !touchesMemory(operation)
}

/// Whether an instruction may move above a branch: not a call, atomic or asm, whose effects
/// are not followed here.
private func isMovable(_ operation: Operation) -> Bool {
    switch operation {
    case .copy, .binary, .negate, .signExtend, .zeroExtend, .byteSwap, .setCondition, .slotAddress, .symbolAddress,
         .load, .store, .coreValue, .addrSpaceCast:
        return true
    case .copyMemory, .setMemory, .call, .atomic, .compareExchange, .inlineAsm:
        return false
    }
}

private func touchesMemory(_ operation: Operation) -> Bool {
    switch operation {
    case .load, .store, .copyMemory, .setMemory, .call, .atomic, .compareExchange, .inlineAsm: return true
    case .copy, .binary, .negate, .signExtend, .zeroExtend, .byteSwap, .setCondition, .slotAddress, .symbolAddress,
         .coreValue, .addrSpaceCast:
        return false
    }
}
