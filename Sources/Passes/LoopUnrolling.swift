import BPFIR

// Loop unrolling: a loop that runs a known, small number of times becomes that many copies of
// its body, one after the other, each with the loop counter's value written in.
//
// Requires: simplification (the counter's start is a constant on the way into the loop).
// Guarantees: the same behaviour; only innermost loops whose one exit is a test of a counter
// against a constant are unrolled, when they run at most `maximumTrips` times and the copies
// come to at most `maximumInstructions` instructions. Nested loops are unrolled inside out.
// Why: the verifier walks a loop once per iteration anyway, carrying its state; unrolled, each
// copy's counter is a constant, so array indices, loads and stores fold (load forwarding and dead
// store elimination then finish the job), as after clang's full unrolling. The loop's tests go too.
//
// The shape: a header that dominates the loop and one latch jumping back to it; the loop is
// entered only at the header, left only at branches, at least one of which every iteration
// passes and tests `counter <cond> constant` (or a value computed from the counter); it assigns
// the counter once, `counter = counter ± step`, in a block every iteration runs. Each other block
// of the loop runs either before that update in an iteration or after it, never both. A branch
// out that tests data stays in each copy.

/// Unrolls small counted loops in every function of the module.
public func unrollLoops(_ module: inout Module) {
    for index in module.functions.indices {
        var function = module.functions[index]
        var unrolled = false
        // Each round unrolls one loop; an outer loop becomes innermost once its inner ones went.
        for _ in 0..<16 {
            guard unrollOneLoop(&function) else { break }
            unrolled = true
        }
        if unrolled { module.functions[index] = function }
    }
}

private let maximumTrips = 16
private let maximumInstructions = 160

/// A branch out of a loop: its block, its successors inside and outside the loop, and whether
/// every iteration that completes passes it (its block dominates the latch).
private struct LoopExit {
    var block: Int
    var stays: BlockID
    var exit: BlockID
    var isAlwaysTested: Bool
}

/// A counted loop found in a function, with what unrolling it needs.
private struct CountedLoop {
    var header: Int
    var latch: Int
    /// Blocks of the loop, the header first, in function order otherwise.
    var blocks: [Int]
    /// The branches that leave the loop.
    var exits: [LoopExit]
    var counter: Temp
    /// The update `counter = counter ± step`: its block and index.
    var update: (block: Int, index: Int)
    /// Blocks that run after the update within an iteration.
    var afterUpdate: Set<Int>
    var start: Int64
    var step: Int64
    var stepWidth: ALUWidth
    /// Where each Temp assigned once in the loop, and nowhere else, gets its value.
    var definitions: [Temp: (block: Int, index: Int)]

    /// Whether code at `p` runs after the update in its iteration.
    func isAfterUpdate(_ p: (block: Int, index: Int)) -> Bool {
        afterUpdate.contains(p.block) || (p.block == update.block && p.index > update.index)
    }

    /// Where an exit's branch goes in the iteration that starts with the counter at `start`, when
    /// its operands follow from the counter.
    func decide(_ exit: LoopExit, start: Int64, next: Int64, in function: Function) -> BlockID? {
        let block = function.blocks[exit.block]
        guard case .branch(let condition, let width, let x, let y, let then, let otherwise) = block.terminator else {
            return nil
        }
        let test = (block: exit.block, index: block.instructions.count)
        guard let a = evaluate(x, at: test, start: start, next: next, in: function),
              let b = evaluate(y, at: test, start: start, next: next, in: function) else { return nil }
        return condition.holds(width, a, b) ? then : otherwise
    }

    /// A value read at `p` in the iteration that starts with the counter at `start`: constants and
    /// the counter, combined by the operations of Temps assigned once in the loop.
    func evaluate(_ value: Value, at p: (block: Int, index: Int), start: Int64, next: Int64,
                  in function: Function, depth: Int = 0) -> Int64? {
        switch value {
        case .constant(let c):
            return c
        case .temp(counter):
            return isAfterUpdate(p) ? next : start
        case .temp(let t):
            guard depth < 16, let at = definitions[t] else { return nil }
            // The operation with its operands' values written in, folded as simplification folds.
            var known = true
            let operation = function.blocks[at.block].instructions[at.index].operation.mapped(
                defined: { $0 },
                value: { v in
                    if let c = evaluate(v, at: at, start: start, next: next, in: function, depth: depth + 1) {
                        return .constant(c)
                    }
                    known = false
                    return v
                },
                address: { $0 })
            guard known, case .copy(_, .constant(let c)) = fold(operation, zeroExtendedBits: { _ in nil },
                                                                signExtendedBits: { _ in nil },
                                                                signExtensionSource: { _ in nil }) else { return nil }
            return c
        }
    }
}

