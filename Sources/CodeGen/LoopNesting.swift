import BPFIR

// Loop nesting: how many loops each block sits in, so that the register allocator keeps the
// values a loop uses in registers before the ones used once.
//
// The back edges are the edges a depth-first walk from the entry finds into a block still on its
// stack. C without goto has reducible control flow, where these are exactly the back edges of the
// natural loops; a loop's body is its header plus every block that reaches a back edge's source
// without passing through the header.

/// Loop depth of every block, indexed by block number; 0 outside loops.
func loopDepths(_ function: Function) -> [Int] {
    let count = function.blocks.count
    let successors = function.blocks.map { takenSuccessors($0.terminator).map(\.index) }
    var predecessors = [[Int]](repeating: [], count: count)
    for (b, targets) in successors.enumerated() {
        for s in targets { predecessors[s].append(b) }
    }

    enum Visit { case unvisited, onStack, done }
    var visit = [Visit](repeating: .unvisited, count: count)
    var latches: [Int: [Int]] = [:]
    var stack: [(block: Int, nextSuccessor: Int)] = [(0, 0)]
    visit[0] = .onStack
    while let (block, next) = stack.last {
        guard next < successors[block].count else {
            visit[block] = .done
            stack.removeLast()
            continue
        }
        stack[stack.count - 1].nextSuccessor += 1
        let s = successors[block][next]
        switch visit[s] {
        case .unvisited:
            visit[s] = .onStack
            stack.append((s, 0))
        case .onStack:
            latches[s, default: []].append(block)
        case .done:
            break
        }
    }

    var depth = [Int](repeating: 0, count: count)
    for (header, sources) in latches {
        var body: Set<Int> = [header]
        var work = sources.filter { body.insert($0).inserted }
        while let b = work.popLast() {
            for p in predecessors[b] where body.insert(p).inserted { work.append(p) }
        }
        for b in body { depth[b] += 1 }
    }
    return depth
}
