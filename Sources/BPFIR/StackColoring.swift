// Stack coloring: where each stack slot sits in the frame, slots never needed at the same time
// sharing bytes. Code generation's frame layout places the slots this way, and inlining asks how
// deep a caller's slots would reach before it takes a copy of a callee.
//
// The IR keeps no C scopes and no lifetime markers, and inlining adds every callee's slots to its
// caller; clang reuses the bytes of objects whose lifetimes do not overlap, and without doing the
// same a program that fits clang's 512 bytes does not fit ours. A slot's lifetime is found again
// from its uses: it is needed at every point that some instruction touching it reaches and that
// reaches some instruction touching it, on the CFG. An instruction touches a slot when it accesses
// it (`.slot` address), takes its address, or reads or writes a Temp that may hold a pointer
// derived from that address. A touch inside a loop thus keeps the slot over the whole loop, and a
// slot never touched needs no bytes of its own.
//
// That is sound only while every access to the slot's bytes goes through such a Temp. A derived
// pointer stored to memory could be loaded back anywhere, so such a slot is needed everywhere. A
// call cannot keep one past its return: the verifier refuses a callee that returns a stack pointer
// or spills one into its caller's frame, and helpers take stack memory only for the call. A call's
// result still counts as derived from its pointer arguments, since a helper may return the buffer
// it was given (bpf_dynptr_slice).

/// Offsets from the frame pointer of the slots of one function, slots that are never needed at
/// the same time sharing bytes.
///
/// Slots are placed in declaration order, each as close to the frame pointer as it fits without
/// overlapping a slot placed before it that is needed at the same time, at an offset that is a
/// multiple of its alignment (the verifier rejects misaligned stack accesses).
public struct StackColoring {
    /// Offset of each `function.slots` entry's first byte; negative, or 0 for an empty slot.
    public let offsets: [Int]
    /// Bytes below the frame pointer the slots reach.
    public let depth: Int

    public init(_ function: Function) {
        let conflicts = StackInterference(function).conflicts
        var offsets: [Int] = []
        for (s, slot) in function.slots.enumerated() {
            let placed = conflicts[s].filter { $0 < s }.map {
                (top: offsets[$0] + function.slots[$0].size, bottom: offsets[$0])
            }
            offsets.append(highestOffset(size: slot.size, alignment: slot.alignment, avoiding: placed))
        }
        self.offsets = offsets
        depth = offsets.map { -$0 }.max() ?? 0
    }
}

/// The offset closest to the frame pointer, a multiple of `alignment`, where `size` bytes overlap
/// none of the `placed` ranges (top exclusive). The candidates are just below the frame pointer
/// and just below each placed range: the highest free offset is always one of them.
private func highestOffset(size: Int, alignment: Int, avoiding placed: [(top: Int, bottom: Int)]) -> Int {
    let alignment = max(alignment, 1)
    func alignedDown(_ offset: Int) -> Int { -((-offset + alignment - 1) / alignment * alignment) }
    let candidates = ([0] + placed.map(\.bottom)).map { alignedDown($0 - size) }.sorted(by: >)
    for offset in candidates where !placed.contains(where: { offset < $0.top && $0.bottom < offset + size }) {
        return offset
    }
    preconditionFailure("the lowest candidate lies below every placed range")
}

/// The pairs of stack slots of one function that are needed at the same point.
private struct StackInterference {
    /// `conflicts[s]` holds the slots needed at some point where slot `s` is.
    private(set) var conflicts: [Set<Int>]

