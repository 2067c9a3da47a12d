import BPFIR

/// Common subexpressions across blocks: a Temp assigned once computes `a op b` from constants and
/// Temps assigned once; the same computation where that assignment dominates is a copy of it.
/// Such operands hold the same value at both places (a Temp assigned once cannot be computed
/// anew between a dominating use and a later one without passing the use again), so both
/// compute the same. Block propagation does the same inside a block for any Temp.
func numberValues(_ function: inout Function, _ onceAssigned: OnceAssigned) -> Bool {
    /// The once-assigned Temps computing each key, in the order met.
    var holders: [Operation: [Temp]] = [:]
    /// A computation's key when its operands are constants or Temps assigned once.
    func key(_ operation: Operation) -> (destination: Temp, key: Operation)? {
        guard let (d, what) = pureComputation(operation),
              what.usedTemps.allSatisfy(onceAssigned.isOnce) else { return nil }
        return (d, what)
    }
    for block in function.blocks {
        for instruction in block.instructions {
            if let (d, what) = key(instruction.operation), onceAssigned.isOnce(d), !what.usedTemps.contains(d) {
                holders[what, default: []].append(d)
            }
        }
    }
    var changed = false
    for b in function.blocks.indices {
        for i in function.blocks[b].instructions.indices {
            guard let (d, what) = key(function.blocks[b].instructions[i].operation),
                  let candidates = holders[what], candidates.count > 1 else { continue }
            // A few candidates are enough: the first computation usually dominates the rest.
            if let holder = candidates.prefix(8).first(where: { $0 != d && onceAssigned.isAssigned($0, before: (b, i)) }) {
                function.blocks[b].instructions[i].operation = .copy(d, .temp(holder))
                changed = true
            }
        }
    }
    return changed
}
