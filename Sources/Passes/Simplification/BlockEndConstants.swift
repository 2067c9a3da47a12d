import BPFIR

/// The constants Temps hold at the end of each block, as far as straight-line code shows: a
/// block's own assignments of constants, on top of what was known at the end of its only
/// predecessor (up to 32 blocks back). Jump threading and loop unrolling ask it.
struct BlockEndConstants {
    private let function: Function
    private let predecessors: [[Int]]
    private var known: [[Temp: Int64]?]

    init(_ function: Function, predecessors: [[Int]]) {
        self.function = function
        self.predecessors = predecessors
        known = [[Temp: Int64]?](repeating: nil, count: function.blocks.count)
    }

    mutating func values(atEndOf b: Int, depth: Int = 0) -> [Temp: Int64] {
        if let k = known[b] { return k }
        var values: [Temp: Int64] = [:]
        if predecessors[b].count == 1, b != 0, depth < 32 {
            values = self.values(atEndOf: predecessors[b][0], depth: depth + 1)
        }
        for instruction in function.blocks[b].instructions {
            for defined in instruction.operation.definedTemps {
                if case .copy(_, .constant(let c)) = instruction.operation { values[defined] = c } else { values[defined] = nil }
            }
        }
        known[b] = values
        return values
    }
}