    init(_ function: Function) {
        let slotCount = function.slots.count
        conflicts = Array(repeating: [], count: slotCount)
        guard slotCount > 1 else { return }

        let derived = derivedPointers(function)
        func slotsOf(_ temps: [Temp]) -> Set<Int> {
            temps.reduce(into: Set<Int>()) { $0.formUnion(derived[$1] ?? []) }
        }

        // The positions touching each slot, per block (the terminator is at instructions.count),
        // in increasing order; and the slots whose address escapes to memory.
        var touches = Array(repeating: [Int: [Int]](), count: slotCount)
        var escaped: Set<Int> = []
        for (b, block) in function.blocks.enumerated() {
            for (i, instruction) in block.instructions.enumerated() {
                let operation = instruction.operation
                var touched = slotsOf(operation.usedTemps + operation.definedTemps)
                touched.formUnion(accessedSlots(operation))
                for s in touched { touches[s][b, default: []].append(i) }
                escaped.formUnion(slotsOf(storedValues(operation).compactMap(\.temp)))
            }
            for s in slotsOf(block.terminator.usedTemps) {
                touches[s][b, default: []].append(block.instructions.count)
            }
        }

        let successors = function.blocks.map { $0.terminator.successors.map(\.index) }
        var predecessors = [[Int]](repeating: [], count: function.blocks.count)
        for (b, targets) in successors.enumerated() {
            for s in targets { predecessors[s].append(b) }
        }

        // Each slot's interval of positions in each block where it is needed.
        var live = [[(slot: Int, first: Int, last: Int)]](repeating: [], count: function.blocks.count)
        for s in 0..<slotCount {
            if escaped.contains(s) {
                for (b, block) in function.blocks.enumerated() {
                    live[b].append((s, 0, block.instructions.count))
                }
                continue
            }
            let touched = Set(touches[s].keys)
            // Blocks whose entry a touch reaches, and blocks whose exit reaches a touch.
            let entryReached = reached(from: touched, along: successors)
            let exitReaches = reached(from: touched, along: predecessors)
            for (b, block) in function.blocks.enumerated() {
                let positions = touches[s][b] ?? []
                guard let first = entryReached.contains(b) ? 0 : positions.first,
                      let last = exitReaches.contains(b) ? block.instructions.count : positions.last,
                      first <= last else { continue }
                live[b].append((s, first, last))
            }
        }
        for intervals in live {
            for (i, a) in intervals.enumerated() {
                for b in intervals[(i + 1)...] where a.first <= b.last && b.first <= a.last && a.slot != b.slot {
                    conflicts[a.slot].insert(b.slot)
                    conflicts[b.slot].insert(a.slot)
                }
            }
        }
    }
}

/// The blocks one edge or more away from `start`, following `edges`.
private func reached(from start: Set<Int>, along edges: [[Int]]) -> Set<Int> {
    var result: Set<Int> = []
    var work = Array(start)
    while let b = work.popLast() {
        for next in edges[b] where result.insert(next).inserted { work.append(next) }
    }
    return result
}

/// For each Temp that may hold a pointer into a slot, the slots it may point into. Temps are not
/// SSA, so this holds over the whole function; iterated until nothing is added.
private func derivedPointers(_ function: Function) -> [Temp: Set<Int>] {
    var derived: [Temp: Set<Int>] = [:]
    var changed = true
    while changed {
        changed = false
        for block in function.blocks {
            for instruction in block.instructions {
                let operation = instruction.operation
                var slots: Set<Int> = []
                switch operation {
                case .slotAddress(_, let slot, _):
                    slots = [slot.index]
                case .copy, .binary, .negate, .signExtend, .zeroExtend, .addrSpaceCast, .call, .inlineAsm:
                    // Asm outputs may be computed from any of its inputs.
                    for t in operation.usedTemps { slots.formUnion(derived[t] ?? []) }
                case .load, .atomic, .compareExchange, .setCondition, .symbolAddress, .store, .copyMemory,
                     .setMemory, .byteSwap:
                    // A value from memory is a stored pointer only if one was stored, which makes
                    // its slot escape; a comparison yields 0 or 1, and a byte-swapped pointer
                    // points nowhere.
                    break
                }
                for defined in operation.definedTemps where !slots.isSubset(of: derived[defined] ?? []) {
                    derived[defined, default: []].formUnion(slots)
                    changed = true
                }
            }
        }
    }
    return derived
}

/// The values an operation writes to memory.
private func storedValues(_ operation: Operation) -> [Value] {
    switch operation {
    case .store(_, let value, _, _, _), .atomic(_, _, _, let value, _, _):
        return [value]
    case .compareExchange(_, _, let expected, let desired, _, _):
        return [expected, desired]
    case .inlineAsm:
        // Asm may store any operand anywhere.
        return operation.usedValues
    case .copy, .binary, .negate, .signExtend, .zeroExtend, .byteSwap, .load, .copyMemory, .setMemory,
         .slotAddress, .symbolAddress, .call, .addrSpaceCast, .setCondition:
        return []
    }
}

/// The slots an operation names directly: its `.slot` addresses and the slot whose address it takes.
private func accessedSlots(_ operation: Operation) -> Set<Int> {
    var slots: Set<Int> = []
    _ = operation.mapped(defined: { $0 }, value: { $0 }, address: { address in
        if case .slot(let slot, _) = address { slots.insert(slot.index) }
        return address
    }, slot: { slot in
        slots.insert(slot.index)
        return slot
    })
    return slots
}
