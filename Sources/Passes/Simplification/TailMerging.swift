import BPFIR

/// Two blocks that compute the same thing and end the same way are one. `BPF_KSYSCALL` inlines
/// its body twice, once for each way of reading the syscall's arguments, and the two copies of
/// what follows the reads differ only in their Temps and stack slots; clang's code has one copy.
/// The second block's predecessors go to the first. Where the two read different values from
/// before (each path's own `sig`), a new Temp takes each path's value at the end of its
/// predecessors (LLVM sinks common code into a successor the same way, with a phi).
///
/// Only blocks whose own Temps and slots appear nowhere else, so that the names they lose are
/// used by nothing outside; only where no block jumps to both (the new Temp could not take two
/// values there); and each block, with its predecessors, in one merge per call, so that what a
/// merge adds to a predecessor does not stale another comparison.
func mergeTails(_ function: inout Function) -> Bool {
    let count = function.blocks.count
    guard count > 2 else { return false }
    let predecessors = ControlFlow.predecessors(of: function)
    // The one block each Temp and slot appears in, or `shared` once it appears in two.
    let unseen = -1, shared = -2
    var tempHome = [Int](repeating: unseen, count: function.tempCount)
    var slotHome = [Int](repeating: unseen, count: function.slots.count)
    func note(_ home: inout Int, _ b: Int) { home = home == unseen || home == b ? b : shared }
    for (b, block) in function.blocks.enumerated() {
        for instruction in block.instructions {
            for t in instruction.operation.definedTemps + instruction.operation.usedTemps { note(&tempHome[t.index], b) }
            _ = instruction.operation.mapped(defined: { $0 }, value: { $0 }, address: { address in
                if case .slot(let slot, _) = address { note(&slotHome[slot.index], b) }
                return address
            }, slot: { slot in
                note(&slotHome[slot.index], b)
                return slot
            })
        }
        for t in block.terminator.usedTemps { note(&tempHome[t.index], b) }
    }
    for parameter in function.parameters { tempHome[parameter.index] = shared }

    var first: [Shape: (block: Int, liveIn: [Temp])] = [:]
    var touched: Set<Int> = []
    var changed = false
    for b in 1..<count where !function.blocks[b].instructions.isEmpty && !predecessors[b].isEmpty {
        // A merge adds Temps to the blocks it touches, which the homes above do not know.
        guard !touched.contains(b),
              let (shape, liveIn) = canonical(function.blocks[b], b, tempHome: tempHome, slotHome: slotHome) else { continue }
        guard let (x, xLiveIn) = first[shape] else {
            first[shape] = (b, liveIn)
            continue
        }
        let involved = [x, b] + predecessors[x] + predecessors[b]
        let differing = zip(xLiveIn, liveIn).filter { $0.0 != $0.1 }
        // An asm goto's outputs are written by its terminator, after a copy added before it.
        let endsInAsmGoto = involved.contains { p in
            if case .inlineAsmGoto = function.blocks[p].terminator { return true }
            return false
        }
        guard touched.isDisjoint(with: involved), !endsInAsmGoto,
              differing.isEmpty || Set(predecessors[x]).isDisjoint(with: predecessors[b]) else { continue }
        touched.formUnion(involved)
        for (a, other) in differing {
            let merged = function.makeTemp()
            for (block, value) in [(x, a), (b, other)] {
                for p in predecessors[block] {
                    let location = function.blocks[p].terminatorLocation ?? function.blocks[block].instructions[0].location
                    function.blocks[p].instructions.append(IRInstruction(.copy(merged, .temp(value)), at: location))
                }
            }
            let renamed = { (v: Value) in v == .temp(a) ? Value.temp(merged) : v }
            function.blocks[x].instructions = function.blocks[x].instructions.map { instruction in
                var instruction = instruction
                instruction.operation = instruction.operation.mapped(defined: { $0 }, value: renamed, address: { address in
                    if case .temp(let t, let offset) = address, t == a { return .temp(merged, offset: offset) }
                    return address
                })
                return instruction
            }
            function.blocks[x].terminator = function.blocks[x].terminator.mapped(value: renamed)
        }
        let (from, to) = (function.blocks[b].id, function.blocks[x].id)
        for p in predecessors[b] {
            function.blocks[p].terminator = function.blocks[p].terminator.mapped(value: { $0 }, block: { $0 == from ? to : $0 })
        }
        changed = true
    }
    if changed { function.blocks = removingUnreachableBlocks(function.blocks) }
    return changed
}

/// A block with its Temps and slots numbered in the order they first appear: two blocks that
/// compute the same thing have the same shape.
private struct Shape: Hashable {
    var operations: [Operation]
    var terminator: Terminator
}

/// The shape of block `b` and the Temps it reads from before it, in the order of their numbers;
/// nil where a Temp it assigns, or a slot it uses, appears elsewhere, or it reads a Temp before
/// assigning it.
private func canonical(_ block: Block, _ b: Int, tempHome: [Int], slotHome: [Int]) -> (Shape, [Temp])? {
    var numbers: [Temp: Int] = [:], slotNumbers: [SlotID: Int] = [:]
    var defined: Set<Temp> = [], liveIn: Set<Temp> = []
    var fits = true
    func number(_ t: Temp) -> Temp {
        if let n = numbers[t] { return Temp(n) }
        numbers[t] = numbers.count
        return Temp(numbers.count - 1)
    }
    func number(_ slot: SlotID) -> SlotID {
        if slotHome[slot.index] != b { fits = false }
        if let n = slotNumbers[slot] { return SlotID(n) }
        slotNumbers[slot] = slotNumbers.count
        return SlotID(slotNumbers.count - 1)
    }
    func value(_ v: Value) -> Value {
        guard case .temp(let t) = v else { return v }
        return .temp(number(t))
    }
    var operations: [Operation] = []
    for instruction in block.instructions {
        let operation = instruction.operation
        for t in operation.usedTemps where !defined.contains(t) { liveIn.insert(t) }
        for d in operation.definedTemps {
            if tempHome[d.index] != b || liveIn.contains(d) { fits = false }
            defined.insert(d)
        }
        operations.append(operation.mapped(defined: number, value: value, address: { address in
            switch address {
            case .slot(let slot, let offset): return .slot(number(slot), offset: offset)
            case .temp(let t, let offset): return .temp(number(t), offset: offset)
            }
        }, slot: number))
    }
    for t in block.terminator.usedTemps where !defined.contains(t) { liveIn.insert(t) }
    let terminator = block.terminator.mapped(value: value)
    guard fits else { return nil }
    return (Shape(operations: operations, terminator: terminator), liveIn.sorted { numbers[$0]! < numbers[$1]! })
}
