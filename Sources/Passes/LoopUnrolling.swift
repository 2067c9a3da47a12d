import BPFIR

// Loop unrolling: a loop whose exits follow from what is known on the way in runs a known number
// of times; when its copies fold enough, it becomes that many copies of its body, one after the
// other, each with the values known in its iteration written in.
//
// Requires: simplification (constants reach the way into the loop); after load forwarding, a
// counter or bound kept in memory is a register too.
// Guarantees: the same behaviour. The loop is simulated iteration by iteration, as LLVM's full
// unroller does: each Temp's value is known or not at each point (constants, copies and
// arithmetic of known values folded as simplification folds; the address of a global or a slot
// plus a constant; a load from a global nobody may change and, after load forwarding, a load of
// what a store before it wrote, through `KnownMemory`; a pointer stepped through a slot becomes
// the slot's address in each copy), a branch on known
// values goes one way, a branch on data both ways, and the iteration's known values at the end
// of the back edge are the next one's. After load forwarding, a load of a known place an earlier
// store gave a value not known folds too: unrolled, load forwarding keeps that value in a
// register (a global incremented in the loop is loaded once and stored once). Any number of counters, steps and tests work alike. The
// loop unrolls when some iteration leaves it on every path, within `maximumTrips` iterations,
// the copies come to at most `maximumCopiedInstructions` instructions, and they fold enough:
// before load forwarding, when what stays of them (what does not fold) is a few instructions;
// after it, on trial, when the copies cleaned up (load forwarding, dead store elimination,
// simplification) leave the program cheaper to load and to verify, both estimated (`unrollLoops`). Only loops entered at their
// header are unrolled; nested loops inside out, one per round, unless an inner one runs a number
// of times that only the loop around it knows: then the nest unrolls whole (`Loop`).
// Why: the verifier walks a loop once per iteration anyway, carrying its state; unrolled, the
// values known in each copy fold: array indices, loads and stores (load forwarding and dead store
// elimination then finish the job), the tests. Clang's full unrolling does the same. A loop
// whose known values only drive its own counting (a CRC's eight shifts of unknown data) stays a
// loop: nothing folds, and unrolled, the verifier walked a million instructions on one.

/// Unrolls the loops that run a known number of times in every function of the module; true when
/// any was unrolled. Without `cleanup`, a loop unrolls when its copies, with what folds left out,
/// come to at most `foldedBudget` instructions. With it, a loop whose copies come to at most
/// `trialBudget` is unrolled on trial: `cleanup` runs on the function (a module of it alone), and
/// the result is kept when it leaves the module cheaper (`ProgramCost`, for `cpu`): the
/// instructions code generation will emit times the square of those the verifier will walk, the
/// two measures of issue 11, the walk weighing twice. The module's whole cost is the scale: the kernel loads and
/// verifies its programs together, so a loop's saving counts against what all of them cost.
@discardableResult
public func unrollLoops(_ module: inout Module, cpu: CPUVersion, cleanup: ((inout Module) -> Void)? = nil) -> Bool {
    // Before load forwarding, values stored in memory are left to it (followed here, the copies of
    // a loop over 128-bit values stored in slots kept load forwarding from folding the rest).
    let memory = KnownMemory(module, followsStores: cleanup != nil)
    // On trial, each function's cost and the module's, estimated at the first trial (a module
    // without loops needs none) and changed by each unrolling kept.
    var costs: [ProgramCost] = []
    var total = ProgramCost()
    var any = false
    for index in module.functions.indices {
        var function = module.functions[index]
        var unrolled = false
        var rejected: Set<Block> = []
        var trials = 0
        // Each round unrolls one loop; an outer loop becomes innermost once its inner ones went.
        round: for _ in 0..<16 {
            while let candidate = firstCountedLoop(function, memory, budget: cleanup == nil ? foldedBudget : trialBudget,
                                                   skipping: rejected) {
                var trial = function
                var copies = unroll(candidate.loop, candidate.iterations, in: &trial, memory)
                if let cleanup {
                    // Each trial cleans the whole function up: a function of many loops gets a few.
                    guard trials < maximumTrials else { break round }
                    trials += 1
                    // A loop nested in others is tried with them: alone, its copies stay in a
                    // loop the verifier walks once per iteration.
                    for _ in 0..<maximumNesting {
                        guard let outer = firstCountedLoop(trial, memory, budget: trialBudget, skipping: [], around: copies) else { break }
                        copies = unroll(outer.loop, outer.iterations, in: &trial, memory)
                    }
                    var alone = module
                    alone.functions = [trial]
                    cleanup(&alone)
                    trial = alone.functions[0]
                    if costs.isEmpty {
                        costs = module.functions.map { ProgramCost($0, cpu: cpu, memory) }
                        total = costs.reduce(ProgramCost(), +)
                    }
                    let cost = ProgramCost(trial, cpu: cpu, memory)
                    let changed = total - costs[index] + cost
                    guard changed.isCheaper(than: total) else {
                        rejected.insert(function.blocks[candidate.loop.header])
                        continue
                    }
                    costs[index] = cost
                    total = changed
                }
                function = trial
                unrolled = true
                continue round
            }
            break
        }
        if unrolled {
            module.functions[index] = function
            any = true
        }
    }
    return any
}

