import BPFIR

// Loop-invariant code motion: what a loop computes the same way in every iteration is computed
// once, in the loop's preheader, before the loop.
//
// Requires: loop unrolling's decisions made (it weighs a loop by what its copies keep, invariants
// included) and load forwarding (a load it can answer is a copy already); it runs before arena
// cast insertion, while an arena access still names its pointer.
// Guarantees: the same behaviour, and each instruction moved is one the verifier accepts where it
// moved, since it accepted it in the loop.
// Why: the verifier walks a loop once per iteration (issue 11), so each instruction out of the
// loop is one fewer walked, and run, per iteration. The frontend recomputes in each iteration the
// address of a stack array (`r1 = r10; r1 += -200`), of a global (an ld_imm64), a global nothing
// in the loop stores to, an outer loop's counter times a row's size.
//
// Loops are natural loops (a header dominating the latches that jump back to it, as ControlFlow
// finds dominance), inner ones first, so that what leaves an inner loop may leave the outer one
// next. An instruction `t = op(operands)` of the loop moves when:
//   - it is pure (dead code elimination's `isPure`), its operands are constants or Temps nothing
//     left in the loop assigns (parameters, Temps assigned before the loop, Temps already moved),
//     and it is the loop's only assignment of t: the IR is not SSA, a C local is one Temp
//     assigned in many places;
//   - every read of t in the loop comes after it in its block, or in a block its block
//     dominates: no read in the loop sees a value t had before the loop or the iteration;
//   - its block runs in every iteration before the loop goes round or is left (it dominates every
//     latch and every block with an edge out of the loop). Then t holds the same value after the
//     loop, and the verifier, which accepted the instruction in the loop's first iteration with
//     the same operands, accepts it in the preheader: a pointer the loop tests for NULL, or an
//     index it checks against a bound, before the instruction is tested on a way out of the loop
//     or round it, which the instruction's block does not dominate, so it stays below the test
//     (arithmetic on a pointer that may be NULL is rejected as its dereference is). The address
//     of a global or of a slot, which the verifier accepts anywhere, moves from any block of the
//     loop when the instruction is t's only assignment in the function;
//   - a load also: no store, atomic, copy or fill in the loop may write its bytes, nor, unless
//     they are in a slot whose address never escapes, a call or asm (MemoryAliasing.swift, the
//     rules load forwarding follows). Volatile and ordered loads stay (`isPure`), and so do loads
//     of the arena: user space and other programs write arena memory while the program runs, and
//     programs wait on a flag in it without volatile.
// What is moved holds a register across the whole loop (BPF has r6-r9 across calls, r0-r5
// besides), so what saves nothing stays: a copy of a constant that fits an instruction's
// immediate, and one instruction that reads no register (an ld_imm64 of a global's address or of
// a wide constant, a CO-RE value) unless something moved reads it or something in the loop reads
// it in place (as its address; as an operand of a commutative operation whose other operand
// dies there, so that code generation writes the result over that one). Otherwise each reader
// would copy it into its own register first, one instruction for the one saved.
// The preheader is the header's only predecessor outside the loop when it jumps nowhere else;
// otherwise a new block, placed just before the header (block layout then lets it fall through
// into the loop), which the edges into the loop go to.

/// Moves loop-invariant computations out of the loops of every function of the module.
public func hoistLoopInvariants(_ module: inout Module) {
    for index in module.functions.indices {
        hoistLoopInvariants(in: &module.functions[index])
    }
}

private func hoistLoopInvariants(in function: inout Function) {
    // Moving instructions changes no Temp's assignments: what aliasing knows of them stays true.
    let aliasing = AliasFacts(function)
    var done: Set<Int> = []
    while let loop = innermostLoop(function, skipping: done) {
        done.insert(loop.header)
        if let inserted = hoist(loop, in: &function, aliasing) {
            done = Set(done.map { $0 >= inserted ? $0 + 1 : $0 })
        }
    }
}

/// A natural loop: a header that dominates the latches jumping back to it, and every block that
/// reaches a latch without passing the header.
private struct NaturalLoop {
    var header: Int
    var latches: [Int]
    var members: Set<Int>
    var graph: ControlFlow
    var predecessors: [[Int]]
}

/// The loop of fewest blocks (an innermost one) whose header is not `skipped`.
private func innermostLoop(_ function: Function, skipping skipped: Set<Int>) -> NaturalLoop? {
    let count = function.blocks.count
    let predecessors = ControlFlow.predecessors(of: function)
    let graph = ControlFlow(function)
    var best: NaturalLoop?
    for header in 0..<count where !skipped.contains(header) {
        let latches = predecessors[header].filter { graph.dominates(header, $0) }
        guard !latches.isEmpty else { continue }
        var members: Set<Int> = [header]
        var work = latches.filter { members.insert($0).inserted }
        while let b = work.popLast() {
            for p in predecessors[b] where members.insert(p).inserted { work.append(p) }
        }
        if best.map({ members.count < $0.members.count }) ?? true {
            best = NaturalLoop(header: header, latches: latches, members: members, graph: graph, predecessors: predecessors)
        }
    }
    return best
}

