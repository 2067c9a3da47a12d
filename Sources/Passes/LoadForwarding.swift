import BPFIR

// Load forwarding: a load of memory whose value is already in a register becomes a copy of that
// register. The value is known from a store to the same place (store-to-load forwarding) or an
// earlier load of it (redundant-load elimination), on every path to the load; where it is known on
// some paths into a join only, the load moves into the other predecessors and the join reads one
// register (load PRE, as LLVM's GVN does it).
//
// Requires: aggregate lowering (every access is one load or store of at most 8 bytes) and stack
// alignment; it runs before arena cast insertion, while arena accesses still name their pointer.
// Guarantees: the same behaviour; a non-volatile load may become a copy or zero-extension.
// Why: the verifier follows values in registers, not in memory it cannot prove unchanged. A loop
// bound or counter kept in a global, a stack array element or an arena object is an unknown
// scalar once reloaded, and the verifier then sees a loop that may never end ("infinite loop
// detected"). clang keeps such values in registers; so must we.
//
// Aliasing. Two places may be the same memory unless it is certain they are not:
//   - the same base (one slot, one global, one pointer Temp not assigned in between): exactly
//     when their byte ranges overlap;
//   - two different slots, two different globals, a global and a slot: never;
//   - a slot whose address is never taken is reached by nothing but its own accesses;
//   - otherwise, unless both accesses are typed (AccessFlags.isTyped) and of different widths.
// A call may write any memory but a slot whose address is never taken; atomics and copies write
// their destination as untyped stores do. Assigning a Temp forgets what was known through it.

/// Forwards known memory values into loads in every function of the module.
public func forwardLoads(_ module: inout Module) {
    for index in module.functions.indices {
        forwardLoads(in: &module.functions[index])
    }
}

/// Where a place is relative to: a stack slot, a global, or a pointer in a Temp.
private enum Base: Hashable {
    case slot(SlotID)
    case symbol(String)
    case temp(Temp)
}

/// A memory range one load or store covers.
private struct Place: Hashable {
    var base: Base
    /// Bytes from the base; nil somewhere within the object (a variable index into an array).
    var offset: Int?
    var size: Int
    var space: Int

    func overlaps(_ other: Place) -> Bool {
        guard let offset, let otherOffset = other.offset else { return true }
        return offset < otherOffset + other.size && otherOffset < offset + size
    }
}

/// The value memory at a place holds.
private struct Known: Equatable {
    var value: Value
    /// `value` is already what a load of the place returns (zero-extended to the access width).
    var isLoadResult: Bool
    /// The access that made it known was typed (for type-based aliasing).
    var isTyped: Bool
}

/// What is known of memory at one point of a function.
private struct MemoryState: Equatable {
    var known: [Place: Known] = [:]

    /// Beyond this many places, new ones are not remembered: enough for real code, and each
    /// store's check stays cheap in huge straight-line functions.
    static let capacity = 256

    /// Places without a known offset are never remembered: two of them may be different bytes.
    mutating func remember(_ place: Place, _ value: Known) {
        guard place.offset != nil else { return }
        if known.count < MemoryState.capacity || known[place] != nil { known[place] = value }
    }

    /// Only what both states know, with the same value.
    func meet(_ other: MemoryState) -> MemoryState {
        var result = MemoryState()
        for (place, a) in known {
            guard let b = other.known[place], a.value == b.value, a.isLoadResult == b.isLoadResult else { continue }
            result.known[place] = Known(value: a.value, isLoadResult: a.isLoadResult, isTyped: a.isTyped && b.isTyped)
        }
        return result
    }
}

/// The facts about a function's slots and Temps the aliasing rules need.
private struct AliasFacts {
    /// Slots a pointer may reach other than through the accesses below: their address is stored,
    /// passed, returned, compared or kept in a Temp assigned more than once.
    var escapedSlots: Set<SlotID> = []
    /// Temps assigned once to a pointer into a slot or a global: the object they point into
    /// wherever they are read (pointer arithmetic stays within its object, C11 6.5.6p8), and the
    /// offset when it is constant.
    var fixedBases: [Temp: (base: Base, offset: Int?)] = [:]