/// What a program costs in the two measures of issue 11, estimated: the instructions code
/// generation emits, which the kernel loads, and those the verifier walks.
private struct ProgramCost {
    var emitted = 0
    var walked = 0

    init() {}

    init(_ function: Function, cpu: CPUVersion, _ memory: KnownMemory) {
        let live = liveTemps(function)
        let sizes = emittedSizes(function, cpu: cpu, liveOut: live.out)
        emitted = sizes.reduce(0, +)
        walked = walkedInstructions(function, sizes: sizes, live: live.in, memory)
    }

    static func + (a: ProgramCost, b: ProgramCost) -> ProgramCost {
        var sum = a
        sum.emitted += b.emitted
        sum.walked += b.walked
        return sum
    }

    static func - (a: ProgramCost, b: ProgramCost) -> ProgramCost {
        var difference = a
        difference.emitted -= b.emitted
        difference.walked -= b.walked
        return difference
    }

    /// Cheaper when the instructions emitted times the square of those walked shrink: the walk
    /// weighs twice, as it is what limits real programs (the verifier's million instructions),
    /// where a copy too many costs only its bytes.
    func isCheaper(than other: ProgramCost) -> Bool {
        Double(emitted) * Double(walked) * Double(walked) <= Double(other.emitted) * Double(other.walked) * Double(other.walked)
    }
}

private let maximumTrips = 128
/// The loops of one function unrolled on trial, kept or not.
private let maximumTrials = 16
/// The loops around one tried with it.
private let maximumNesting = 3
/// The instructions copies may keep, once what folds is left out, to be unrolled without trial:
/// nearly all of each copy folds.
private let foldedBudget = 32
/// The instructions copies may keep, once what folds is left out, to be unrolled on trial (LLVM's
/// -O2 full-unroll threshold is of this order).
private let trialBudget = 200
/// The instructions the copies may hold before folding, so that simplification's work stays bounded.
private let maximumCopiedInstructions = 2000

/// What the simulation may know of memory: the bytes of constant globals (`ConstantGlobals`;
/// a `const volatile` global, which user space sets before loading, is not one), and, when it
/// follows stores, what the code before and in the loop stored (`Facts.memory`).
struct KnownMemory {
    let constants: ConstantGlobals
    let followsStores: Bool

    init(_ module: Module, followsStores: Bool) {
        constants = ConstantGlobals(module)
        self.followsStores = followsStores
    }
}

/// What the simulation knows of a Temp at a point.
private enum Known: Hashable {
    case constant(Int64)
    /// The address of a global or a slot (MemoryAliasing's `Base`), plus an offset.
    case address(Base, Int)
}

/// What is known at a point: Temps' values, and the values last stored at places while nothing
/// that may write memory unseen (a store through an unknown pointer, a call, an atomic, asm)
/// came between.
private struct Facts: Equatable {
    var temps: [Temp: Known] = [:]
    var memory: [Place: Int64] = [:]
    /// Places last stored a value not known, in the same conditions: unrolled, load forwarding
    /// finds that value in a register, as it does a counter kept in memory.
    var held: Set<Place> = []