private func unrollOneLoop(_ function: inout Function) -> Bool {
    let count = function.blocks.count
    guard count > 1 else { return false }
    let successors = function.blocks.map { $0.terminator.successors.map(\.index) }
    var predecessors = [[Int]](repeating: [], count: count)
    for (b, next) in successors.enumerated() { for s in next { predecessors[s].append(b) } }
    let dominators = ControlFlow(function)
    // Where each Temp gets its value, to follow a tested value back to a counter.
    var definitions: [Temp: [(block: Int, index: Int)]] = [:]
    for (b, block) in function.blocks.enumerated() {
        for (i, instruction) in block.instructions.enumerated() {
            for t in instruction.operation.definedTemps { definitions[t, default: []].append((b, i)) }
        }
    }

    for latch in 0..<count {
        for header in successors[latch] where dominators.dominates(header, latch) {
            guard let loop = countedLoop(function, header: header, latch: latch, successors: successors,
                                         predecessors: predecessors, dominators: dominators, definitions: definitions),
                  let trips = tripCount(loop, function) else { continue }
            let size = loop.blocks.reduce(0) { $0 + function.blocks[$1].instructions.count + 1 }
            guard trips * size <= maximumInstructions else { continue }
            unroll(loop, trips: trips, in: &function)
            return true
        }
    }
    return false
}