    init(_ function: Function) {
        var assignments = [Int](repeating: 0, count: function.tempCount)
        var definitions = [Operation?](repeating: nil, count: function.tempCount)
        for parameter in function.parameters { assignments[parameter.index] += 1 }
        for block in function.blocks {
            for instruction in block.instructions {
                for temp in instruction.operation.definedTemps {
                    assignments[temp.index] += 1
                    definitions[temp.index] = instruction.operation
                }
            }
        }
        let once = { (t: Temp) in assignments[t.index] == 1 }
        // Temps found to point into no fixed object without the search reaching its depth limit:
        // asked again (each Temp of a long chain asks of the one before), the answer is the same.
        var pointsNowhere = [Bool](repeating: false, count: function.tempCount)
        var reachedDepthLimit = false
        func object(_ temp: Temp, depth: Int = 0) -> (base: Base, offset: Int?)? {
            guard once(temp) else { return nil }
            guard depth < 64 else {
                reachedDepthLimit = true
                return nil
            }
            if let known = fixedBases[temp] { return known }
            if pointsNowhere[temp.index] { return nil }
            let limitReachedBefore = reachedDepthLimit
            reachedDepthLimit = false
            let result: (base: Base, offset: Int?)?
            switch definitions[temp.index] {
            case .slotAddress(_, let slot, let offset): result = (.slot(slot), offset)
            case .symbolAddress(_, let symbol, let offset): result = (.symbol(symbol), offset)
            case .copy(_, .temp(let source)): result = object(source, depth: depth + 1)
            case .binary(_, let op, .bits64, .temp(let pointer), let delta) where op == .add || op == .sub:
                if let inner = object(pointer, depth: depth + 1) {
                    if case .constant(let c) = delta, let offset = inner.offset, let step = Int(exactly: c) {
                        result = (inner.base, op == .add ? offset + step : offset - step)
                    } else {
                        result = (inner.base, nil)
                    }
                } else {
                    result = nil
                }
            default: result = nil
            }
            fixedBases[temp] = result
            if result == nil && !reachedDepthLimit { pointsNowhere[temp.index] = true }
            reachedDepthLimit = reachedDepthLimit || limitReachedBefore
            return result
        }
        for index in definitions.indices where definitions[index] != nil { _ = object(Temp(index)) }

        // A slot escapes when a pointer into it is used other than as an address or to compute
        // another tracked pointer.
        func escape(_ values: [Value]) {
            for case .temp(let t) in values {
                if case .slot(let slot)? = fixedBases[t]?.base { escapedSlots.insert(slot) }
            }
        }
        for block in function.blocks {
            for instruction in block.instructions {
                let operation = instruction.operation
                switch operation {
                case .load, .setMemory, .copyMemory:
                    break
                case .store(_, let value, _, _, _), .atomic(_, _, _, let value, _, _):
                    escape([value])
                case .compareExchange(_, _, let expected, let desired, _, _):
                    escape([expected, desired])
                case .copy(let dst, _) where fixedBases[dst] != nil:
                    break
                case .binary(let dst, _, _, _, let delta) where fixedBases[dst] != nil:
                    escape([delta])
                case .copy, .binary, .negate, .signExtend, .zeroExtend, .byteSwap, .slotAddress, .symbolAddress,
                     .call, .addrSpaceCast, .setCondition, .inlineAsm, .coreValue:
                    escape(operation.usedValues)
                }
                if case .slotAddress(let dst, let slot, _) = operation, !once(dst) { escapedSlots.insert(slot) }
            }
            escape(block.terminator.usedValues)
        }
    }

    func place(_ address: Address, size: Int, space: Int) -> Place {
        switch address {
        case .slot(let slot, let offset):
            return Place(base: .slot(slot), offset: offset, size: size, space: space)
        case .temp(let temp, let offset):
            if let fixed = fixedBases[temp] {
                return Place(base: fixed.base, offset: fixed.offset.map { $0 + offset }, size: size, space: space)
            }
            return Place(base: .temp(temp), offset: offset, size: size, space: space)
        }
    }