    subscript(_ t: Temp) -> Known? {
        get { temps[t] }
        set { temps[t] = newValue }
    }

    /// What both sides know.
    func meet(_ other: Facts) -> Facts {
        Facts(temps: temps.filter { other.temps[$0.key] == $0.value }, memory: memory.filter { other.memory[$0.key] == $0.value },
              held: held.intersection(other.held))
    }

    /// After what may write memory unseen.
    mutating func forgetMemory() {
        memory = [:]
        held = []
    }

    /// The place an access reaches, when its address is known.
    func place(_ address: Address, _ size: MemorySize) -> Place? {
        switch address {
        case .slot(let slot, let offset):
            return Place(base: .slot(slot), offset: offset, size: size.rawValue, space: 0)
        case .temp(let t, let offset):
            guard case .address(let base, let start)? = temps[t] else { return nil }
            return Place(base: base, offset: start &+ offset, size: size.rawValue, space: 0)
        }
    }
}

/// A value with what is known of it written in.
private func written(_ value: Value, _ facts: Facts) -> Value {
    if case .temp(let t) = value, case .constant(let c)? = facts[t] { return .constant(c) }
    return value
}

/// The operation with the known values written in and folded (a load of a known value becomes
/// that value); `facts` then hold after it.
private func evaluated(_ operation: Operation, _ facts: inout Facts, _ memory: KnownMemory) -> Operation {
    var folded = fold(operation.mapped(defined: { $0 }, value: { written($0, facts) }, address: { $0 }),
                      zeroExtendedBits: { _ in nil }, signExtendedBits: { _ in nil }, signExtensionSource: { _ in nil })
    var learned: (Temp, Known)?
    switch folded {
    case .copy(let d, .constant(let c)):
        learned = (d, .constant(c))
    case .copy(let d, .temp(let t)):
        learned = facts[t].map { (d, $0) }
    case .symbolAddress(let d, let symbol, let offset):
        learned = (d, .address(.symbol(symbol), offset))
    case .slotAddress(let d, let slot, let offset):
        learned = (d, .address(.slot(slot), offset))
    case .binary(let d, let op, .bits64, .temp(let t), .constant(let c)) where op == .add || op == .sub:
        if case .address(let base, let offset)? = facts[t], let step = Int(exactly: c) {
            learned = (d, .address(base, op == .add ? offset &+ step : offset &- step))
        }
    case .load(let d, let address, let size, 0, let flags) where !flags.isVolatile && !flags.isOrdered:
        if let place = facts.place(address, size), let c = (memory.followsStores ? facts.memory[place] : nil) ?? memory.constants.load(place) {
            folded = .copy(d, .constant(c))
            learned = (d, .constant(c))
        }
    case .store(let address, let value, let size, 0, _):
        guard let place = facts.place(address, size) else {
            facts.forgetMemory()
            break
        }
        facts.memory = facts.memory.filter { !$0.key.overlaps(place) }
        facts.held = facts.held.filter { !$0.overlaps(place) }
        if case .constant(let c) = value {
            facts.memory[place] = size == .double ? c : c & ((1 << Int64(8 * place.size)) - 1)
        } else {
            facts.held.insert(place)
        }
    case .store, .copyMemory, .setMemory, .call, .atomic, .compareExchange, .inlineAsm:
        facts.forgetMemory()
    case .copy, .binary, .negate, .signExtend, .zeroExtend, .byteSwap, .load, .addrSpaceCast, .setCondition, .coreValue:
        break
    }
    for d in operation.definedTemps { facts[d] = nil }
    if let (d, known) = learned { facts[d] = known }
    return folded
}