/// Moves the loop's invariants into its preheader; returns where a new preheader was inserted
/// (the blocks from there on moved one place up), nil when none was.
private func hoist(_ loop: NaturalLoop, in function: inout Function, _ aliasing: AliasFacts) -> Int? {
    let members = loop.members.sorted()
    let entering = loop.predecessors[loop.header].filter { !loop.members.contains($0) }
    // A header nothing outside the loop jumps to is unreachable, unless it is the entry.
    guard !entering.isEmpty || loop.header == 0 else { return nil }

    var assignments = [Int](repeating: 0, count: function.tempCount)
    for parameter in function.parameters { assignments[parameter.index] += 1 }
    var assignedInLoop = [Int](repeating: 0, count: function.tempCount)
    var readsInLoop: [Temp: [ProgramPoint]] = [:]
    var writes: [(place: Place, typed: Bool)] = []
    var callsOrAsm = false
    for (b, block) in function.blocks.enumerated() {
        for instruction in block.instructions {
            for t in instruction.operation.definedTemps { assignments[t.index] += 1 }
        }
        guard loop.members.contains(b) else { continue }
        for (i, instruction) in block.instructions.enumerated() {
            let operation = instruction.operation
            for t in operation.definedTemps { assignedInLoop[t.index] += 1 }
            for t in operation.usedTemps { readsInLoop[t, default: []].append((b, i)) }
            switch operation {
            case .store(let address, _, let size, let space, let flags):
                writes.append((aliasing.place(address, size: size.rawValue, space: space), flags.isTyped))
            case .atomic(_, _, let address, _, let size, let space), .compareExchange(_, let address, _, _, let size, let space):
                writes.append((aliasing.place(address, size: size.rawValue, space: space), false))
            case .copyMemory(let destination, _, let size, _, let space, _):
                writes.append((aliasing.place(destination, size: size, space: space), false))
            case .setMemory(let address, _, let size, _, let space):
                writes.append((aliasing.place(address, size: size, space: space), false))
            case .call, .inlineAsm:
                callsOrAsm = true
            case .copy, .binary, .negate, .signExtend, .zeroExtend, .byteSwap, .load, .slotAddress, .symbolAddress,
                 .addrSpaceCast, .setCondition, .coreValue:
                break
            }
        }
        for t in block.terminator.usedTemps { readsInLoop[t, default: []].append((b, block.instructions.count)) }
        switch block.terminator {
        case .inlineAsmGoto: callsOrAsm = true
        case .jump, .branch, .return, .mayGoto: break
        }
    }

    // Blocks that run in every iteration before it goes round or leaves.
    let gates = loop.latches + members.filter { b in
        function.blocks[b].terminator.successors.contains { !loop.members.contains($0.index) }
    }
    let runsEachIteration = Set(members.filter { b in gates.allSatisfy { loop.graph.dominates(b, $0) } })

    func movable(_ operation: Operation, at point: ProgramPoint) -> Bool {
        guard isPure(operation), isWorthARegister(operation), operation.definedTemps.count == 1,
              let t = operation.definedTemps.first, assignedInLoop[t.index] == 1,
              operation.usedTemps.allSatisfy({ assignedInLoop[$0.index] == 0 }) else { return false }
        let readAfter = readsInLoop[t, default: []].allSatisfy { read in
            read.block == point.block ? read.index > point.index : loop.graph.dominates(point.block, read.block)
        }
        guard readAfter else { return false }
        switch operation {
        case .slotAddress, .symbolAddress:
            return runsEachIteration.contains(point.block) || assignments[t.index] == 1
        case .load(_, let address, let size, let space, let flags):
            guard runsEachIteration.contains(point.block), space == 0 else { return false }
            let place = aliasing.place(address, size: size.rawValue, space: space)
            return !writes.contains { aliasing.mayAlias(place, typed: flags.isTyped, $0.place, typed: $0.typed) }
                && !(callsOrAsm && aliasing.callMayWrite(place))
        case .copy, .binary, .negate, .signExtend, .zeroExtend, .byteSwap, .addrSpaceCast, .setCondition, .coreValue,
             .store, .copyMemory, .setMemory, .call, .atomic, .compareExchange, .inlineAsm:
            return runsEachIteration.contains(point.block)
        }
    }

    // To a fixed point: an instruction reading what another computes moves after it.
    var moved: [ProgramPoint] = []
    var isMoved = Set<[Int]>()
    var changed = true
    while changed {
        changed = false
        for b in members {
            for (i, instruction) in function.blocks[b].instructions.enumerated()
            where !isMoved.contains([b, i]) && movable(instruction.operation, at: (b, i)) {
                moved.append((b, i))
                isMoved.insert([b, i])
                for t in instruction.operation.definedTemps { assignedInLoop[t.index] -= 1 }
                changed = true
            }
        }
    }
    // One instruction from nothing (an ld_imm64, a `mov` of a constant) saves nothing in the loop
    // where its readers there must copy it into their own register first (`r1 = 0 ll; r1 += r2`
    // becomes `r1 = r6; r1 += r2` while r2, a counter, lives on): it moves when something moved
    // reads it, or something in the loop reads it in place: a load or store as its address, a
    // commutative operation whose other operand dies there (`r2 += r6`, r2 read only there).
    func operation(at point: ProgramPoint) -> Operation? {
        let instructions = function.blocks[point.block].instructions
        return point.index < instructions.count ? instructions[point.index].operation : nil
    }
    let readCounts = function.readCounts
    func readsInPlace(_ t: Temp, _ reader: Operation?) -> Bool {
        guard let reader else { return false }
        if accessedAddress(reader)?.baseTemp == t { return true }
        guard case .binary(_, let op, _, let a, let b) = reader, op.isCommutative,
              let other = (a == .temp(t) ? b : a).temp else { return false }
        return other != t && readCounts[other.index] == 1
    }
    let movedReads = Set(moved.flatMap { operation(at: $0)!.usedTemps })
    moved.removeAll { point in
        let materialized = operation(at: point)!
        guard isMaterialized(materialized), let t = materialized.definedTemps.first, !movedReads.contains(t) else { return false }
        return !readsInLoop[t, default: []].contains { readsInPlace(t, operation(at: $0)) }
    }
    guard !moved.isEmpty else { return nil }
    let hoisted = moved.map { function.blocks[$0.block].instructions[$0.index] }
    let leaving = Set(moved.map { [$0.block, $0.index] })
    for b in members where moved.contains(where: { $0.block == b }) {
        function.blocks[b].instructions = function.blocks[b].instructions.enumerated()
            .filter { !leaving.contains([b, $0.offset]) }.map(\.element)
    }

    if entering.count == 1, let only = entering.first,
       case .jump = function.blocks[only].terminator {
        function.blocks[only].instructions += hoisted
        return nil
    }
    insertPreheader(before: loop.header, enteredFrom: entering, holding: hoisted, in: &function)
    return loop.header
}

