import BPFIR

/// A position in a function: an instruction of a block; `index` -1 is the block's start (where
/// parameters get their values), `instructions.count` its terminator.
typealias ProgramPoint = (block: Int, index: Int)

/// The Temps a function assigns exactly once (every expression temporary; a C local assigned in
/// several places is not one) and where each gets its value. Such a Temp holds that one value
/// wherever its assignment dominates the read, which is what propagation and extension removal
/// rely on.
struct OnceAssigned {
    /// Where each once-assigned Temp gets its value; index -1 for parameters.
    let definedAt: [Temp: ProgramPoint]
    private let assignments: [Int]
    /// The function's dominators and cycles.
    let graph: ControlFlow

    /// `cached` is reused when its edges are the function's: a round of simplification that
    /// changed no edge need not compute dominators again (quadratic along a long `else if` chain).
    init(_ function: Function, reusing cached: ControlFlow? = nil) {
        var assignments = [Int](repeating: 0, count: function.tempCount)
        for parameter in function.parameters { assignments[parameter.index] += 1 }
        for block in function.blocks {
            for instruction in block.instructions {
                for temp in instruction.operation.definedTemps { assignments[temp.index] += 1 }
            }
        }
        var definedAt: [Temp: ProgramPoint] = [:]
        for parameter in function.parameters where assignments[parameter.index] == 1 { definedAt[parameter] = (0, -1) }
        for (b, block) in function.blocks.enumerated() {
            for (i, instruction) in block.instructions.enumerated() {
                let defined = instruction.operation.definedTemps
                guard defined.count == 1, let temp = defined.first, assignments[temp.index] == 1 else { continue }
                definedAt[temp] = (b, i)
            }
        }
        self.assignments = assignments
        self.definedAt = definedAt
        if let cached, cached.successors == ControlFlow.edges(of: function) {
            self.graph = cached
        } else {
            self.graph = ControlFlow(function)
        }
    }

    func isOnce(_ t: Temp) -> Bool { assignments[t.index] == 1 }

    /// Whether `t` is assigned once and has its value at `position`; where it does not, the read
    /// may see no value yet (C's uninitialized read), which must stay as is.
    func isAssigned(_ t: Temp, before position: ProgramPoint) -> Bool {
        guard let at = definedAt[t] else { return false }
        if at.block == position.block { return at.index < position.index }
        return graph.dominates(at.block, position.block)
    }

    /// Whether `d`, copied (or extended) from `u` after `u` got its value, still agrees with `u`
    /// wherever `d` is read: `u` is not computed anew in between, because it is a parameter, or
    /// assigned in a block that runs at most once, before the copy.
    func isStable(_ u: Temp, copiedInto d: Temp) -> Bool {
        guard let at = definedAt[u], let copiedAt = definedAt[d] else { return false }
        // Computed earlier in the copy's own block, `u` cannot be computed again before the copy
        // is: straight-line code runs both every time.
        let sameBlockEarlier = at.block == copiedAt.block && at.index < copiedAt.index
        return (at.index < 0 || !graph.inCycle.contains(at.block) || sameBlockEarlier) && isAssigned(u, before: copiedAt)
    }
}