/// A loop: a header that dominates it, where every way in enters, and the back edges inside it
/// (each edge to a block that dominates its source): to the header, or to the header of a loop
/// nested in it. An iteration runs from a back edge's target to the next back edge taken, so that
/// the iterations of a nested loop are the loop's too: a loop that jump threading split in two
/// (an arm of an `if` jumping straight to the step and test) unrolls as the one loop it was, and
/// a nest whose inner bounds follow from the outer counter unrolls whole.
private struct Loop {
    var header: Int
    var members: Set<Int>
    /// The targets of each block's back edges.
    var backEdges: [Int: Set<Int>]
    /// The blocks in an order where each comes after those that jump to it within an iteration.
    var order: [Int]
    /// The blocks every way from the start of an iteration to each block passes, the block included.
    var passed: [Int: Set<Int>]
    /// Temps assigned in the loop that only drive its own counting and tests: read in the loop
    /// only by the tests that leave it and by assignments of other such Temps, never after it.
    var counting: Set<Temp>
    /// Temps whose value may change from one iteration to the next: assigned in the loop and
    /// elsewhere too (a C local), or computed in the loop from such a Temp. A constant the loop
    /// computes from constants alone is the same in every copy, and folds as well in the loop.
    var varying: Set<Temp>
    /// Temps read in the loop.
    var reads: Set<Temp>

    /// Whether no loop is nested in this one: every back edge returns to the header.
    var isInnermost: Bool { backEdges.values.allSatisfy { $0 == [header] } }

    func isBackEdge(_ from: Int, _ to: Int) -> Bool { backEdges[from]?.contains(to) ?? false }
}

/// One iteration as simulated.
private struct Iteration {
    /// What is known on entry to each block the iteration may run.
    var entries: [Int: Facts] = [:]
    /// What is known where the back edges taken lead: the next iteration's starts, none when every
    /// path leaves the loop.
    var next: [Int: Facts] = [:]
    /// The instructions and branches that do not fold.
    var cost = 0
    /// Whether a known value folds into something other than the loop's counting.
    var folds = false
}

private func simulate(_ loop: Loop, starts: [Int: Facts], in function: Function, _ memory: KnownMemory) -> Iteration {
    var iteration = Iteration()
    iteration.entries = starts
    for b in loop.order {
        guard var facts = iteration.entries[b] else { continue }
        let block = function.blocks[b]
        for instruction in block.instructions {
            let operation = instruction.operation
            let readsKnown = operation.usedTemps.contains { loop.varying.contains($0) && facts[$0] != nil }
            if memory.followsStores, case .load(_, let address, let size, 0, let flags) = operation, !flags.isVolatile,
               !flags.isOrdered, let place = facts.place(address, size), facts.held.contains(place) {
                iteration.folds = true
            }
            let result = evaluated(operation, &facts, memory)
            let isCounting = !operation.definedTemps.isEmpty && operation.definedTemps.allSatisfy(loop.counting.contains)
            if case .copy(_, .constant) = result {
                if case .load = operation { iteration.folds = true }
            } else {
                iteration.cost += 1
            }
            if readsKnown && !isCounting { iteration.folds = true }
        }
        let terminator = foldTerminator(block.terminator.mapped(value: { written($0, facts) }))
        let successors = terminator.successors.map(\.index)
        switch terminator {
        case .branch: iteration.cost += 1
        case .inlineAsmGoto:
            // Like an asm statement, it may write any memory.
            iteration.cost += 1
            facts.forgetMemory()
        case .jump:
            if case .branch = block.terminator, block.terminator.successors.allSatisfy({ loop.members.contains($0.index) }) {
                iteration.folds = true
            }
        case .return, .mayGoto: break
        }
        for s in successors where loop.members.contains(s) {
            if loop.isBackEdge(b, s) {
                iteration.next[s] = iteration.next[s].map { $0.meet(facts) } ?? facts
            } else {
                iteration.entries[s] = iteration.entries[s].map { $0.meet(facts) } ?? facts
            }
        }
    }
    return iteration
}

/// What the search for loops needs of a function: its edges, dominators, and where each Temp is
/// assigned and read.
private struct LoopContext {
    let function: Function
    let successors: [[Int]]
    let predecessors: [[Int]]
    let dominators: ControlFlow
    var assignments: [Temp: Int] = [:]
    var addresses: [Temp: (block: Int, known: Known)] = [:]
    var readers: [Temp: [Reader]] = [:]
    var ends: BlockEndConstants