/// Whether moving the instruction out of a loop saves more than the register it then holds
/// across the loop costs.
private func isWorthARegister(_ operation: Operation) -> Bool {
    switch operation {
    case .copy(_, .constant(let c)):
        // Beyond 32 bits a constant takes an ld_imm64.
        return Int32(exactly: c) == nil
    case .copy, .binary, .negate, .signExtend, .zeroExtend, .byteSwap, .load, .slotAddress, .symbolAddress,
         .addrSpaceCast, .setCondition, .coreValue, .store, .copyMemory, .setMemory, .call, .atomic,
         .compareExchange, .inlineAsm:
        return true
    }
}

/// Whether the operation is one instruction that reads no register: an ld_imm64 or a `mov` of a
/// constant.
private func isMaterialized(_ operation: Operation) -> Bool {
    switch operation {
    case .symbolAddress, .copy(_, .constant), .coreValue:
        return true
    case .copy, .binary, .negate, .signExtend, .zeroExtend, .byteSwap, .load, .slotAddress, .addrSpaceCast,
         .setCondition, .store, .copyMemory, .setMemory, .call, .atomic, .compareExchange, .inlineAsm:
        return false
    }
}

/// The address a load, store or atomic accesses memory at.
private func accessedAddress(_ operation: Operation) -> Address? {
    switch operation {
    case .load(_, let address, _, _, _), .store(let address, _, _, _, _), .atomic(_, _, let address, _, _, _),
         .compareExchange(_, let address, _, _, _, _):
        return address
    case .copy, .binary, .negate, .signExtend, .zeroExtend, .byteSwap, .copyMemory, .setMemory, .slotAddress,
         .symbolAddress, .call, .addrSpaceCast, .setCondition, .inlineAsm, .coreValue:
        return nil
    }
}

/// Puts a block holding `instructions` just before `header` (the blocks from there on move one
/// place up) and sends the edges from `entering` to the header to it; it jumps to the header.
private func insertPreheader(before header: Int, enteredFrom entering: [Int], holding instructions: [IRInstruction],
                             in function: inout Function) {
    let shifted = { (b: BlockID) in b.index >= header ? BlockID(b.index + 1) : b }
    let movedHeader = BlockID(header + 1), preheader = BlockID(header)
    for b in function.blocks.indices {
        let enters = entering.contains(b)
        function.blocks[b].id = shifted(function.blocks[b].id)
        function.blocks[b].terminator = function.blocks[b].terminator.mapped(value: { $0 }, block: { target in
            let moved = shifted(target)
            return enters && moved == movedHeader ? preheader : moved
        })
    }
    function.blocks.insert(Block(id: preheader, instructions: instructions, terminator: .jump(movedHeader),
                                 terminatorLocation: instructions.first?.location),
                           at: header)
}