/// The loop of back edge latch → header, when it has the counted shape.
private func countedLoop(_ function: Function, header: Int, latch: Int, successors: [[Int]], predecessors: [[Int]],
                         dominators: ControlFlow, definitions: [Temp: [(block: Int, index: Int)]]) -> CountedLoop? {
    // The natural loop: the header and every block that reaches the latch without passing it.
    var members: Set<Int> = [header, latch]
    var work = header == latch ? [] : [latch]
    while let b = work.popLast() {
        for p in predecessors[b] where members.insert(p).inserted { work.append(p) }
    }
    // Innermost only, no way out but the one exit, entered at the header only.
    var exiting: [(block: Int, exit: Int)] = []
    for b in members {
        switch function.blocks[b].terminator {
        case .jump, .branch: break
        case .return, .mayGoto, .inlineAsmGoto: return nil
        }
        for s in successors[b] {
            if !members.contains(s) { exiting.append((b, s)) }
            if s == header && b != latch { return nil }
            if members.contains(s) && s != header && dominators.dominates(s, b) { return nil }
        }
        if b != header && predecessors[b].contains(where: { !members.contains($0) }) { return nil }
    }
    var exits: [LoopExit] = []
    for (block, exitIndex) in exiting {
        guard case .branch(_, _, _, _, let then, let otherwise) = function.blocks[block].terminator,
              members.contains(then.index) != members.contains(otherwise.index) else { return nil }
        exits.append(LoopExit(block: block, stays: then.index == exitIndex ? otherwise : then, exit: BlockID(exitIndex),
                              isAlwaysTested: dominators.dominates(block, latch)))
    }

    func operation(at p: (block: Int, index: Int)) -> Operation { function.blocks[p.block].instructions[p.index].operation }
    /// The Temp a tested value is computed from by copies, extensions and constant steps: the
    /// first one assigned more than once (a C local), when there is one.
    func counterBehind(_ value: Value) -> Temp? {
        var value = value
        for _ in 0..<8 {
            guard case .temp(let t) = value, let defined = definitions[t] else { return nil }
            guard defined.count == 1 else { return t }
            switch operation(at: defined[0]) {
            case .copy(_, let source), .signExtend(_, let source, _), .zeroExtend(_, let source, _),
                 .binary(_, .add, _, let source, .constant), .binary(_, .sub, _, let source, .constant):
                value = source
            default:
                return nil
            }
        }
        return nil
    }
    let tested = exits.flatMap { exit -> [Value] in
        guard case .branch(_, _, let x, let y, _, _) = function.blocks[exit.block].terminator else { return [] }
        return [x, y]
    }
    guard let counter = tested.lazy.compactMap(counterBehind).first else { return nil }

    // The counter's one assignment in the loop: `counter = counter ± step`, or `counter = t` with
    // `t = counter ± step` just computed.
    var update: (block: Int, index: Int)?
    var step: Int64 = 0
    var stepWidth = ALUWidth.bits64
    for b in members {
        for (i, instruction) in function.blocks[b].instructions.enumerated()
        where instruction.operation.definedTemps.contains(counter) {
            guard update == nil else { return nil }
            var stepping = instruction.operation
            if case .copy(counter, .temp(let t)) = stepping, let defined = definitions[t], defined.count == 1,
               defined[0].block == b, defined[0].index < i {
                stepping = operation(at: defined[0])
            }
            guard case .binary(_, let op, let width, .temp(counter), .constant(let c)) = stepping,
                  op == .add || op == .sub else { return nil }
            update = (b, i)
            step = op == .add ? c : 0 &- c
            stepWidth = width
        }
    }
    guard let update, dominators.dominates(update.block, latch) else { return nil }

    // Unrolling pays when the copies fold: the body reads the counter, not only to step and test
    // it. A loop that merely repeats (a CRC's eight shifts) stays a loop; unrolled, the verifier
    // may follow more paths, not fewer.
    var counting: Set<Temp> = [counter]
    for value in tested {
        var value = value
        while case .temp(let t) = value, t != counter, let defined = definitions[t], defined.count == 1 {
            counting.insert(t)
            guard let source = operation(at: defined[0]).usedValues.first else { break }
            value = source
        }
    }
    let updating = operation(at: update)
    if case .copy(counter, .temp(let stepped)) = updating { counting.insert(stepped) }
    let readsCounter = members.contains { b in
        function.blocks[b].instructions.contains { instruction in
            let operation = instruction.operation
            guard operation != updating, operation.usedTemps.contains(counter) else { return false }
            return !operation.definedTemps.allSatisfy(counting.contains) || operation.definedTemps.isEmpty
        }
    }
    guard readsCounter else { return nil }

    // Within an iteration (the loop without its back edge), each block runs before the update or
    // after it.
    func reachable(from start: Int) -> Set<Int> {
        var seen: Set<Int> = []
        var work = successors[start].filter { members.contains($0) && $0 != header }
        while let b = work.popLast() {
            if seen.insert(b).inserted { work += successors[b].filter { members.contains($0) && $0 != header } }
        }
        return seen
    }
    let afterUpdate = reachable(from: update.block)
    for b in members where b != update.block {
        let before = reachable(from: b).contains(update.block) || b == header
        guard before != afterUpdate.contains(b) else { return nil }
    }

    // The counter's value on the way in: the same constant at the end of every entering block.
    let entering = predecessors[header].filter { !members.contains($0) }
    var ends = BlockEndConstants(function, predecessors: predecessors)
    let starts = entering.map { ends.values(atEndOf: $0)[counter] }
    guard let first = starts.first, let start = first, starts.allSatisfy({ $0 == start }) else { return nil }

    let order = [header] + members.filter { $0 != header }.sorted()
    return CountedLoop(header: header, latch: latch, blocks: order, exits: exits, counter: counter, update: update, afterUpdate: afterUpdate,
                       start: start, step: step, stepWidth: stepWidth, definitions: definitions.compactMapValues {
                           $0.count == 1 && members.contains($0[0].block) ? $0[0] : nil
                       })
}

/// How many times the header runs, when the body runs at most `maximumTrips` times: until a
/// branch every iteration passes leaves the loop.
private func tripCount(_ loop: CountedLoop, _ function: Function) -> Int? {
    var value = loop.start
    for trip in 1...(maximumTrips + 1) {
        let next = evaluate(.add, loop.stepWidth, value, loop.step) ?? value
        for exit in loop.exits where exit.isAlwaysTested {
            if loop.decide(exit, start: value, next: next, in: function) == exit.exit { return trip }
        }
        value = next
    }
    return nil
}