    init(_ function: Function) {
        self.function = function
        successors = function.blocks.map { $0.terminator.successors.map(\.index) }
        var predecessors = [[Int]](repeating: [], count: function.blocks.count)
        for (b, next) in successors.enumerated() { for s in next { predecessors[s].append(b) } }
        self.predecessors = predecessors
        dominators = ControlFlow(function)
        for parameter in function.parameters { assignments[parameter, default: 0] += 1 }
        for (b, block) in function.blocks.enumerated() {
            for t in block.terminator.usedTemps { readers[t, default: []].append((b, nil)) }
            for instruction in block.instructions {
                for t in instruction.operation.usedTemps { readers[t, default: []].append((b, instruction.operation.definedTemps)) }
                for t in instruction.operation.definedTemps { assignments[t, default: 0] += 1 }
                if case .symbolAddress(let t, let symbol, let offset) = instruction.operation {
                    addresses[t] = (b, .address(.symbol(symbol), offset))
                }
            }
        }
        ends = BlockEndConstants(function, predecessors: predecessors)
    }

    /// The targets of back edges, by their first back edge's source.
    var headers: [Int] {
        var seen: Set<Int> = []
        return successors.indices.flatMap { latch in
            successors[latch].filter { dominators.dominates($0, latch) && seen.insert($0).inserted }
        }
    }

    /// The header and every block that reaches one of its back edges without passing it.
    func members(header: Int) -> Set<Int> {
        var members: Set<Int> = [header]
        var work = predecessors[header].filter { dominators.dominates(header, $0) && $0 != header }
        members.formUnion(work)
        while let b = work.popLast() {
            for p in predecessors[b] where members.insert(p).inserted { work.append(p) }
        }
        return members
    }

    /// What is known on the way into `loop`, agreed by every entering block: global addresses
    /// assigned once outside the loop, the constants known at the end of the block's only
    /// predecessor, and the block's own instructions simulated on top; nil when nothing enters.
    mutating func entry(of loop: Loop, _ memory: KnownMemory) -> Facts? {
        var outside = Facts()
        for (t, (block, known)) in addresses where assignments[t] == 1 && !loop.members.contains(block) { outside[t] = known }
        var ways: [Facts] = []
        for b in predecessors[loop.header] where !loop.members.contains(b) {
            var facts = outside
            if predecessors[b].count == 1, b != 0 {
                for (t, c) in ends.values(atEndOf: predecessors[b][0]) { facts[t] = .constant(c) }
            }
            for instruction in function.blocks[b].instructions { _ = evaluated(instruction.operation, &facts, memory) }
            ways.append(facts)
        }
        guard let first = ways.first else { return nil }
        // Only what the loop reads: the facts are copied from block to block.
        var entry = ways.dropFirst().reduce(first) { $0.meet($1) }
        entry.temps = entry.temps.filter { loop.reads.contains($0.key) }
        return entry
    }

    /// The loop's iterations simulated from `entry` until one leaves on every path, `maximumTrips`
    /// have run, the copies would pass `maximumCopiedInstructions`, or those that do not fold pass
    /// `budget`.
    func iterations(of loop: Loop, from entry: Facts, _ memory: KnownMemory, budget: Int) -> [Iteration] {
        let size = loop.members.reduce(0) { $0 + function.blocks[$1].instructions.count + 1 }
        var iterations: [Iteration] = []
        var cost = 0
        var starts = [loop.header: entry]
        while iterations.count < maximumTrips && cost <= budget && (iterations.count + 1) * size <= maximumCopiedInstructions {
            let iteration = simulate(loop, starts: starts, in: function, memory)
            iterations.append(iteration)
            cost += iteration.cost
            guard !iteration.next.isEmpty else { break }
            starts = iteration.next
        }
        return iterations
    }
}

