import BPFIR

// Dead store elimination: a store into a stack slot whose bytes are all written again or never
// read before the function returns is removed, and so is a store into any other memory that a
// later store of the same block writes over before anything may read it.
//
// Requires: load forwarding (it turns the loads that made such stores live into copies) and
// aggregate lowering (every access is one load or store of at most 8 bytes).
// Guarantees: the same behaviour. Across blocks, only slots whose address never escapes
// (MemoryAliasing.swift) are considered: nothing but their own accesses can read them, not a
// call, not asm, not another program. Volatile stores and arena stores stay.
// Why: C locals that are structs or arrays live in slots. Once load forwarding has given their
// readers the stored values, the stores are left writing memory nobody reads: clang's SROA keeps
// such a local in registers and never stores it at all.
//
// Liveness of each byte of such slots, backwards over the CFG to a fixed point: a load makes the
// bytes it reads live (all of the slot's bytes when its offset is unknown); a store at a known
// offset makes the bytes it writes dead. At a return every byte is dead: locals die with the frame.

/// Removes dead stores into private stack slots in every function of the module.
public func eliminateDeadStores(_ module: inout Module) {
    for index in module.functions.indices {
        eliminateDeadStores(in: &module.functions[index])
    }
}

/// A set of bytes of the private slots, one bit each.
private struct ByteSet: Equatable {
    var words: [UInt64]

    init(bits: Int) { words = [UInt64](repeating: 0, count: (bits + 63) / 64) }

    func contains(anyOf range: Range<Int>) -> Bool {
        range.contains { words[$0 / 64] & (1 << UInt64($0 % 64)) != 0 }
    }
    mutating func insert(_ range: Range<Int>) {
        for bit in range { words[bit / 64] |= 1 << UInt64(bit % 64) }
    }
    mutating func remove(_ range: Range<Int>) {
        for bit in range { words[bit / 64] &= ~(1 << UInt64(bit % 64)) }
    }
    mutating func formUnion(_ other: ByteSet) {
        for i in words.indices { words[i] |= other.words[i] }
    }
}

/// Where the bytes of each private slot are numbered in a ByteSet, and which bytes an access
/// touches.
private struct PrivateSlots {
    let facts: AliasFacts
    /// First bit of each private slot; slots whose address escapes have none.
    let firstBit: [SlotID: Int]
    let sizes: [SlotID: Int]
    let bitCount: Int

    init(_ function: Function) {
        facts = AliasFacts(function)
        var firstBit: [SlotID: Int] = [:], sizes: [SlotID: Int] = [:]
        var next = 0
        for (index, slot) in function.slots.enumerated() where !facts.escapedSlots.contains(SlotID(index)) {
            firstBit[SlotID(index)] = next
            sizes[SlotID(index)] = slot.size
            next += slot.size
        }
        self.firstBit = firstBit
        self.sizes = sizes
        bitCount = next
    }

    /// The bits of a private slot an access touches: `exact` when the offset is known (and within
    /// the slot), otherwise every byte of the slot; nil for any other memory.
    func bits(_ address: Address, size: Int, space: Int) -> (range: Range<Int>, exact: Bool)? {
        let place = facts.place(address, size: size, space: space)
        guard case .slot(let slot) = place.base, let first = firstBit[slot], let slotSize = sizes[slot] else { return nil }
        let whole = first..<(first + slotSize)
        guard let offset = place.offset, offset >= 0, offset + size <= slotSize else { return (whole, false) }
        return ((first + offset)..<(first + offset + size), true)
    }
}

/// What an operation reads of private slots and, when removable, writes.
private enum SlotAccess {
    case none
    case read(Range<Int>)
    /// A write; `exact` when the bytes it writes are known (so they die before it).
    case write(Range<Int>, exact: Bool, removable: Bool)
    /// Reads and writes the same bytes (an atomic update); never removed.
    case update(Range<Int>)
    /// A copy from one place into another: reads `source`, writes `destination`.
    case copy(source: Range<Int>?, destination: (range: Range<Int>, exact: Bool)?)
}

