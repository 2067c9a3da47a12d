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
// Aliasing, and what a call of one of the module's functions may write: MemoryAliasing.swift.

/// Forwards known memory values into loads in every function of the module; a load of a constant
/// global (`GlobalVariable.isConstant`) at a known offset reads its initializer.
public func forwardLoads(_ module: inout Module) {
    let constants = ConstantGlobals(module)
    let effects = CallEffects(module)
    for index in module.functions.indices {
        forwardLoads(in: &module.functions[index], constants: constants, effects: effects)
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

    /// The bytes at `place` when constants known at other places of the same base cover them all
    /// (a load of a field of a struct initialized 8 bytes at a time, or of a whole small struct
    /// stored field by field), little-endian as BPF is.
    func constant(covering place: Place) -> Int64? {
        guard let offset = place.offset, place.size <= 8 else { return nil }
        var bytes = [UInt8?](repeating: nil, count: place.size)
        for (other, known) in known where other.base == place.base && other.space == place.space {
            guard case .constant(let c) = known.value, let start = other.offset else { continue }
            for i in 0..<other.size where (offset..<(offset + place.size)).contains(start + i) && i < 8 {
                bytes[start + i - offset] = UInt8(truncatingIfNeeded: c >> Int64(8 * i))
            }
        }
        var value: UInt64 = 0
        for (i, byte) in bytes.enumerated() {
            guard let byte else { return nil }
            value |= UInt64(byte) << UInt64(8 * i)
        }
        return Int64(bitPattern: value)
    }

    /// A register holding a wider place that contains `place`, and the bits below `place`'s first
    /// byte in it: the low byte of an int just stored, the second half of a struct in one register.
    /// Of several, the narrowest, so that the choice does not depend on the dictionary's order.
    func enclosing(_ place: Place) -> (value: Temp, shift: Int)? {
        guard let offset = place.offset else { return nil }
        var found: (value: Temp, shift: Int, size: Int)?
        for (other, known) in known where other.base == place.base && other.space == place.space && other.size > place.size {
            guard case .temp(let t) = known.value, let start = other.offset, start <= offset,
                  offset + place.size <= start + other.size else { continue }
            let candidate = (value: t, shift: 8 * (offset - start), size: other.size)
            if let best = found, (best.size, best.shift, best.value.index) <= (candidate.size, candidate.shift, t.index) { continue }
            found = candidate
        }
        return found.map { ($0.value, $0.shift) }
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

/// What each instruction does to memory facts, shared by the analysis and the rewrite.
private struct Transfer {
    let facts: AliasFacts
    let effects: CallEffects

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
            let place = facts.trackedPlace(address, size: size.rawValue, space: space)
            let known = state.known[place]
            assign(dst, into: &state)
            if !forgetting, !flags.isVolatile, place.base != .temp(dst) {
                state.remember(place, known ?? Known(value: .temp(dst), isLoadResult: true, isTyped: flags.isTyped))
            }
        case .store(let address, let value, let size, let space, let flags):
            let place = facts.trackedPlace(address, size: size.rawValue, space: space)
            write(place, typed: flags.isTyped, into: &state)
            if !forgetting, !flags.isVolatile, value.temp.map({ place.base != .temp($0) }) ?? true {
                state.remember(place, Known(value: value, isLoadResult: size == .double, isTyped: flags.isTyped))
            }
        case .atomic(let dst, _, let address, _, let size, let space):
            write(facts.trackedPlace(address, size: size.rawValue, space: space), typed: false, into: &state)
            if let dst { assign(dst, into: &state) }
        case .compareExchange(let dst, let address, _, _, let size, let space):
            write(facts.trackedPlace(address, size: size.rawValue, space: space), typed: false, into: &state)
            assign(dst, into: &state)
        case .copyMemory(let destination, _, let size, _, let space, _):
            write(facts.trackedPlace(destination, size: size, space: space), typed: false, into: &state)
        case .setMemory(let address, _, let size, _, let space):
            write(facts.trackedPlace(address, size: size, space: space), typed: false, into: &state)
        case .call(let dst, let callee, _):
            if let written = effects.globalsWritten(by: callee) {
                state.known = state.known.filter { !facts.callMayWrite($0.key, writingOnly: written) }
            } else {
                forgetWhatCallsMayWrite(in: &state)
            }
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

private func forwardLoads(in function: inout Function, constants: ConstantGlobals, effects: CallEffects) {
    let count = function.blocks.count
    guard count > 0 else { return }
    let transfer = Transfer(facts: AliasFacts(function), effects: effects)
    let predecessors = ControlFlow.predecessors(of: function)

    // Available values at each block's end, to a fixed point; a block not yet visited knows
    // everything (it does not constrain the meet), as in available-expressions analysis.
    var exits = [MemoryState?](repeating: nil, count: count)
    // What each block leaves a Temp holding by its last assignment, a copy: where predecessors
    // know a place to hold different values, one Temp each of them copied its value into holds
    // it after the join (a loop counter kept in a global and in a register: `store [g], 1;
    // %37 = 1` before the loop, `store [g], %632; %37 = %632` at its end).
    let copiedAtEnd = function.blocks.map(EndCopies.init)
    // A loop's header is first met before its back edge's source is: the holder is then taken
    // on trust where that source ends by copying into it, and dropped if the copy turns out to be
    // of another value (taking the value from the way in would hold for the first iteration only).
    func entry(_ b: Int) -> MemoryState {
        guard b != 0 else { return MemoryState() }
        let known = predecessors[b].compactMap { p in exits[p].map { (block: p, state: $0) } }
        let unvisited = predecessors[b].filter { exits[$0] == nil }
        guard var state = known.first?.state else { return MemoryState() }
        for other in known.dropFirst() { state = state.meet(other.state) }
        guard known.count + unvisited.count > 1 else { return state }
        for (place, first) in known[0].state.known where state.known[place] == nil || !unvisited.isEmpty {
            let values = known.compactMap { $0.state.known[place] }
            guard values.count == known.count, values.allSatisfy({ $0.isLoadResult == first.isLoadResult }),
                  let holder = copiedAtEnd[known[0].block].holders[first.value]?.first(where: { holder in
                      known.indices.allSatisfy { copiedAtEnd[known[$0].block].value[holder] == values[$0].value }
                          && unvisited.allSatisfy { copiedAtEnd[$0].value[holder] != nil }
                  })
            else { continue }
            state.known[place] = nil
            state.remember(place, Known(value: .temp(holder), isLoadResult: first.isLoadResult,
                                        isTyped: values.allSatisfy(\.isTyped)))
        }
        return state
    }
    // The transfer is not monotone (a load remembers either the value known before it or its own
    // result), so a fixed point is not certain; without one, nothing is known and nothing changes.
    // In reverse postorder, each block but a loop's header comes after its predecessors: one not
    // yet visited is a back edge's source, and the header keeps what the way into the loop knows
    // until the loop's own code says otherwise (in block order, a loop's body placed before its
    // header would know nothing, and tell the header so).
    let order = ControlFlow.postorder(ControlFlow.edges(of: function), roots: [0]).reversed()
    var changed = true
    var rounds = 0
    while changed {
        guard rounds < 32 else { return }
        rounds += 1
        changed = false
        for b in order {
            var state = entry(b)
            for instruction in function.blocks[b].instructions { transfer.apply(instruction.operation, to: &state) }
            transfer.apply(function.blocks[b].terminator, to: &state)
            if exits[b] != state {
                exits[b] = state
                changed = true
            }
        }
    }

    /// `place`, read at the start of a successor of block `p`, as the facts at `p`'s end name it:
    /// a pointer `p` assigns as another plus a constant (a join's `%7 = %45 + 4`) is said as that
    /// other, so that a load `p` made through it (`[%45+4]`) answers a load through the join's.
    func translated(_ place: Place, atEndOf p: Int) -> Place {
        guard case .temp(let pointer) = place.base, let offset = place.offset else { return place }
        let instructions = function.blocks[p].instructions
        guard let last = instructions.lastIndex(where: { $0.operation.definedTemps.contains(pointer) }) else { return place }
        let source: Temp, step: Int64
        switch instructions[last].operation {
        case .copy(_, .temp(let t)): (source, step) = (t, 0)
        case .binary(_, .add, .bits64, .temp(let t), .constant(let c)): (source, step) = (t, c)
        default: return place
        }
        let (moved, overflow) = Int64(offset).addingReportingOverflow(step)
        guard !overflow, let moved = Int(exactly: moved), source != pointer,
              !instructions[(last + 1)...].contains(where: { $0.operation.definedTemps.contains(source) })
        else { return place }
        return transfer.facts.trackedPlace(.temp(source, offset: moved), size: place.size, space: place.space)
    }

    for b in 0..<count {
        var state = entry(b)
        // Places this block loads that some predecessors know and that nothing in this block
        // has changed yet: a load of one can be answered by each predecessor (load PRE).
        var partial = MemoryState()
        /// What each predecessor knows of such a place, in the order of `predecessors[b]`.
        var answers: [Place: [Known?]] = [:]
        if b != 0, predecessors[b].count > 1, predecessors[b].allSatisfy({ exits[$0] != nil }) {
            for instruction in function.blocks[b].instructions {
                guard case .load(_, let address, let size, let space, let flags) = instruction.operation, !flags.isVolatile else { continue }
                let place = transfer.facts.trackedPlace(address, size: size.rawValue, space: space)
                guard state.known[place] == nil, answers[place] == nil else { continue }
                let known = predecessors[b].map { exits[$0]!.known[translated(place, atEndOf: $0)] }
                guard let some = known.lazy.compactMap({ $0 }).first else { continue }
                answers[place] = known
                partial.remember(place, some)
            }
        }
        // Where a predecessor goes elsewhere too, a load added there would run where this block
        // does not (and may fault there); a copy of what it knows may.
        let predecessorsGoNowhereElse = predecessors[b].allSatisfy { function.blocks[$0].terminator.successors.count == 1 }
        var instructions = function.blocks[b].instructions
        /// Shifts a load of part of a register's value needs first, by the load's index.
        var shifts: [Int: IRInstruction] = [:]
        /// What this block adds at its end as its own predecessor (a loop of one block).
        var appendedToSelf: [IRInstruction] = []
        for i in instructions.indices {
            let operation = instructions[i].operation
            if case .load(let dst, let address, let size, let space, let flags) = operation, !flags.isVolatile {
                let place = transfer.facts.trackedPlace(address, size: size.rawValue, space: space)
                if let constant = constants.load(place) {
                    instructions[i].operation = .copy(dst, .constant(constant))
                } else if let known = state.known[place] {
                    instructions[i].operation = copying(known, into: dst, size: size)
                } else if let constant = state.constant(covering: place) {
                    instructions[i].operation = .copy(dst, .constant(constant))
                } else if let (wider, shift) = state.enclosing(place) {
                    var part = wider
                    if shift > 0 {
                        part = function.makeTemp()
                        shifts[i] = IRInstruction(.binary(part, .lshr, .bits64, .temp(wider), .constant(Int64(shift))),
                                                  at: instructions[i].location)
                    }
                    instructions[i].operation = .zeroExtend(dst, .temp(part), fromBits: size.rawValue * 8)
                } else if partial.known[place] != nil, let known = answers[place],
                          predecessorsGoNowhereElse || known.allSatisfy({ $0 != nil }) {
                    let merged = function.makeTemp()
                    for (p, known) in zip(predecessors[b], known) {
                        var answer: [Operation] = []
                        if let known {
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
                        let added = answer.map { IRInstruction($0, at: instructions[i].location) }
                        if p == b {
                            appendedToSelf += added
                        } else {
                            function.blocks[p].instructions += added
                        }
                    }
                    instructions[i].operation = .copy(dst, .temp(merged))
                    partial.known[place] = nil
                }
            }
            transfer.apply(operation, to: &state)
            transfer.apply(operation, to: &partial, forgetting: true)
        }
        function.blocks[b].instructions = (shifts.isEmpty ? instructions : instructions.indices.flatMap { i in
            shifts[i].map { [$0, instructions[i]] } ?? [instructions[i]]
        }) + appendedToSelf
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