/// The instructions the verifier walks in `function`, estimated by walking it as the verifier
/// does, with what the simulation knows: from the entry, each block once in each state it is
/// reached in (what is known on the way in), both ways of a branch on data, the one way of a
/// branch on known values, and each block's instructions as code generation emits them (`sizes`).
/// A state reached before is not walked again, as the verifier prunes it; as the verifier, it
/// compares only the values that branches and addresses depend on (a total accumulated from data
/// differs between the ways of a branch, and is no reason to walk on twice). A block reached in
/// `maximumTrips` states forgets what it knew: a loop whose exit the simulation does not know is
/// walked that many times. The walk stops after `maximumWalkedStates` states.
private func walkedInstructions(_ function: Function, sizes: [Int], live: [Set<Temp>], _ memory: KnownMemory) -> Int {
    /// What tells states apart: the block, and the known values of the Temps that matter there.
    struct State: Hashable {
        var block: Int
        var temps: [Temp: Known]
    }
    let precise = preciseTemps(function)
    var seen: Set<State> = []
    var visits = [Int](repeating: 0, count: function.blocks.count)
    var work = [(block: 0, facts: Facts())]
    var total = 0
    while let (b, entry) = work.popLast(), seen.count < maximumWalkedStates {
        var facts = entry
        facts.temps = facts.temps.filter { precise.contains($0.key) && live[b].contains($0.key) }
        if visits[b] >= maximumTrips { facts = Facts() }
        guard seen.insert(State(block: b, temps: facts.temps)).inserted else { continue }
        visits[b] += 1
        total += sizes[b]
        let block = function.blocks[b]
        for instruction in block.instructions { _ = evaluated(instruction.operation, &facts, memory) }
        let terminator = foldTerminator(block.terminator.mapped(value: { written($0, facts) }))
        // Like an asm statement, an asm goto may write any memory.
        if case .inlineAsmGoto = terminator { facts.forgetMemory() }
        for s in terminator.successors.reversed() { work.append((s.index, facts)) }
    }
    return total
}

/// Temps whose values branches and addresses depend on, which the verifier tracks precisely.
private func preciseTemps(_ function: Function) -> Set<Temp> {
    var precise: Set<Temp> = []
    var work: [Temp] = []
    func mark(_ temps: [Temp]) {
        for t in temps where precise.insert(t).inserted { work.append(t) }
    }
    func base(_ address: Address) -> [Temp] {
        if case .temp(let t, _) = address { return [t] }
        return []
    }
    let definitions = function.assignments { _ in true }
    for block in function.blocks {
        switch block.terminator {
        case .branch, .inlineAsmGoto: mark(block.terminator.usedTemps)
        case .jump, .return, .mayGoto: break
        }
        for instruction in block.instructions {
            let operation = instruction.operation
            switch operation {
            case .load(_, let address, _, _, _), .store(let address, _, _, _, _), .setMemory(let address, _, _, _, _),
                 .atomic(_, _, let address, _, _, _), .compareExchange(_, let address, _, _, _, _):
                mark(base(address))
            case .copyMemory(let destination, let source, _, _, _, _):
                mark(base(destination) + base(source))
            case .call(_, _, let arguments):
                // Helpers check their arguments: sizes, pointers.
                mark(arguments.compactMap(\.temp))
            case .copy, .binary, .negate, .signExtend, .zeroExtend, .byteSwap, .slotAddress, .symbolAddress,
                 .addrSpaceCast, .setCondition, .inlineAsm, .coreValue:
                break
            }
        }
    }
    while let t = work.popLast() {
        for operation in definitions[t, default: []] { mark(operation.usedTemps) }
    }
    return precise
}

/// The states the estimate of the verifier's walk follows at most (a loop of `maximumTrips`
/// iterations of a hundred blocks).
private let maximumWalkedStates = 12_800

/// The first loop of the function, but those whose header is `skipped` and, given `blocks`, those
/// holding none of them, that runs a known number of times and whose copies come to at most
/// `budget` instructions once what folds is left out, with its iterations simulated.
private func firstCountedLoop(_ function: Function, _ memory: KnownMemory, budget: Int, skipping skipped: Set<Block>,
                              around blocks: Range<Int>? = nil) -> (loop: Loop, iterations: [Iteration])? {
    guard function.blocks.count > 1 else { return nil }
    var context = LoopContext(function)
    let loops = context.headers.filter { !skipped.contains(function.blocks[$0]) }.compactMap { naturalLoop(context, header: $0) }
        .filter { loop in blocks.map { loop.members.contains(where: $0.contains) } ?? true }
    // Inside out: a loop with others in it only when none of those runs a known number of times alone.
    for loop in loops.filter(\.isInnermost) + loops.filter({ !$0.isInnermost }) {
        guard let entry = context.entry(of: loop, memory) else { continue }
        let iterations = context.iterations(of: loop, from: entry, memory, budget: budget)
        guard let last = iterations.last, last.next.isEmpty, iterations.reduce(0, { $0 + $1.cost }) <= budget,
              iterations.count == 1 || iterations.contains(where: \.folds) else { continue }
        return (loop, iterations)
    }
    return nil
}