private func access(_ operation: Operation, _ slots: PrivateSlots) -> SlotAccess {
    switch operation {
    case .load(_, let address, let size, let space, _):
        return slots.bits(address, size: size.rawValue, space: space).map { .read($0.range) } ?? .none
    case .store(let address, _, let size, let space, let flags):
        guard let bits = slots.bits(address, size: size.rawValue, space: space) else { return .none }
        return .write(bits.range, exact: bits.exact, removable: !flags.isVolatile)
    case .setMemory(let address, _, let size, _, let space):
        guard let bits = slots.bits(address, size: size, space: space) else { return .none }
        return .write(bits.range, exact: bits.exact, removable: true)
    case .copyMemory(let destination, let source, let size, _, let space, _):
        return .copy(source: slots.bits(source, size: size, space: space)?.range,
                     destination: slots.bits(destination, size: size, space: space))
    case .atomic(_, _, let address, _, let size, let space), .compareExchange(_, let address, _, _, let size, let space):
        return slots.bits(address, size: size.rawValue, space: space).map { .update($0.range) } ?? .none
    case .copy, .binary, .negate, .signExtend, .zeroExtend, .byteSwap, .slotAddress, .symbolAddress, .call,
         .addrSpaceCast, .setCondition, .inlineAsm, .coreValue:
        // Calls and asm cannot reach a slot whose address never escaped.
        return .none
    }
}

/// Applies one operation backwards to the live bytes; true when it is a store nobody reads.
private func isDead(_ operation: Operation, live: inout ByteSet, _ slots: PrivateSlots) -> Bool {
    switch access(operation, slots) {
    case .none:
        return false
    case .read(let range), .update(let range):
        live.insert(range)
        return false
    case .write(let range, let exact, let removable):
        if removable && !live.contains(anyOf: range) { return true }
        if exact { live.remove(range) }
        return false
    case .copy(let source, let destination):
        if let destination {
            if !live.contains(anyOf: destination.range) { return true }
            if destination.exact { live.remove(destination.range) }
        }
        if let source { live.insert(source) }
        return false
    }
}

private func eliminateDeadStores(in function: inout Function) {
    let slots = PrivateSlots(function)
    let count = function.blocks.count
    let successors = function.blocks.map { $0.terminator.successors.map(\.index) }
    var liveIn = [ByteSet](repeating: ByteSet(bits: slots.bitCount), count: count)

    func liveOut(_ b: Int) -> ByteSet {
        var live = ByteSet(bits: slots.bitCount)
        for s in successors[b] { live.formUnion(liveIn[s]) }
        return live
    }
    var changed = true
    while changed {
        changed = false
        for b in (0..<count).reversed() {
            var live = liveOut(b)
            for instruction in function.blocks[b].instructions.reversed() {
                _ = isDead(instruction.operation, live: &live, slots)
            }
            if live != liveIn[b] {
                liveIn[b] = live
                changed = true
            }
        }
    }

    for b in 0..<count {
        var live = liveOut(b)
        var dead = overwrittenStores(in: function.blocks[b], slots.facts)
        for (i, instruction) in function.blocks[b].instructions.enumerated().reversed()
        where !dead.contains(i) && isDead(instruction.operation, live: &live, slots) {
            dead.insert(i)
        }
        guard !dead.isEmpty else { continue }
        function.blocks[b].instructions = function.blocks[b].instructions.enumerated()
            .filter { !dead.contains($0.offset) }.map(\.element)
    }
}

/// The stores of a block into ordinary memory (globals, map values, the stack) that a later store
/// of the same block writes over before anything may read them: `seed++` twice stores once. Going
/// backwards, the places about to be written over are pending until a load that may read them, a
/// call or asm (which may read anything), or the assignment of the pointer they are relative to.
private func overwrittenStores(in block: Block, _ facts: AliasFacts) -> Set<Int> {
    var pending: [(place: Place, typed: Bool)] = []
    var dead = Set<Int>()
    for (i, instruction) in block.instructions.enumerated().reversed() {
        let operation = instruction.operation
        switch operation {
        case .store(let address, _, let size, let space, let flags) where space == 0 && !flags.isVolatile:
            let place = facts.place(address, size: size.rawValue, space: space)
            if let offset = place.offset, pending.contains(where: { covering in
                covering.place.base == place.base && covering.place.offset.map {
                    $0 <= offset && offset + place.size <= $0 + covering.place.size
                } == true
            }) {
                dead.insert(i)
            } else if place.offset != nil {
                // A bounded list keeps each store's check cheap in huge straight-line functions.
                if pending.count == 64 { pending.removeFirst() }
                pending.append((place, flags.isTyped))
            }
        case .load(_, let address, let size, let space, let flags):
            let read = facts.place(address, size: size.rawValue, space: space)
            pending.removeAll { facts.mayAlias(read, typed: flags.isTyped, $0.place, typed: $0.typed) }
        case .store, .atomic, .compareExchange, .copyMemory, .setMemory, .call, .inlineAsm:
            // They may read what a later store writes over (a call or asm, anything).
            pending.removeAll()
        case .copy, .binary, .negate, .signExtend, .zeroExtend, .byteSwap, .slotAddress, .symbolAddress,
             .addrSpaceCast, .setCondition, .coreValue:
            break
        }
        for defined in operation.definedTemps {
            pending.removeAll { $0.place.base == .temp(defined) }
        }
    }
    return dead
}
