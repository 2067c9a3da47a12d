import BPFIR

/// A comparison of a Temp with a constant known to hold: `x <condition> constant` in `width`.
struct KnownCondition: Hashable {
    var condition: Condition
    var width: ALUWidth
    var temp: Temp
    var constant: Int64

    /// The condition a branch's edge into `target` makes true, when it compares a Temp with a
    /// constant and its two edges go to different blocks.
    init?(edgeOf terminator: Terminator, into target: BlockID) {
        guard case .branch(let condition, let width, .temp(let t), .constant(let c), let then, let otherwise) = terminator,
              then != otherwise else { return nil }
        self.init(condition: target == then ? condition : condition.negated, width: width, temp: t, constant: c)
    }

    init(condition: Condition, width: ALUWidth, temp: Temp, constant: Int64) {
        self.condition = condition
        self.width = width
        self.temp = temp
        self.constant = constant
    }

    /// Whether `temp <other> c` in `otherWidth` holds where this holds: true, false, or nil when
    /// this does not say.
    func decides(_ other: Condition, _ otherWidth: ALUWidth, _ c: Int64) -> Bool? {
        if condition == .eq, width == .bits64 || otherWidth == .bits32 {
            return other.holds(otherWidth, constant, c)
        }
        guard width == otherWidth, constant == c else { return nil }
        if other == condition { return true }
        if other == condition.negated { return false }
        if condition == .ne, other == .eq { return false }
        return nil
    }
}

/// What straight-line code shows at the end of each block: the constants Temps hold (a block's
/// own assignments of constants) and the comparisons known to hold (the edge of a branch that
/// led into it), on top of what was known at the end of its only predecessor (up to 32 blocks
/// back). At most `capacity` of each are kept, the latest, so that a chain of thousands of blocks
/// (an `else if` chain) costs linear time. Jump threading and loop unrolling ask it.
struct BlockEndConstants {
    private let function: Function
    private let predecessors: [[Int]]
    private var known: [[Temp: Int64]?]
    private var holding: [[KnownCondition]?]
    private let capacity = 32

    init(_ function: Function, predecessors: [[Int]]) {
        self.function = function
        self.predecessors = predecessors
        known = [[Temp: Int64]?](repeating: nil, count: function.blocks.count)
        holding = [[KnownCondition]?](repeating: nil, count: function.blocks.count)
    }

    mutating func values(atEndOf b: Int, depth: Int = 0) -> [Temp: Int64] {
        if let k = known[b] { return k }
        var values: [Temp: Int64] = [:]
        if predecessors[b].count == 1, b != 0, depth < 32 {
            values = self.values(atEndOf: predecessors[b][0], depth: depth + 1)
        }
        for instruction in function.blocks[b].instructions {
            for defined in instruction.operation.definedTemps {
                if case .copy(_, .constant(let c)) = instruction.operation, values.count < capacity || values[defined] != nil {
                    values[defined] = c
                } else {
                    values[defined] = nil
                }
            }
        }
        known[b] = values
        return values
    }

    /// The comparisons known to hold at the end of block `b`.
    mutating func conditions(atEndOf b: Int, depth: Int = 0) -> [KnownCondition] {
        if let k = holding[b] { return k }
        var conditions: [KnownCondition] = []
        if predecessors[b].count == 1, b != 0, depth < 32 {
            let p = predecessors[b][0]
            conditions = self.conditions(atEndOf: p, depth: depth + 1).suffix(capacity - 1)
            if let edge = KnownCondition(edgeOf: function.blocks[p].terminator, into: BlockID(b)) {
                conditions.append(edge)
            }
        }
        for instruction in function.blocks[b].instructions {
            let defined = instruction.operation.definedTemps
            if !defined.isEmpty { conditions.removeAll { defined.contains($0.temp) } }
        }
        holding[b] = conditions
        return conditions
    }
}

/// The values a block leaves Temps holding by copies: `t = v` with neither assigned after it
/// in the block; by Temp, and the Temps by value.
struct EndCopies {
    var value: [Temp: Value] = [:]
    var holders: [Value: [Temp]] = [:]

    init(_ block: Block) {
        var copiesOf: [Temp: [Temp]] = [:]
        for instruction in block.instructions {
            for d in instruction.operation.definedTemps {
                value[d] = nil
                for t in copiesOf.removeValue(forKey: d) ?? [] where value[t] == .temp(d) { value[t] = nil }
            }
            if case .copy(let d, let source) = instruction.operation, source != .temp(d) {
                value[d] = source
                if case .temp(let s) = source { copiesOf[s, default: []].append(d) }
            }
        }
        for (t, v) in value.sorted(by: { $0.key.index < $1.key.index }) { holders[v, default: []].append(t) }
    }
}