/// Where a Temp is read: by an instruction of a block, assigning `defines`, or (nil) by its terminator.
private typealias Reader = (block: Int, defines: [Temp]?)

/// The loop of `header`, when it is entered at the header only, left only by jumps, branches and
/// asm gotos without outputs, and its blocks without the back edges form no cycle (no loop inside
/// is entered elsewhere than at its header).
private func naturalLoop(_ context: LoopContext, header: Int) -> Loop? {
    let (function, successors, predecessors) = (context.function, context.successors, context.predecessors)
    let members = context.members(header: header)
    var backEdges: [Int: Set<Int>] = [:]
    for b in members {
        switch function.blocks[b].terminator {
        case .jump, .branch: break
        // An asm goto's outputs would be defined by a terminator the copies do not rename.
        case .inlineAsmGoto(let asm, _, _) where asm.outputs.isEmpty: break
        case .return, .mayGoto, .inlineAsmGoto: return nil
        }
        if b != header && predecessors[b].contains(where: { !members.contains($0) }) { return nil }
        for s in successors[b] where members.contains(s) && context.dominators.dominates(s, b) { backEdges[b, default: []].insert(s) }
    }
    // Blocks after those that jump to them, the back edges left out.
    var order: [Int] = []
    var remaining = Dictionary(uniqueKeysWithValues: members.map { b in
        (b, b == header ? 0 : predecessors[b].filter { !(backEdges[$0]?.contains(b) ?? false) }.count)
    })
    var ready = [header]
    while let b = ready.popLast() {
        order.append(b)
        for s in successors[b] where members.contains(s) && !(backEdges[b]?.contains(s) ?? false) {
            remaining[s]! -= 1
            if remaining[s] == 0 { ready.append(s) }
        }
    }
    guard order.count == members.count else { return nil }
    var passed: [Int: Set<Int>] = [:]
    for b in order {
        if b == header || backEdges.values.contains(where: { $0.contains(b) }) {
            passed[b] = [b]
            continue
        }
        let ways = predecessors[b].map { passed[$0]! }
        passed[b] = ways.dropFirst().reduce(ways[0]) { $0.intersection($1) }.union([b])
    }

    // Temps that only count: the greatest set whose in-loop readers are exit tests and
    // assignments of the set, read nowhere outside.
    var counting: Set<Temp> = []
    for b in members {
        for instruction in function.blocks[b].instructions { counting.formUnion(instruction.operation.definedTemps) }
    }
    var changed = true
    while changed {
        changed = false
        for t in counting {
            let onlyCounting = context.readers[t, default: []].allSatisfy { reader in
                guard members.contains(reader.block) else { return false }
                guard let defines = reader.defines else {
                    return successors[reader.block].contains { !members.contains($0) }
                }
                return !defines.isEmpty && defines.allSatisfy(counting.contains)
            }
            if !onlyCounting {
                counting.remove(t)
                changed = true
            }
        }
    }
    var varying: Set<Temp> = []
    var grew = true
    while grew {
        grew = false
        for b in order {
            for instruction in function.blocks[b].instructions {
                let operation = instruction.operation
                for t in operation.definedTemps where !varying.contains(t)
                    && (context.assignments[t, default: 0] > 1 || operation.usedTemps.contains(where: varying.contains)) {
                    varying.insert(t)
                    grew = true
                }
            }
        }
    }
    var reads: Set<Temp> = []
    for b in members {
        for instruction in function.blocks[b].instructions { reads.formUnion(instruction.operation.usedTemps) }
        reads.formUnion(function.blocks[b].terminator.usedTemps)
    }
    return Loop(header: header, members: members, backEdges: backEdges, order: order, passed: passed, counting: counting, varying: varying,
                reads: reads)
}