    /// Whether a write of `write` (typed or not) may change memory at `place` (known through a
    /// typed access or not).
    func mayAlias(_ place: Place, typed placeTyped: Bool, _ write: Place, typed writeTyped: Bool) -> Bool {
        if place.base == write.base { return place.overlaps(write) }
        switch (place.base, write.base) {
        case (.slot, .slot), (.symbol, .symbol), (.slot, .symbol), (.symbol, .slot):
            return false
        case (.slot(let slot), .temp), (.temp, .slot(let slot)):
            guard escapedSlots.contains(slot) else { return false }
        case (.symbol, .temp), (.temp, .symbol), (.temp, .temp):
            break
        }
        // A byte access is a character access, whatever its flags say.
        return !(placeTyped && writeTyped && place.size != write.size && min(place.size, write.size) > 1)
    }

    /// Whether a call may change memory at `place`.
    func callMayWrite(_ place: Place) -> Bool {
        if case .slot(let slot) = place.base { return escapedSlots.contains(slot) }
        return true
    }
}

/// What each instruction does to memory facts, shared by the analysis and the rewrite.
private struct Transfer {
    let facts: AliasFacts

    func write(_ place: Place, typed: Bool, into state: inout MemoryState) {
        state.known = state.known.filter { !facts.mayAlias($0.key, typed: $0.value.isTyped, place, typed: typed) }
    }

    func forgetWhatCallsMayWrite(in state: inout MemoryState) {
        state.known = state.known.filter { !facts.callMayWrite($0.key) }
    }

    /// What a block's end does: `asm goto` is asm.
    func apply(_ terminator: Terminator, to state: inout MemoryState) {
        switch terminator {
        case .inlineAsmGoto:
            forgetWhatCallsMayWrite(in: &state)
        case .jump, .branch, .return, .mayGoto:
            break
        }
    }

    func assign(_ temp: Temp, into state: inout MemoryState) {
        state.known = state.known.filter { $0.key.base != .temp(temp) && $0.value.value != .temp(temp) }
    }

    /// Applies `operation` to `state`: forgets what it may change and, unless only `forgetting`,
    /// remembers what a load or store makes known.
    func apply(_ operation: Operation, to state: inout MemoryState, forgetting: Bool = false) {
        switch operation {
        case .load(let dst, let address, let size, let space, let flags):
            let place = facts.place(address, size: size.rawValue, space: space)
            let known = state.known[place]
            assign(dst, into: &state)
            if !forgetting, !flags.isVolatile, place.base != .temp(dst) {
                state.remember(place, known ?? Known(value: .temp(dst), isLoadResult: true, isTyped: flags.isTyped))
            }
        case .store(let address, let value, let size, let space, let flags):
            let place = facts.place(address, size: size.rawValue, space: space)
            write(place, typed: flags.isTyped, into: &state)
            if !forgetting, !flags.isVolatile, value.temp.map({ place.base != .temp($0) }) ?? true {
                state.remember(place, Known(value: value, isLoadResult: size == .double, isTyped: flags.isTyped))
            }
        case .atomic(let dst, _, let address, _, let size, let space):
            write(facts.place(address, size: size.rawValue, space: space), typed: false, into: &state)
            if let dst { assign(dst, into: &state) }
        case .compareExchange(let dst, let address, _, _, let size, let space):
            write(facts.place(address, size: size.rawValue, space: space), typed: false, into: &state)
            assign(dst, into: &state)
        case .copyMemory(let destination, _, let size, _, let space, _):
            write(facts.place(destination, size: size, space: space), typed: false, into: &state)
        case .setMemory(let address, _, let size, _, let space):
            write(facts.place(address, size: size, space: space), typed: false, into: &state)
        case .call(let dst, _, _):
            forgetWhatCallsMayWrite(in: &state)
            if let dst { assign(dst, into: &state) }
        case .inlineAsm:
            // Asm may store anywhere a call may, whether or not it says "memory".
            forgetWhatCallsMayWrite(in: &state)
            for output in operation.definedTemps { assign(output, into: &state) }
        case .copy(let dst, _), .binary(let dst, _, _, _, _), .negate(let dst, _, _), .signExtend(let dst, _, _),
             .zeroExtend(let dst, _, _), .byteSwap(let dst, _, _), .slotAddress(let dst, _, _),
             .symbolAddress(let dst, _, _),
             .addrSpaceCast(let dst, _, _, _), .setCondition(let dst, _, _, _, _), .coreValue(let dst, _):
            assign(dst, into: &state)
        }
    }
}

