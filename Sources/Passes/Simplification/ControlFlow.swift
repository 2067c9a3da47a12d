import BPFIR

/// Dominators and loops of a function's control-flow graph.
struct ControlFlow {
    /// `dominators[b]`: the blocks every path from the entry to b passes through, b included.
    private var dominators: [Set<Int>]
    /// Blocks on some cycle: their instructions may run more than once.
    private(set) var inCycle: Set<Int> = []

    init(_ function: Function) {
        let count = function.blocks.count
        let successors = function.blocks.map { $0.terminator.successors.map(\.index) }
        var predecessors = [[Int]](repeating: [], count: count)
        for (b, next) in successors.enumerated() { for s in next { predecessors[s].append(b) } }
        let all = Set(0..<count)
        dominators = (0..<count).map { $0 == 0 ? [0] : all }
        var changed = true
        while changed {
            changed = false
            for b in 1..<max(1, count) {
                var meet = all
                for p in predecessors[b] { meet.formIntersection(dominators[p]) }
                if predecessors[b].isEmpty { meet = [] }
                meet.insert(b)
                if meet != dominators[b] {
                    dominators[b] = meet
                    changed = true
                }
            }
        }
        for start in 0..<count {
            var seen: Set<Int> = []
            var work = successors[start]
            while let b = work.popLast() {
                if b == start {
                    inCycle.insert(start)
                    break
                }
                if seen.insert(b).inserted { work += successors[b] }
            }
        }
    }

    func dominates(_ a: Int, _ b: Int) -> Bool { dominators[b].contains(a) }
}