/// Replaces the loop by one copy of each iteration: the blocks that iteration may run, with what
/// it knows written in, its back edge on to the next copy. Returns where the copies are: the
/// function's last blocks.
private func unroll(_ loop: Loop, _ iterations: [Iteration], in function: inout Function, _ memory: KnownMemory) -> Range<Int> {
    var assignments: [Temp: Int] = [:]
    for parameter in function.parameters { assignments[parameter, default: 0] += 1 }
    for block in function.blocks {
        for instruction in block.instructions {
            for t in instruction.operation.definedTemps { assignments[t, default: 0] += 1 }
        }
    }
    // Temps assigned once, inside the loop, read only there after their assignment within the
    // same iteration: each copy gets its own, so that they stay assigned once for simplification.
    var definedAt: [Temp: (block: Int, index: Int)] = [:]
    for b in loop.members {
        for (i, instruction) in function.blocks[b].instructions.enumerated() {
            for t in instruction.operation.definedTemps where assignments[t] == 1 { definedAt[t] = (b, i) }
        }
    }
    var local = Set(definedAt.keys)
    for (b, block) in function.blocks.enumerated() {
        func read(_ t: Temp, at index: Int) {
            guard let at = definedAt[t] else { return }
            let after = loop.members.contains(b) && (at.block == b ? at.index < index : loop.passed[b]!.contains(at.block))
            if !after { local.remove(t) }
        }
        for (i, instruction) in block.instructions.enumerated() {
            for t in instruction.operation.usedTemps { read(t, at: i) }
        }
        for t in block.terminator.usedTemps { read(t, at: block.instructions.count) }
    }

    var ids: [[Int: BlockID]] = []
    var nextID = function.blocks.count
    for iteration in iterations {
        var copy: [Int: BlockID] = [:]
        for b in loop.order where iteration.entries[b] != nil {
            copy[b] = BlockID(nextID)
            nextID += 1
        }
        ids.append(copy)
    }
    var copies: [Block] = []
    for (k, iteration) in iterations.enumerated() {
        var renamed: [Temp: Temp] = [:]
        for t in local.sorted() { renamed[t] = function.makeTemp() }
        func rename(_ v: Value) -> Value {
            if case .temp(let t) = v, let r = renamed[t] { return .temp(r) }
            return v
        }
        for b in loop.order {
            guard var facts = iteration.entries[b], let id = ids[k][b] else { continue }
            var block = function.blocks[b]
            block.id = id
            for i in block.instructions.indices {
                var operation = evaluated(block.instructions[i].operation, &facts, memory)
                // A pointer stepped through a slot is that slot's address in each copy, so that
                // the accesses through it name the slot (and the steps go).
                if case .binary(let d, _, _, _, _) = operation, case .address(.slot(let slot), let offset)? = facts[d] {
                    operation = .slotAddress(d, slot, offset: offset)
                }
                block.instructions[i].operation = operation.mapped(
                    defined: { renamed[$0] ?? $0 },
                    value: rename,
                    address: { a in
                        if case .temp(let t, let offset) = a, let r = renamed[t] { return .temp(r, offset: offset) }
                        return a
                    })
            }
            // A back edge taken here means a next iteration; an edge inside goes to a block this
            // iteration may run.
            block.terminator = foldTerminator(block.terminator.mapped(value: { written($0, facts) })).mapped(
                value: rename,
                block: { s in
                    if loop.isBackEdge(b, s.index) { return ids[k + 1][s.index]! }
                    return loop.members.contains(s.index) ? ids[k][s.index]! : s
                })
            copies.append(block)
        }
    }
    // Every way into the loop now enters the first copy.
    for b in function.blocks.indices where !loop.members.contains(b) {
        function.blocks[b].terminator = function.blocks[b].terminator.mapped(
            value: { $0 }, block: { $0.index == loop.header ? ids[0][loop.header]! : $0 })
    }
    function.blocks += copies
    // Every copy is reached from the first, and the loop's blocks from nowhere any more.
    function.blocks = removingUnreachableBlocks(function.blocks)
    return function.blocks.count - copies.count ..< function.blocks.count
}
