import BPFIR

/// Arithmetic in a join on values every predecessor gives as constants moves into the
/// predecessors, where it folds: after `x = c ? 2 : 4`, the join's `y = x + 6` becomes `y = 8` in
/// one arm and `y = 10` in the other, and `z = y * 10` after it likewise, so that the join keeps
/// none of it and the arms one constant each (LLVM folds an operation into a phi of constants the
/// same way). Speculation then puts one arm's constant before the branch.
///
/// Only into predecessors that jump to the join alone, so that what moves there runs exactly when
/// the join does; only an instruction whose operands nothing in the join assigned before it, whose
/// result nothing in the join read or assigned before it, and whose operands are read nowhere else
/// (or are its own result), so that their constants in the arms go dead and no arm grows.
func foldIntoPredecessors(_ function: inout Function) -> Bool {
    let predecessors = ControlFlow.predecessors(of: function)
    let reads = function.readCounts
    var changed = false
    for j in function.blocks.indices where j != 0 {
        let arms = predecessors[j]
        guard arms.count > 1, Set(arms).count == arms.count, !arms.contains(j),
              arms.allSatisfy({ function.blocks[$0].terminator == .jump(function.blocks[j].id) }) else { continue }
        var armConstants = arms.map { arm in
            EndCopies(function.blocks[arm]).value.compactMapValues { value -> Int64? in
                if case .constant(let c) = value { return c }
                return nil
            }
        }
        var assigned: Set<Temp> = [], read: Set<Temp> = []
        var kept: [IRInstruction] = []
        for instruction in function.blocks[j].instructions {
            let operation = instruction.operation
            if let d = movable(operation), !assigned.contains(d), !read.contains(d),
               operation.usedTemps.allSatisfy({ !assigned.contains($0) && ($0 == d || reads[$0.index] == 1) }),
               let values = folded(operation, armConstants) {
                for (k, arm) in arms.enumerated() {
                    function.blocks[arm].instructions.append(IRInstruction(.copy(d, .constant(values[k])), at: instruction.location))
                    armConstants[k][d] = values[k]
                }
                changed = true
                continue
            }
            read.formUnion(operation.usedTemps)
            assigned.formUnion(operation.definedTemps)
            kept.append(instruction)
        }
        function.blocks[j].instructions = kept
    }
    return changed
}

/// The destination of an operation that computes a value from its operands alone.
private func movable(_ operation: Operation) -> Temp? {
    switch operation {
    case .copy(let d, _), .binary(let d, _, _, _, _), .negate(let d, _, _), .signExtend(let d, _, _),
         .zeroExtend(let d, _, _), .byteSwap(let d, _, _), .setCondition(let d, _, _, _, _):
        return d
    case .load, .store, .copyMemory, .setMemory, .slotAddress, .symbolAddress, .call, .addrSpaceCast, .atomic,
         .compareExchange, .inlineAsm, .coreValue:
        return nil
    }
}

/// What `operation` computes with each arm's constants, when it folds to a constant in every arm.
private func folded(_ operation: Operation, _ armConstants: [[Temp: Int64]]) -> [Int64]? {
    guard !operation.usedTemps.isEmpty else { return nil }
    var values: [Int64] = []
    for constants in armConstants {
        let substituted = operation.mapped(defined: { $0 }, value: { value in
            if case .temp(let t) = value, let c = constants[t] { return .constant(c) }
            return value
        }, address: { $0 })
        guard case .copy(_, .constant(let c)) = fold(substituted, zeroExtendedBits: { _ in nil },
                                                     signExtendedBits: { _ in nil }, signExtensionSource: { _ in nil })
        else { return nil }
        values.append(c)
    }
    return values
}