private func forwardLoads(in function: inout Function) {
    let count = function.blocks.count
    guard count > 0 else { return }
    let transfer = Transfer(facts: AliasFacts(function))
    var predecessors = [[Int]](repeating: [], count: count)
    for (b, block) in function.blocks.enumerated() {
        for s in Set(block.terminator.successors.map(\.index)) { predecessors[s].append(b) }
    }

    // Available values at each block's end, to a fixed point; a block not yet visited knows
    // everything (it does not constrain the meet), as in available-expressions analysis.
    var exits = [MemoryState?](repeating: nil, count: count)
    func entry(_ b: Int) -> MemoryState {
        guard b != 0 else { return MemoryState() }
        let known = predecessors[b].compactMap { exits[$0] }
        guard var state = known.first else { return MemoryState() }
        for other in known.dropFirst() { state = state.meet(other) }
        return state
    }
    // The transfer is not monotone (a load remembers either the value known before it or its own
    // result), so a fixed point is not certain; without one, nothing is known and nothing changes.
    var changed = true
    var rounds = 0
    while changed {
        guard rounds < 32 else { return }
        rounds += 1
        changed = false
        for b in 0..<count {
            var state = entry(b)
            for instruction in function.blocks[b].instructions { transfer.apply(instruction.operation, to: &state) }
            transfer.apply(function.blocks[b].terminator, to: &state)
            if exits[b] != state {
                exits[b] = state
                changed = true
            }
        }
    }

    for b in 0..<count {
        var state = entry(b)
        // Places some predecessors know and that nothing in this block has changed yet: a load
        // of one can be answered by each predecessor (load PRE). Only where every predecessor
        // goes nowhere else, so that what is added there runs exactly when this block does.
        var partial = MemoryState()
        if b != 0, predecessors[b].count > 1, !predecessors[b].contains(b),
           predecessors[b].allSatisfy({ function.blocks[$0].terminator.successors.count == 1 && exits[$0] != nil }) {
            for p in predecessors[b] {
                for (place, known) in exits[p]!.known where state.known[place] == nil { partial.known[place] = known }
            }
        }
        var instructions = function.blocks[b].instructions
        for i in instructions.indices {
            let operation = instructions[i].operation
            if case .load(let dst, let address, let size, let space, let flags) = operation, !flags.isVolatile {
                let place = transfer.facts.place(address, size: size.rawValue, space: space)
                if let known = state.known[place] {
                    instructions[i].operation = copying(known, into: dst, size: size)
                } else if partial.known[place] != nil {
                    let merged = function.makeTemp()
                    for p in predecessors[b] {
                        var answer: [Operation] = []
                        if let known = exits[p]!.known[place] {
                            answer = [copying(known, into: merged, size: size)]
                        } else {
                            // The load's own address may be computed in this block, after the
                            // predecessor: the place says where it is from there.
                            let from: Address
                            switch (place.base, place.offset) {
                            case (.slot(let slot), let offset?):
                                from = .slot(slot, offset: offset)
                            case (.symbol(let symbol), let offset?):
                                let pointer = function.makeTemp()
                                answer.append(.symbolAddress(pointer, symbol: symbol, offset: offset))
                                from = .temp(pointer, offset: 0)
                            case (.temp(let pointer), let offset?):
                                from = .temp(pointer, offset: offset)
                            case (_, nil):
                                preconditionFailure("a place without an offset is never known")
                            }
                            answer.append(.load(merged, from, size, addressSpace: space, flags))
                        }
                        function.blocks[p].instructions += answer.map { IRInstruction($0, at: instructions[i].location) }
                    }
                    instructions[i].operation = .copy(dst, .temp(merged))
                    partial.known[place] = nil
                }
            }
            transfer.apply(operation, to: &state)
            transfer.apply(operation, to: &partial, forgetting: true)
        }
        function.blocks[b].instructions = instructions
    }
}

/// `dst = ` the value a load of `size` bytes would return, from what memory is known to hold.
private func copying(_ known: Known, into dst: Temp, size: MemorySize) -> Operation {
    switch known.value {
    case .constant(let c):
        let bits = size.rawValue * 8
        return .copy(dst, .constant(bits == 64 ? c : c & ((1 << Int64(bits)) - 1)))
    case .temp(let t):
        return known.isLoadResult || size == .double ? .copy(dst, .temp(t)) : .zeroExtend(dst, .temp(t), fromBits: size.rawValue * 8)
    }
}