/// Replaces the loop by `trips` copies: copy k reads the counter's k-th value, its exiting branch
/// goes on to copy k + 1 or, in the last copy, out of the loop.
private func unroll(_ loop: CountedLoop, trips: Int, in function: inout Function) {
    let members = Set(loop.blocks)
    // Temps assigned once, inside the loop, and read only there: each copy gets its own, so that
    // they stay assigned once for simplification.
    var assignments: [Temp: Int] = [:]
    var readOutside: Set<Temp> = []
    for (b, block) in function.blocks.enumerated() {
        for instruction in block.instructions {
            for t in instruction.operation.definedTemps { assignments[t, default: 0] += 1 }
            if !members.contains(b) { readOutside.formUnion(instruction.operation.usedTemps) }
        }
        if !members.contains(b) { readOutside.formUnion(block.terminator.usedTemps) }
    }
    for parameter in function.parameters { assignments[parameter, default: 0] += 1 }
    var local: Set<Temp> = []
    for b in loop.blocks {
        for instruction in function.blocks[b].instructions {
            for t in instruction.operation.definedTemps where assignments[t] == 1 && !readOutside.contains(t) {
                local.insert(t)
            }
        }
    }

    let firstNew = function.blocks.count
    let perCopy = loop.blocks.count
    func copyID(_ k: Int, _ b: Int) -> BlockID {
        BlockID(firstNew + k * perCopy + loop.blocks.firstIndex(of: b)!)
    }
    /// Where a jump from block `b` of copy `k` goes: the back edge on to the next copy.
    // The last copy leaves at an exit every iteration passes, before its back edge.
    let lastExit = loop.exits.first { $0.isAlwaysTested }!.exit
    func target(_ t: BlockID, from b: Int, copy k: Int) -> BlockID {
        if b == loop.latch && t.index == loop.header { return k + 1 < trips ? copyID(k + 1, loop.header) : lastExit }
        return members.contains(t.index) ? copyID(k, t.index) : t
    }
    var value = loop.start
    var copies: [Block] = []
    for k in 0..<trips {
        let next = evaluate(.add, loop.stepWidth, value, loop.step) ?? value
        var renamed: [Temp: Temp] = [:]
        for t in local.sorted() { renamed[t] = function.makeTemp() }
        for b in loop.blocks {
            var block = function.blocks[b]
            block.id = copyID(k, b)
            for i in block.instructions.indices {
                let after = loop.afterUpdate.contains(b) || (b == loop.update.block && i > loop.update.index)
                let counterValue: Value = .constant(after ? next : value)
                if b == loop.update.block && i == loop.update.index {
                    block.instructions[i].operation = .copy(loop.counter, .constant(next))
                    continue
                }
                block.instructions[i].operation = block.instructions[i].operation.mapped(
                    defined: { renamed[$0] ?? $0 },
                    value: { v in
                        if v == .temp(loop.counter) { return counterValue }
                        if case .temp(let t) = v, let r = renamed[t] { return .temp(r) }
                        return v
                    },
                    address: { a in
                        if case .temp(let t, let offset) = a, let r = renamed[t] { return .temp(r, offset: offset) }
                        return a
                    })
            }
            let atEnd: Value = .constant(loop.afterUpdate.contains(b) || b == loop.update.block ? next : value)
            block.terminator = block.terminator.mapped(
                value: { v in
                    if v == .temp(loop.counter) { return atEnd }
                    if case .temp(let t) = v, let r = renamed[t] { return .temp(r) }
                    return v
                },
                block: { target($0, from: b, copy: k) })
            if let exit = loop.exits.first(where: { $0.block == b }),
               let side = loop.decide(exit, start: value, next: next, in: function) {
                block.terminator = .jump(target(side, from: b, copy: k))
            }
            copies.append(block)
        }
        value = next
    }
    // Every way into the loop now enters the first copy.
    for b in function.blocks.indices where !members.contains(b) {
        function.blocks[b].terminator = function.blocks[b].terminator.mapped(
            value: { $0 }, block: { $0.index == loop.header ? copyID(0, loop.header) : $0 })
    }
    function.blocks += copies
    function.blocks = removingUnreachableBlocks(function.blocks)
}
