import BPFIR

/// Dominators and loops of a function's control-flow graph.
///
/// A path may start at the entry or at any other block nothing jumps to (code the frontend left
/// unreachable), so such a block dominates what only it reaches; a block no such path reaches (an
/// unreachable loop) counts as dominated by every block. Dominance is read off the dominator tree
/// (Cooper, Harvey and Kennedy's iteration over reverse postorder), by the interval each block
/// spans in a depth-first walk of the tree; blocks on cycles are the strongly connected
/// components (Tarjan) of more than one block, and the blocks that jump to themselves.
struct ControlFlow {
    /// The preorder number of each block in the dominator tree and the last number of its
    /// subtree; nil for blocks no path reaches.
    private var treeInterval: [(first: Int, last: Int)?]
    /// Blocks on some cycle: their instructions may run more than once.
    private(set) var inCycle: Set<Int> = []
    /// The edges this was computed from: each block's successors.
    let successors: [[Int]]

    /// Each block's successors, by index.
    static func edges(of function: Function) -> [[Int]] {
        function.blocks.map { $0.terminator.successors.map(\.index) }
    }

    /// Each block's predecessors, by index: each once (a branch whose two sides are one block
    /// counts once), in block order.
    static func predecessors(of function: Function) -> [[Int]] {
        var predecessors = [[Int]](repeating: [], count: function.blocks.count)
        for (b, block) in function.blocks.enumerated() {
            for s in Set(block.terminator.successors.map(\.index)) { predecessors[s].append(b) }
        }
        return predecessors
    }

    init(_ function: Function) {
        let count = function.blocks.count
        let successors = ControlFlow.edges(of: function)
        self.successors = successors
        var predecessors = [[Int]](repeating: [], count: count)
        for (b, next) in successors.enumerated() { for s in next { predecessors[s].append(b) } }
        let roots = (0..<count).filter { $0 == 0 || predecessors[$0].isEmpty }
        treeInterval = ControlFlow.dominatorTreeIntervals(successors, predecessors, roots: roots)
        inCycle = ControlFlow.blocksOnCycles(successors)
    }

    func dominates(_ a: Int, _ b: Int) -> Bool {
        guard let inner = treeInterval[b] else { return true }
        guard let outer = treeInterval[a] else { return false }
        return outer.first <= inner.first && inner.first <= outer.last
    }

    /// The blocks the paths from `roots` reach, each after every block it leads to but along back
    /// edges: reversed, each block comes after those that jump to it, loops aside.
    static func postorder(_ successors: [[Int]], roots: [Int]) -> [Int] {
        var postorder: [Int] = []
        var visited = [Bool](repeating: false, count: successors.count)
        for root in roots.reversed() where !visited[root] {
            visited[root] = true
            var stack: [(block: Int, next: Int)] = [(root, 0)]
            while let (block, next) = stack.last {
                if next < successors[block].count {
                    stack[stack.count - 1].next += 1
                    let s = successors[block][next]
                    if !visited[s] {
                        visited[s] = true
                        stack.append((s, 0))
                    }
                } else {
                    postorder.append(block)
                    stack.removeLast()
                }
            }
        }
        return postorder
    }

    /// Each block's interval in a preorder walk of the dominator tree of the paths from `roots`,
    /// which hang from one virtual root.
    private static func dominatorTreeIntervals(_ successors: [[Int]], _ predecessors: [[Int]], roots: [Int])
        -> [(first: Int, last: Int)?]
    {
        let count = successors.count
        let virtualRoot = count
        // Reverse postorder from the virtual root; `rank` numbers it, the virtual root last.
        let postorder = ControlFlow.postorder(successors, roots: roots)
        var rank = [Int](repeating: -1, count: count + 1)
        for (i, b) in postorder.enumerated() { rank[b] = i }
        rank[virtualRoot] = postorder.count
        let isRoot = Set(roots)

        var idom = [Int](repeating: -1, count: count + 1)
        idom[virtualRoot] = virtualRoot
        func intersect(_ a: Int, _ b: Int) -> Int {
            var (a, b) = (a, b)
            while a != b {
                while rank[a] < rank[b] { a = idom[a] }
                while rank[b] < rank[a] { b = idom[b] }
            }
            return a
        }
        var changed = true
        while changed {
            changed = false
            for b in postorder.reversed() {
                var candidate = isRoot.contains(b) ? virtualRoot : -1
                for p in predecessors[b] where idom[p] != -1 {
                    candidate = candidate == -1 ? p : intersect(p, candidate)
                }
                if idom[b] != candidate {
                    idom[b] = candidate
                    changed = true
                }
            }
        }

        var children = [[Int]](repeating: [], count: count + 1)
        for b in postorder.reversed() { children[idom[b]].append(b) }
        var intervals = [(first: Int, last: Int)?](repeating: nil, count: count)
        var counter = 0
        var stack: [(block: Int, next: Int)] = [(virtualRoot, 0)]
        while let (block, next) = stack.last {
            if next < children[block].count {
                stack[stack.count - 1].next += 1
                let child = children[block][next]
                intervals[child] = (counter, counter)
                counter += 1
                stack.append((child, 0))
            } else {
                if block != virtualRoot { intervals[block]?.last = counter - 1 }
                stack.removeLast()
            }
        }
        return intervals
    }

    /// The blocks in a strongly connected component of more than one block, or jumping to themselves.
    private static func blocksOnCycles(_ successors: [[Int]]) -> Set<Int> {
        let count = successors.count
        var index = [Int](repeating: -1, count: count)
        var lowLink = [Int](repeating: 0, count: count)
        var onStack = [Bool](repeating: false, count: count)
        var componentStack: [Int] = []
        var result: Set<Int> = []
        var counter = 0
        for start in 0..<count where index[start] == -1 {
            var stack: [(block: Int, next: Int)] = [(start, 0)]
            index[start] = counter
            lowLink[start] = counter
            counter += 1
            componentStack.append(start)
            onStack[start] = true
            while let (block, next) = stack.last {
                if next < successors[block].count {
                    stack[stack.count - 1].next += 1
                    let s = successors[block][next]
                    if s == block { result.insert(block) }
                    if index[s] == -1 {
                        index[s] = counter
                        lowLink[s] = counter
                        counter += 1
                        componentStack.append(s)
                        onStack[s] = true
                        stack.append((s, 0))
                    } else if onStack[s] {
                        lowLink[block] = min(lowLink[block], index[s])
                    }
                    continue
                }
                stack.removeLast()
                if let parent = stack.last?.block { lowLink[parent] = min(lowLink[parent], lowLink[block]) }
                guard lowLink[block] == index[block] else { continue }
                var component: [Int] = []
                while let member = componentStack.popLast() {
                    onStack[member] = false
                    component.append(member)
                    if member == block { break }
                }
                if component.count > 1 { result.formUnion(component) }
            }
        }
        return result
    }
}
