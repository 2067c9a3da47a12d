import BPFIR
import BPFInstructions

// Register allocation: priority-ordered assignment over live ranges with holes.
//
// Instructions are numbered in layout order, two positions each: operands are read at the even
// position, the result is written at the odd one, so a Temp that dies in an instruction can hand
// its register to that instruction's result. A Temp's live range is a list of disjoint segments,
// built backwards through each block from its live-out set: a Temp occupies its register only
// where its value may still be read, so two Temps whose values are never needed at the same time
// (a loop counter and a temporary of a slow path laid out after the loop) can share a register.
//
// First, Temps copied into one another are joined (coalesced) into one range, so that the copy
// disappears, where their values never differ while both are live: a copy read alongside its
// source joins it (and before liveness, a copy of a Temp's old value moves above the instruction
// that computes its new one from it, so that `i--` as a value costs one move). Temps are taken in
// order of spill weight (reads and writes, each counting 8^loop depth, per instruction spanned),
// heaviest first, and each gets the first register whose occupants' ranges do not overlap its
// own, trying first the register it arrives or leaves in (unless it is live across a call, which
// those registers are not), then the rest. A Temp that finds no register is spilled: the lightest
// Temps, those least used inside loops, end up on the stack.
// Temps joined by coalescing that find no register together are tried again one by one: spilled
// together, a short step of the chain (a load's value extended, then added) would go through
// memory with the long-lived value it was joined to.
//
// Registers (BPF calling convention: r1-r5 arguments, r0 result, both clobbered by calls; r6-r9
// preserved; r10 the read-only frame pointer):
//   - r0 and r5 are the scratch registers of instruction selection (operands reloaded from spill
//     slots, large constants, results bound for a spill slot). r5 is never allocated; r0 is given,
//     once the other registers are decided, to ranges where no instruction inside needs it as
//     scratch: first to spilled ones, which then need no slot, then to the ranges of returned
//     values and call results, which saves the move into or out of r0.
//   - r1-r4 hold Temps live across no call; r6-r9 hold any Temp.
// A spilled Temp lives in an 8-byte stack slot for its whole life: the verifier keeps a pointer's
// type only across 8-byte spills. Spilled Temps whose ranges do not overlap share a slot. A Temp
// that holds a constant, a global's address or a stack slot's address is rather rematerialized,
// when that costs no more: its definitions go, and each read computes the value again (an
// immediate, an `ld_imm64`, an offset from r10), with no store and no load. Such Temps weigh
// only what rematerializing would cost, so they are the first to give up their registers. Where a
// register is free from a write of a spilled Temp to reads of it soon after in the same block, the
// value stays there too: those reads load nothing, and the slot serves the reads further on. So
// too from a read of a spilled or rematerialized Temp to the reads after it: the first loads it
// (or computes it) into that register. A spilled Temp computed from a Temp in a register that
// nothing reads after (`d = a op b`, selected `d = a; d op= b`) is computed in that register,
// with no move into scratch r0 first.
//
// Inline asm: a Temp live across an asm, or one of its operands, never gets a register the asm
// clobbers. An operand whose Temp is spilled (or a constant for an `r` input) gets a register
// that nothing occupies at the asm, chosen last: instruction selection loads it there before the
// asm and stores outputs from there after it. An early-clobber output (`=&r`) is live from the
// position where the asm reads its inputs, so it shares no register with them.

/// Where a Temp lives for its whole lifetime.
enum Location: Equatable {
    case register(Register)
    /// An 8-byte spill slot, numbered from 0; the frame layout places it.
    case spill(Int)
    /// Nowhere: the value is computed again where it is read, and its definitions are left out.
    case rematerialized(Rematerialization)
}

/// A value that reads no register and no memory, which a Temp holding it can have computed again
/// at each read rather than stored to a spill slot and loaded back: no store, and no load (a
/// constant often becomes the reading instruction's immediate, a slot's address its r10 offset).
enum Rematerialization: Equatable {
    case constant(Int64)
    /// `ld_imm64` of a global or map: one instruction to the verifier, no memory access.
    case symbolAddress(String, offset: Int)
    case slotAddress(SlotID, offset: Int)

    /// The instructions computing the value at a read take, counted in 8-byte slots as a load
    /// takes one: none for a constant an immediate holds, two for an `ld_imm64`, and for a slot's
    /// address none as an access's base (an offset from r10) and two (`r = r10; r += off`) as a
    /// value, taken as one.
    var readCost: Double {
        switch self {
        case .constant(let c): return Int32(exactly: c) == nil ? 2 : 0
        case .symbolAddress: return 2
        case .slotAddress: return 1
        }
    }

    /// The slots of a definition, which a rematerialized Temp does without.
    var definitionCost: Double {
        switch self {
        case .constant(let c): return Int32(exactly: c) == nil ? 2 : 1
        case .symbolAddress, .slotAddress: return 2
        }
    }
}

/// One IR instruction: its block and its index there.
struct InstructionSite: Hashable {
    var block: BlockID
    var index: Int
}

/// The result of register allocation for one function.
struct RegisterAssignment {
    /// Indexed by Temp; nil for Temps that are never live.
    var locations: [Location?]
    var spillSlotCount: Int
    /// Temps live into the entry block: parameters and Temps read before written on some path.
    var liveAtEntry: [Temp]
    /// Instructions whose result nothing reads: instruction selection leaves out those that only
    /// compute it, and gives the others their form without a result (an atomic add without fetch).
    var unreadResults: Set<InstructionSite>
    /// The register of each operand of each inline asm (an asm goto at its block's instruction
    /// count): nil for an immediate or tied operand, and for a register operand when no register
    /// was free.
    var asmRegisters: [InstructionSite: [Register?]]
    /// A register that holds a spilled Temp, by the instructions that write or read it there: from
    /// where it is written to its reads soon after in the same block, the value stays in the
    /// register it was computed in (and is stored to its slot too), so those reads load nothing.
    var residentRegisters: [InstructionSite: [Temp: Register]]
    /// Spilled and rematerialized Temps loaded (or computed) into their resident register at an
    /// instruction, before it reads its operands, for it and the reads soon after.
    var reloads: [InstructionSite: [Temp: Register]]

    func location(of t: Temp) -> Location {
        guard let location = locations[t.index] else {
            preconditionFailure("\(t) is read or written but has no live interval")
        }
        return location
    }
}

/// The scratch registers of instruction selection: r5 is never given to a Temp, r0 only where
/// instruction selection needs no scratch.
enum Scratch {
    static let first = Register.r0
    static let second = Register.r5
}


private let callClobbered: [Register] = [.r1, .r2, .r3, .r4]
private let callPreserved: [Register] = [.r6, .r7, .r8, .r9]

/// Where some Temps that share one location are live: sorted, disjoint closed segments of
/// positions. Coalescing joins the ranges of Temps copied into one another.
private struct LiveRange {
    var temps: [Temp]
    var segments: [ClosedRange<Int>]
    /// Reads and writes, each weighted by how deeply nested in loops it is.
    var useFrequency = 0.0
    /// The reads alone, weighted the same.
    var readFrequency = 0.0
    /// The value of a lone Temp that can be rematerialized.
    var rematerialization: Rematerialization?
    var crossesCall = false
    /// Registers an inline asm clobbers where this range is live.
    var forbidden: Set<Register> = []
    /// Where the range's Temps are written, by position: coalescing asks whether another range is
    /// live there.
    var definitions: [Definition] = []

    var start: Int { segments[0].lowerBound }

    /// What the range costs off a register: a store at each write and a load at each read, or for
    /// a rematerialized Temp the value computed at each read less its definitions left out.
    var spillCost: Double {
        guard let value = rematerialization, isRematerialized else { return useFrequency }
        return max(0, readFrequency * value.readCost - (useFrequency - readFrequency) * value.definitionCost)
    }

    /// Whether a range that finds no register is cheaper rematerialized than in a spill slot,
    /// counted in instruction slots: the value computed at each read, against its definitions
    /// with a store after each and a load at each read.
    var isRematerialized: Bool {
        guard let value = rematerialization else { return false }
        let writeFrequency = useFrequency - readFrequency
        return readFrequency * value.readCost <= writeFrequency * (value.definitionCost + 1) + readFrequency
    }

    /// How much keeping the Temp in a register saves per position it occupies; the constant keeps
    /// short ranges from outweighing everything a loop uses. A Temp rematerialized cheaply, with
    /// no store, goes to the stack before one as used.
    var spillWeight: Double {
        let span = segments.reduce(0) { $0 + $1.count }
        return spillCost / Double(span / 2 + 8)
    }

    /// Adds the Temps of `other`, which must hold the same values as these wherever both are live.
    mutating func join(_ other: LiveRange) {
        temps += other.temps
        if overlaps(other.segments) {
            segments.mergeSegments(other.segments)
        } else {
            segments.insertSegments(other.segments)
        }
        definitions = (definitions + other.definitions).sorted { $0.position < $1.position }
        useFrequency += other.useFrequency
        readFrequency += other.readFrequency
        crossesCall = crossesCall || other.crossesCall
        forbidden.formUnion(other.forbidden)
        rematerialization = nil
    }

    func overlaps(_ other: [ClosedRange<Int>]) -> Bool { segments.overlapsSegments(other) }

    /// Whether the two ranges may hold different values at a position where both are live, so
    /// that one register cannot hold both. Following a path back from a position where both are
    /// live, the later of their writes happens where the other range is live already: they
    /// interfere when such a write is anything but a copy of a Temp of the other range, after which
    /// the two values are equal (Chaitin's rule), or when both are live into the entry block, with
    /// the values they come with. `leader` gives the range a Temp has been joined into.
    func interferes(with other: LiveRange, leader: (Temp) -> Int) -> Bool {
        let (sourceOfSelf, sourceOfOther) = (leader(other.temps[0]), leader(temps[0]))
        // Segment by segment, in order, until a write apart: each arm of a long `else if` chain
        // asks whether the variable they assign and the one they compare (both live along the
        // whole chain) interfere, which the first arm shows.
        return segments.anyIntersectingSegment(other.segments) { segment in
            segment.lowerBound == 0
                || definitions(in: segment).contains { $0.copied.map(leader) != sourceOfSelf }
                || other.definitions(in: segment).contains { $0.copied.map(leader) != sourceOfOther }
        }
    }

    /// The definitions at positions in `segment`.
    private func definitions(in segment: ClosedRange<Int>) -> ArraySlice<Definition> {
        var (low, high) = (0, definitions.count)
        while low < high {
            let middle = (low + high) / 2
            if definitions[middle].position < segment.lowerBound { low = middle + 1 } else { high = middle }
        }
        return definitions[low...].prefix { $0.position <= segment.upperBound }
    }
}

/// A write of a Temp: the position where its new value starts to occupy a register, and for a
/// copy of another Temp, that Temp.
private struct Definition {
    var position: Int
    var copied: Temp?
}

/// Sorted, disjoint segments of positions: the live range of a Temp, or what occupies a register
/// or a spill slot. One of them grows to thousands of segments in a long function, so neither
/// asking whether a short range overlaps it nor adding one to it walks all of it.
extension [ClosedRange<Int>] {
    /// Whether a segment of these overlaps one of `other`'s.
    func overlapsSegments(_ other: [ClosedRange<Int>]) -> Bool {
        anyIntersectingSegment(other) { _ in true }
    }

    /// Whether `predicate` holds for a segment of the positions both these and `other` cover,
    /// tried in order of position until it does. A segment of the shorter list finds the segments
    /// of the longer one it overlaps by binary search; two lists of about the same length are
    /// walked side by side instead, in one pass over both: a variable assigned in each arm of a
    /// long `else if` chain meets, once per arm, the one the arms compare.
    func anyIntersectingSegment(_ other: [ClosedRange<Int>], where predicate: (ClosedRange<Int>) -> Bool) -> Bool {
        let (short, long) = count <= other.count ? (self, other) : (other, self)
        if short.count * (Int.bitWidth - long.count.leadingZeroBitCount) > short.count + long.count {
            var (i, j) = (0, 0)
            while i < short.count && j < long.count {
                let (a, b) = (short[i], long[j])
                if a.lowerBound <= b.upperBound && b.lowerBound <= a.upperBound,
                   predicate(Swift.max(a.lowerBound, b.lowerBound)...Swift.min(a.upperBound, b.upperBound)) {
                    return true
                }
                if a.upperBound < b.upperBound { i += 1 } else { j += 1 }
            }
            return false
        }
        for segment in short {
            // The first segment of `long` that does not end before this one starts.
            var (low, high) = (0, long.count)
            while low < high {
                let middle = (low + high) / 2
                if long[middle].upperBound < segment.lowerBound { low = middle + 1 } else { high = middle }
            }
            for partner in long[low...].prefix(while: { $0.lowerBound <= segment.upperBound }) {
                let shared = Swift.max(segment.lowerBound, partner.lowerBound)...Swift.min(segment.upperBound, partner.upperBound)
                if predicate(shared) { return true }
            }
        }
        return false
    }

    /// Adds `other`'s segments, some of which may overlap these: overlapping ones become one.
    mutating func mergeSegments(_ other: [ClosedRange<Int>]) {
        var merged: [ClosedRange<Int>] = []
        merged.reserveCapacity(count + other.count)
        for segment in (self + other).sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = merged.last, segment.lowerBound <= last.upperBound {
                merged[merged.count - 1] = last.lowerBound...Swift.max(last.upperBound, segment.upperBound)
            } else {
                merged.append(segment)
            }
        }
        self = merged
    }

    /// Adds `other`'s segments, none of which overlaps these, keeping the order. A few go each
    /// where a binary search puts it, so that adding a short range to a long one moves memory
    /// rather than rebuilding the list; more are merged.
    mutating func insertSegments(_ other: [ClosedRange<Int>]) {
        guard other.count > 8 else {
            for segment in other {
                var (low, high) = (0, count)
                if let last, last.lowerBound < segment.lowerBound { low = high }
                while low < high {
                    let middle = (low + high) / 2
                    if self[middle].lowerBound < segment.lowerBound { low = middle + 1 } else { high = middle }
                }
                insert(segment, at: low)
            }
            return
        }
        var merged: [ClosedRange<Int>] = []
        merged.reserveCapacity(count + other.count)
        var (i, j) = (0, 0)
        while i < count || j < other.count {
            if j == other.count || (i < count && self[i].lowerBound < other[j].lowerBound) {
                merged.append(self[i])
                i += 1
            } else {
                merged.append(other[j])
                j += 1
            }
        }
        self = merged
    }
}

/// Segments of live ranges, added and taken away again, asked whether any crosses a given
/// segment: the ranges still to be allocated that would like a register, which thousands may
/// (every value passed to a call). Two Fenwick trees over positions count the segments that start
/// at or before a position and those that end before one; those crossing [l, u] are the ones
/// starting at or before u less those ending before l.
private struct SegmentCounter {
    private var starts: [Int]
    private var ends: [Int]

    init(positions: Int) {
        starts = [Int](repeating: 0, count: positions + 1)
        ends = starts
    }

    /// Adds each segment `count` times (-1 takes them away).
    mutating func add(_ segments: [ClosedRange<Int>], count: Int = 1) {
        for segment in segments {
            SegmentCounter.add(count, at: segment.lowerBound, to: &starts)
            SegmentCounter.add(count, at: segment.upperBound, to: &ends)
        }
    }

    func crossesAny(_ segments: [ClosedRange<Int>]) -> Bool {
        segments.contains { segment in
            SegmentCounter.total(starts, through: segment.upperBound)
                - SegmentCounter.total(ends, through: segment.lowerBound - 1) > 0
        }
    }

    private static func add(_ count: Int, at position: Int, to tree: inout [Int]) {
        var i = position + 1
        while i < tree.count {
            tree[i] += count
            i += i & -i
        }
    }

    private static func total(_ tree: [Int], through position: Int) -> Int {
        var (i, sum) = (min(position + 1, tree.count - 1), 0)
        while i > 0 {
            sum += tree[i]
            i -= i & -i
        }
        return sum
    }
}

/// An inline asm at `position` (where it reads its operands).
private struct AsmSite {
    var site: InstructionSite
    var position: Int
    var asm: InlineAsm
}

/// Numbers the instructions of `order` and computes each Temp's live range, indexed by Temp; nil
/// for Temps never live.
private func liveRanges(_ function: Function, order: [BlockID], liveness: Liveness,
                        rematerializations: [Rematerialization?])
    -> (ranges: [LiveRange?], accesses: [TempAccess], unread: Set<InstructionSite>, asmSites: [AsmSite])
{
    var accesses: [TempAccess] = []
    var asmSites: [AsmSite] = []
    var unread = Set<InstructionSite>()
    var pieces = [[ClosedRange<Int>]](repeating: [], count: function.tempCount)
    var frequency = [Double](repeating: 0, count: function.tempCount)
    var readFrequency = frequency
    var definitions = [[Definition]](repeating: [], count: function.tempCount)
    let depth = loopDepths(function)
    var calls: [Int] = []
    var blockStart = 0
    for id in order {
        let block = function.blocks[id.index]
        let terminatorPosition = blockStart + 2 * block.instructions.count
        let weight = Double(1 << (3 * min(depth[id.index], 6)))
        // Walking backwards, `openEnd[t]` is where the segment of t being built ends.
        var openEnd: [Temp: Int] = [:]
        for t in liveness.liveOut[id.index].elements { openEnd[t] = terminatorPosition + 1 }
        for t in block.terminator.usedTemps {
            frequency[t.index] += weight
            readFrequency[t.index] += weight
            if openEnd[t] == nil { openEnd[t] = terminatorPosition }
        }
        switch block.terminator {
        case .return(.temp(let t)): accesses.append(TempAccess(position: terminatorPosition, returned: t))
        case .branch(_, _, let a, let b, _, _):
            accesses.append(TempAccess(position: terminatorPosition, comparing: a, b))
        case .return, .jump, .mayGoto:
            accesses.append(TempAccess(position: terminatorPosition, temps: block.terminator.usedTemps))
        case .inlineAsmGoto(let asm, _, _):
            var access = TempAccess(position: terminatorPosition, temps: block.terminator.usedTemps)
            access.usesScratch = true
            accesses.append(access)
            asmSites.append(AsmSite(site: InstructionSite(block: id, index: block.instructions.count),
                                    position: terminatorPosition, asm: asm))
        }
        for (i, instruction) in block.instructions.enumerated().reversed() {
            let position = blockStart + 2 * i
            var earlyClobbered: Set<Temp> = []
            if case .inlineAsm(let asm) = instruction.operation {
                asmSites.append(AsmSite(site: InstructionSite(block: id, index: i), position: position, asm: asm))
                earlyClobbered = asm.earlyClobberedOutputs
            }
            for d in instruction.operation.definedTemps {
                frequency[d.index] += weight
                // A value nobody reads still occupies its register for the instant it is written.
                let end = openEnd.removeValue(forKey: d)
                let start = earlyClobbered.contains(d) ? position : position + 1
                pieces[d.index].append(start...(end ?? position + 1))
                var copied: Temp?
                if case .copy(_, .temp(let s)) = instruction.operation { copied = s }
                definitions[d.index].append(Definition(position: start, copied: copied))
                if end == nil { unread.insert(InstructionSite(block: id, index: i)) }
            }
            accesses.append(TempAccess(position: position, instruction.operation))
            if case .call = instruction.operation { calls.append(position + 1) }
            for t in instruction.operation.usedTemps {
                frequency[t.index] += weight
                readFrequency[t.index] += weight
                if openEnd[t] == nil { openEnd[t] = position }
            }
        }
        for (t, end) in openEnd { pieces[t.index].append(blockStart...end) }
        blockStart = terminatorPosition + 2
    }

    let callPoints = calls.sorted().map { $0...$0 }
    var ranges: [LiveRange?] = Array(repeating: nil, count: function.tempCount)
    for index in 0..<function.tempCount where !pieces[index].isEmpty {
        // Pieces of one Temp never overlap; adjacent ones stay apart so that a Temp passed to a
        // call and redefined by it is not taken for one live across the call.
        let segments = pieces[index].sorted { $0.lowerBound < $1.lowerBound }
        var range = LiveRange(temps: [Temp(index)], segments: segments, useFrequency: frequency[index],
                              readFrequency: readFrequency[index], rematerialization: rematerializations[index],
                              definitions: definitions[index].sorted { $0.position < $1.position })
        // The value must survive a call when the call's clobber point lies strictly inside.
        let interiors = segments.compactMap { $0.count > 2 ? $0.lowerBound + 1...$0.upperBound - 1 : nil }
        range.crossesCall = interiors.overlapsSegments(callPoints)
        for site in asmSites where segments.contains(where: { $0.overlaps(site.position...site.position + 1) }) {
            range.forbidden.formUnion(site.asm.clobberedRegisters)
        }
        ranges[index] = range
    }
    return (ranges, accesses, unread, asmSites)
}

extension InlineAsm {
    var clobberedRegisters: [Register] { clobbers.map { Register(rawValue: UInt8($0)) } }

    /// Outputs written before every input is read (`=&r`).
    var earlyClobberedOutputs: Set<Temp> {
        Set(operands.compactMap { operand in
            if case .output(let t, earlyClobber: true) = operand { return t }
            return nil
        })
    }
}

extension Operation {
    /// The operand a copy or a unary or binary operation starts from: `d = a op b` is selected as
    /// `d = a; d op= b`, a copy of `a` into d and an operation on d.
    var tiedSource: Value? {
        switch self {
        case .copy(_, let value), .negate(_, _, let value), .signExtend(_, let value, _),
             .zeroExtend(_, let value, _), .byteSwap(_, let value, _), .binary(_, _, _, let value, _):
            return value
        case .load, .store, .copyMemory, .setMemory, .slotAddress, .symbolAddress, .call, .addrSpaceCast,
             .setCondition, .atomic, .compareExchange, .inlineAsm, .coreValue:
            return nil
        }
    }

    /// Whether the operation does nothing but compute its result: without a reader it can go.
    /// Loads stay (a volatile read must happen), and so do calls, stores and atomics.
    var onlyComputes: Bool {
        switch self {
        case .copy, .binary, .negate, .signExtend, .zeroExtend, .byteSwap, .slotAddress, .addrSpaceCast,
             .setCondition, .coreValue:
            return true
        // An ld_imm64 of a map tells the kernel which maps, and which arena, the program uses, even
        // when nothing reads its value (ArenaAssociation relies on that).
        case .load, .store, .copyMemory, .setMemory, .call, .symbolAddress, .atomic, .compareExchange, .inlineAsm:
            return false
        }
    }
}

/// What one instruction or terminator at `position` does that decides whether a Temp may live in
/// r0 around it: instruction selection uses r0 as scratch for spilled operands and results and
/// for offsets too wide for the instruction, and a call clobbers it.
private struct TempAccess {
    var position: Int
    var temps: [Temp]
    /// Always uses r0, whatever the allocation: a call, or an access at a displacement that may
    /// not fit 16 bits.
    var usesScratch = false
    /// The result of a call, which arrives in r0.
    var callResult: Temp?
    /// The Temp a `return` moves into r0.
    var returned: Temp?
    /// Loaded into r0 when not in a register, before any other operand is read: a store's base,
    /// a comparison's left operand.
    var scratchOperand: Temp?
    /// The result, computed in r0 when it is bound for a spill slot.
    var result: Temp?

    init(position: Int, temps: [Temp]) {
        self.position = position
        self.temps = temps
    }

    /// A branch on `a cond b`; the comparison swaps its operands when only `a` is a constant.
    init(position: Int, comparing a: Value, _ b: Value) {
        self.init(position: position, temps: [a, b].compactMap(\.temp))
        scratchOperand = TempAccess.left(a, b)
    }

    private static func left(_ a: Value, _ b: Value) -> Temp? {
        if case .constant = a { return b.temp }
        return a.temp
    }

    init(position: Int, returned: Temp) {
        self.init(position: position, temps: [returned])
        self.returned = returned
    }

    init(position: Int, _ operation: Operation) {
        self.init(position: position, temps: operation.usedTemps + operation.definedTemps)
        switch operation {
        case .call(let d, _, _):
            usesScratch = true
            callResult = d
        case .atomic, .compareExchange:
            // Selected with r5 and r0 (cmpxchg compares with r0 and returns the old value there).
            usesScratch = true
        case .inlineAsm:
            // Its spilled operands may be loaded into r0.
            usesScratch = true
        case .load(_, let address, _, _, _), .store(let address, _, _, _, _):
            switch address {
            case .temp(let base, let displacement):
                if case .store = operation { scratchOperand = base }
                usesScratch = abs(displacement) > Int(Int16.max) - FrameLayout.limit
            case .slot(_, let displacement):
                // A slot's offset adds the frame offset, at most 512 further.
                usesScratch = abs(displacement) > Int(Int16.max) - FrameLayout.limit
            }
        case .setCondition(_, _, _, let a, let b):
            scratchOperand = TempAccess.left(a, b)
        case .copy, .binary, .negate, .signExtend, .zeroExtend, .byteSwap, .copyMemory, .setMemory, .slotAddress,
             .symbolAddress, .addrSpaceCast, .coreValue:
            break
        }
        switch operation {
        case .copy, .binary, .negate, .signExtend, .zeroExtend, .byteSwap, .load, .slotAddress, .symbolAddress,
             .addrSpaceCast, .setCondition, .coreValue:
            result = operation.definedTemps.first
        case .store, .copyMemory, .setMemory, .call, .atomic, .compareExchange, .inlineAsm:
            break
        }
    }

    /// Whether instruction selection, using r0 as scratch here, destroys what `range` keeps in r0:
    /// an instruction that always uses it (a call, but for its own result), an operand loaded into
    /// it before the others are read, or a result computed there while the range lives on.
    /// `inRegister` tells the Temps that are not reloaded.
    func clobbers(_ range: LiveRange, inRegister: (Temp) -> Bool) -> Bool {
        let reads = range.segments.contains { $0.contains(position) }
        let keeps = range.segments.contains { $0.contains(position + 1) }
        if usesScratch {
            return reads || keeps && !(callResult.map(range.temps.contains) ?? false)
        }
        return reads && !(scratchOperand.map(inRegister) ?? true) || keeps && !(result.map(inRegister) ?? true)
    }
}

/// r0, which instruction selection uses as scratch, for ranges where it never needs it: spilled
/// ranges first (a register instead of a store and loads), then the ranges of Temps that a
/// `return` moves into r0 or that a call leaves there (no move).
private struct R0Placement {
    /// The accesses by position, so that those inside a segment are found by binary search.
    let accesses: [TempAccess]
    var occupied: [ClosedRange<Int>] = []

    init(_ accesses: [TempAccess]) {
        self.accesses = accesses.sorted { $0.position < $1.position }
    }

    /// Puts `range` in r0 when it is free there and no instruction inside clobbers it.
    mutating func place(_ range: LiveRange, _ locations: inout [Location?]) -> Bool {
        guard range.start > 0, !range.overlaps(occupied) else { return false }
        let temps = Set(range.temps)
        func inRegister(_ t: Temp) -> Bool {
            if temps.contains(t) { return true }
            if case .register? = locations[t.index] { return true }
            return false
        }
        let clobbered = range.segments.contains { segment in
            var (low, high) = (0, accesses.count)
            while low < high {
                let middle = (low + high) / 2
                if accesses[middle].position + 1 < segment.lowerBound { low = middle + 1 } else { high = middle }
            }
            return accesses[low...].prefix { $0.position <= segment.upperBound }.contains {
                $0.clobbers(range, inRegister: inRegister)
            }
        }
        if clobbered { return false }
        for t in range.temps { locations[t.index] = .register(.r0) }
        occupied.insertSegments(range.segments)
        return true
    }
}

/// Assigns every live Temp a register or a spill slot.
func allocateRegisters(_ function: Function, order: [BlockID], liveness: Liveness) -> RegisterAssignment {
    let entry = function.blocks[0].id.index
    let (unjoined, accesses, unread, asmSites) = liveRanges(
        function, order: order, liveness: liveness,
        rematerializations: rematerializations(function, liveAtEntry: liveness.liveIn[entry].elements))
    // Each weight once: it sums the range's segments.
    let ranges = coalesce(unjoined, function).map { ($0, $0.spillWeight) }.sorted {
        ($0.1, $1.0.start) > ($1.1, $0.0.start)
    }.map(\.0)
    let hints = registerHints(function)

    var locations = [Location?](repeating: nil, count: function.tempCount)
    var occupied: [Register: [ClosedRange<Int>]] = [:]
    // Where ranges not allocated yet would like their hinted register: another range takes it
    // there only when nothing else is free.
    var wanted: [Register: SegmentCounter] = [:]
    let positions = (ranges.compactMap { $0.segments.last?.upperBound }.max() ?? 0) + 1
    // A range live across a call cannot take r1-r4, which every hint is: it wants none.
    let hintedRegisters = ranges.map { range in
        range.crossesCall ? [] : Set(range.temps.compactMap { hints[$0] }).subtracting(range.forbidden)
    }
    for (index, range) in ranges.enumerated() {
        for hint in hintedRegisters[index] {
            wanted[hint, default: SegmentCounter(positions: positions)].add(range.segments)
        }
    }
    var spilled: [LiveRange] = []
    // The ranges as allocated: a joined range that found no register is allocated again as the
    // ranges of its Temps.
    var allocated: [LiveRange] = []
    func allocate(_ range: LiveRange) -> Bool {
        let allowed = range.crossesCall ? callPreserved : callClobbered + callPreserved
        let preference = range.temps.compactMap { hints[$0] } + allowed
        func isFree(_ r: Register) -> Bool {
            allowed.contains(r) && !range.forbidden.contains(r) && !range.overlaps(occupied[r] ?? [])
        }
        let unwanted = preference.first { r in
            isFree(r) && !(wanted[r]?.crossesAny(range.segments) ?? false)
        }
        guard let register = unwanted ?? preference.first(where: isFree) else { return false }
        for t in range.temps { locations[t.index] = .register(register) }
        occupied[register, default: []].insertSegments(range.segments)
        allocated.append(range)
        return true
    }
    for (index, range) in ranges.enumerated() {
        for hint in hintedRegisters[index] { wanted[hint]?.add(range.segments, count: -1) }
        if allocate(range) { continue }
        // Joined, the Temps would all be spilled, each read and written through memory. A short
        // one among them (a value sign-extended and added right away, joined with the long-lived
        // load it extends) may still find a register on its own, and only the rest stay in memory.
        guard range.temps.count > 1 else {
            spilled.append(range)
            allocated.append(range)
            continue
        }
        let parts = range.temps.compactMap { unjoined[$0.index] }.map { ($0, $0.spillWeight) }.sorted {
            ($0.1, $1.0.start) > ($1.1, $0.0.start)
        }.map(\.0)
        for part in parts where !allocate(part) {
            spilled.append(part)
            allocated.append(part)
        }
    }

    var r0 = R0Placement(accesses)
    spilled = spilled.filter { range in
        // A value rematerialized at no more than its definitions cost gains nothing from r0.
        range.spillCost == 0 || !r0.place(range, &locations)
    }

    // Spill slots, shared by spilled ranges that do not overlap.
    var slots: [[ClosedRange<Int>]] = []
    for range in spilled.sorted(by: { $0.start < $1.start }) {
        if let value = range.rematerialization, range.isRematerialized {
            for t in range.temps { locations[t.index] = .rematerialized(value) }
            continue
        }
        let slot: Int
        if let reusable = slots.firstIndex(where: { !range.overlaps($0) }) {
            slot = reusable
            slots[slot].insertSegments(range.segments)
        } else {
            slot = slots.count
            slots.append(range.segments)
        }
        for t in range.temps { locations[t.index] = .spill(slot) }
    }
    let (resident, reloads) = residentRegisters(function, order: order, locations: locations, occupied: &occupied,
                                     asmPositions: asmSites.map(\.position))
    let results = Set(accesses.compactMap { $0.returned ?? $0.callResult })
    for range in allocated where range.temps.contains(where: results.contains) {
        guard case .register? = locations[range.temps[0].index] else { continue }
        _ = r0.place(range, &locations)
    }

    return RegisterAssignment(locations: locations, spillSlotCount: slots.count,
                              liveAtEntry: liveness.liveIn[entry].elements, unreadResults: unread,
                              asmRegisters: asmOperandRegisters(asmSites, allocated, locations),
                              residentRegisters: resident, reloads: reloads)
}

/// The value each Temp can be rematerialized as, indexed by Temp: one whose every definition
/// computes that same value from no register and no memory. A parameter or a Temp read before it
/// is written on some path holds something else there.
private func rematerializations(_ function: Function, liveAtEntry: [Temp]) -> [Rematerialization?] {
    var values = [Rematerialization?](repeating: nil, count: function.tempCount)
    var excluded = Set(function.parameters + liveAtEntry)
    for block in function.blocks {
        for instruction in block.instructions {
            let value: Rematerialization?
            switch instruction.operation {
            case .copy(_, .constant(let c)): value = .constant(c)
            case .symbolAddress(_, let symbol, let offset): value = .symbolAddress(symbol, offset: offset)
            case .slotAddress(_, let slot, let offset): value = .slotAddress(slot, offset: offset)
            case .copy, .binary, .negate, .signExtend, .zeroExtend, .byteSwap, .load, .store, .copyMemory,
                 .setMemory, .call, .addrSpaceCast, .setCondition, .atomic, .compareExchange, .inlineAsm, .coreValue:
                value = nil
            }
            for d in instruction.operation.definedTemps where !excluded.contains(d) {
                if let value, values[d.index] == nil || values[d.index] == value {
                    values[d.index] = value
                } else {
                    values[d.index] = nil
                    excluded.insert(d)
                }
            }
        }
    }
    return values
}

/// Registers for spilled Temps between a write and the reads that follow it in the same block
/// (through further writes that read the value too, `x = x + 1`), where one of r1-r4 and r6-r9 is
/// free all along (r6-r9 across a call): the value is still stored to its slot at each write, for
/// the reads beyond. The same from a read of a spilled Temp, or of a rematerialized global's
/// address, to the reads after it: the first loads it (or computes it) into the register, the
/// others find it there. When no register is free up to the last of those reads, up to an earlier
/// one. Of the registers that reach as far, the one the write computes from, which the written
/// value then takes with no move; a write that keeps no register up to its reads still takes that
/// one for the instant it is written, when free. Inline asm picks registers for its spilled
/// operands from what is free at it, so none of these spans one.
private func residentRegisters(_ function: Function, order: [BlockID], locations: [Location?],
                               occupied: inout [Register: [ClosedRange<Int>]], asmPositions: [Int])
    -> (resident: [InstructionSite: [Temp: Register]], reloads: [InstructionSite: [Temp: Register]])
{
    func isSpilled(_ t: Temp) -> Bool {
        if case .spill? = locations[t.index] { return true }
        return false
    }
    // A constant is an immediate where it is read, a slot's address an offset from r10.
    func isReloaded(_ t: Temp) -> Bool {
        switch locations[t.index] {
        case .spill?, .rematerialized(.symbolAddress)?: return true
        case .rematerialized(.constant)?, .rematerialized(.slotAddress)?, .register?, nil: return false
        }
    }
    var result: [InstructionSite: [Temp: Register]] = [:]
    var reloads: [InstructionSite: [Temp: Register]] = [:]
    // A value written (or loaded) at `start`, and the sites (the writing or loading one first)
    // and positions of its reads.
    struct Span {
        var start: Int
        var sites: [InstructionSite]
        var reads: [Int] = []
        var isLoaded = false
        /// For a write computed from a Temp in a register (`d = a op b`, selected `d = a; d op= b`):
        /// that register, where the value is computed with no move when `a` is not read after.
        var source: Register?
    }
    var calls: [Int] = []
    var spans: [(Temp, Span)] = []
    // Reads that only move the value into another register (a copy, a call's argument, a returned
    // value): loaded there straight from the slot, they gain nothing from a register holding it.
    struct Read: Hashable {
        var temp: Temp
        var position: Int
    }
    var moves: Set<Read> = []
    var blockStart = 0
    for id in order {
        let block = function.blocks[id.index]
        var open: [Temp: Span] = [:]
        for index in 0...block.instructions.count {
            let position = blockStart + 2 * index
            let site = InstructionSite(block: id, index: index)
            let operation = index < block.instructions.count ? block.instructions[index].operation : nil
            let used = operation?.usedTemps ?? block.terminator.usedTemps
            switch operation {
            case .copy(_, .temp(let t))?: moves.insert(Read(temp: t, position: position))
            case .call(_, _, let arguments)?:
                for case .temp(let t) in arguments { moves.insert(Read(temp: t, position: position)) }
            case nil:
                if case .return(.temp(let t)) = block.terminator { moves.insert(Read(temp: t, position: position)) }
            case .copy?, .binary?, .negate?, .signExtend?, .zeroExtend?, .byteSwap?, .load?, .store?, .copyMemory?,
                 .setMemory?, .slotAddress?, .symbolAddress?, .addrSpaceCast?, .setCondition?, .atomic?,
                 .compareExchange?, .inlineAsm?, .coreValue?:
                break
            }
            var seen: Set<Temp> = []
            for t in used where isReloaded(t) && seen.insert(t).inserted {
                if open[t] != nil {
                    open[t]?.sites.append(site)
                    open[t]?.reads.append(position)
                } else if !(operation?.definedTemps.contains(t) ?? false) && !moves.contains(Read(temp: t, position: position)) {
                    // Loaded before the operation reads its operands.
                    open[t] = Span(start: position, sites: [site], isLoaded: true)
                }
            }
            if case .call? = operation { calls.append(position + 1) }
            for d in operation?.definedTemps ?? [] where isSpilled(d) {
                // A write that reads the value too keeps it in the same register: the span covers
                // its result, which ends up there, when it ends at it.
                if used.contains(d), var span = open[d] {
                    span.reads[span.reads.count - 1] = position + 1
                    open[d] = span
                    continue
                }
                if let span = open.removeValue(forKey: d) { spans.append((d, span)) }
                // One that reads it from the slot reads it where the register does not hold it yet.
                if !used.contains(d) {
                    var span = Span(start: position + 1, sites: [site])
                    if case .temp(let a)? = operation?.tiedSource, case .register(let r)? = locations[a.index] {
                        span.source = r
                    }
                    open[d] = span
                }
            }
        }
        spans += open.sorted { $0.key.index < $1.key.index }.map { ($0.key, $0.value) }
        blockStart += 2 * block.instructions.count + 2
    }
    func isAllowed(_ register: Register, _ segment: ClosedRange<Int>) -> Bool {
        let crossesCall = calls.contains { segment.lowerBound < $0 && $0 < segment.upperBound }
        return (crossesCall ? callPreserved : callClobbered + callPreserved).contains(register)
            && !asmPositions.contains { segment.contains($0) || segment.contains($0 + 1) }
    }
    // Each round, every span first gets a register up to its first read, those whose first read
    // comes first first, so that as many as can get one; then each grows in its register up to
    // later reads while that stays free. The reads beyond (after a call, where no register kept
    // across it was free, or where another span took the register) are a span of their own in
    // the next round, from the first of them, which loads the value again (from the instruction's
    // read position, even where it writes the value too).
    // The reads of `span` from its `first`-th on, as a span that loads the value at the first of
    // them that is no move, when a read follows that one.
    func rest(_ t: Temp, _ span: Span, from first: Int) -> (Temp, Span)? {
        guard let load = (first..<span.reads.count).first(where: { !moves.contains(Read(temp: t, position: span.reads[$0] & ~1)) }),
              load + 1 < span.reads.count else { return nil }
        return (t, Span(start: span.reads[load] & ~1, sites: Array(span.sites[(load + 1)...]),
                        reads: Array(span.reads[(load + 1)...]), isLoaded: true))
    }
    var pending = spans.filter { !$0.1.reads.isEmpty }
    // A write whose reads find no register up to them (or that has none in its block) is still
    // computed in its source's register when that is free for the instant it is written: the
    // source is not read after (else it would occupy it).
    var bareWrites = spans.filter { $0.1.reads.isEmpty && $0.1.source != nil }
    while !pending.isEmpty {
        var granted: [(t: Temp, span: Span, register: Register)] = []
        var next: [(Temp, Span)] = []
        for (t, span) in pending.sorted(by: { ($0.1.reads[0], $0.0.index) < ($1.1.reads[0], $1.0.index) }) {
            // Of the registers free up to the first read, the one free up to the most reads.
            func reach(_ r: Register) -> Int {
                span.reads.prefix { read in
                    let segment = span.start...read
                    return isAllowed(r, segment) && !(occupied[r] ?? []).overlapsSegments([segment])
                }.count
            }
            // The source's register first, so that it wins a tie.
            let candidates = (span.source.map { [$0] } ?? []) + (callClobbered + callPreserved).filter { $0 != span.source }
            let (register, reads) = candidates.map { ($0, reach($0)) }.max { $0.1 < $1.1 } ?? (.r1, 0)
            if reads > 0 {
                occupied[register, default: []].insertSegments([span.start...span.reads[0]])
                granted.append((t, span, register))
            } else {
                if span.source != nil { bareWrites.append((t, span)) }
                if let rest = rest(t, span, from: 0) { next.append(rest) }
            }
        }
        for (t, span, register) in granted {
            var kept = 1
            while kept < span.reads.count {
                let growth = span.reads[kept - 1] + 1...span.reads[kept]
                guard isAllowed(register, span.start...span.reads[kept]),
                      !(occupied[register] ?? []).overlapsSegments([growth]) else { break }
                occupied[register, default: []].insertSegments([growth])
                kept += 1
            }
            // The writing or loading site, and the reads up to the last one kept.
            for site in span.sites.prefix(kept + 1) { result[site, default: [:]][t] = register }
            if span.isLoaded { reloads[span.sites[0], default: [:]][t] = register }
            if let rest = rest(t, span, from: kept) { next.append(rest) }
        }
        pending = next
    }
    for (t, span) in bareWrites {
        guard let register = span.source, isAllowed(register, span.start...span.start),
              !(occupied[register] ?? []).overlapsSegments([span.start...span.start]) else { continue }
        occupied[register, default: []].insertSegments([span.start...span.start])
        result[span.sites[0], default: [:]][t] = register
    }
    return (result, reloads)
}

/// The register of each operand of each inline asm: a Temp's own register, or for a spilled Temp
/// or a constant one that no range occupies where the asm reads and writes its operands, that
/// the asm does not clobber, and that no other operand of it uses.
private func asmOperandRegisters(_ sites: [AsmSite], _ ranges: [LiveRange], _ locations: [Location?])
    -> [InstructionSite: [Register?]]
{
    var result: [InstructionSite: [Register?]] = [:]
    for site in sites {
        let span = site.position...site.position + 1
        var taken = Set(site.asm.clobberedRegisters)
        for range in ranges where range.segments.contains(where: { $0.overlaps(span) }) {
            if let t = range.temps.first, case .register(let r)? = locations[t.index] { taken.insert(r) }
        }
        func own(_ t: Temp) -> Register? {
            if case .register(let r)? = locations[t.index] { return r }
            return nil
        }
        var registers: [Register?] = site.asm.operands.map { operand in
            switch operand {
            case .input(.temp(let t)), .registerOrImmediate(.temp(let t)), .output(let t, _), .inputOutput(let t, _):
                return own(t)
            case .input(.constant), .registerOrImmediate(.constant), .tied, .immediate: return nil
            }
        }
        taken.formUnion(registers.compactMap { $0 })
        for (i, operand) in site.asm.operands.enumerated() where registers[i] == nil && operand.immediate == nil {
            switch operand {
            case .input, .registerOrImmediate, .output, .inputOutput:
                let free = (0...9).map { Register(rawValue: UInt8($0)) }.first { !taken.contains($0) }
                registers[i] = free
                if let free { taken.insert(free) }
            case .tied, .immediate:
                break
            }
        }
        result[site.site] = registers
    }
    return result
}

/// Joins the live ranges of Temps copied into one another whenever they hold the same value
/// wherever both are live (they need not be apart: `y = x` with both read afterwards), so that
/// the copy becomes a move from a register to itself, which instruction selection leaves out.
/// The copies inside the deepest loops are joined first.
private func coalesce(_ ranges: [LiveRange?], _ function: Function) -> [LiveRange] {
    var ranges = ranges
    // Which range each Temp's range has been joined into (union-find, with path halving).
    var leader = Array(0..<function.tempCount)
    func find(_ t: Int) -> Int {
        var t = t
        while leader[t] != t {
            leader[t] = leader[leader[t]]
            t = leader[t]
        }
        return t
    }
    let depth = loopDepths(function)
    var copies: [(depth: Int, destination: Temp, source: Temp)] = []
    for block in function.blocks {
        for instruction in block.instructions {
            if case .temp(let s)? = instruction.operation.tiedSource, let d = instruction.operation.definedTemps.first {
                copies.append((depth[block.id.index], d, s))
            }
        }
    }
    for copy in copies.sorted(by: { $0.depth > $1.depth }) {
        let (d, s) = (find(copy.destination.index), find(copy.source.index))
        guard d != s, var destination = ranges[d], var source = ranges[s],
              !destination.interferes(with: source, leader: { find($0.index) }) else { continue }
        // Both taken out of the array, so that neither list is shared (growing it would copy it),
        // and the shorter list goes into the longer: a range that keeps being joined into new
        // short ones (a local copied into a temporary in each of thousands of blocks) is not
        // rebuilt each time.
        ranges[d] = nil
        ranges[s] = nil
        if source.segments.count > destination.segments.count { swap(&source.segments, &destination.segments) }
        destination.join(source)
        ranges[d] = destination
        leader[s] = d
    }
    return ranges.compactMap { $0 }
}

/// Moves copies of a Temp's old value above the instruction that computes its new one from it:
/// `n = i - 1; old = i; i = n` (C's `i--` as a value) becomes `old = i; n = i - 1; i = n`, so that
/// `i` is read last by the subtraction, which then computes in its register (`d = a op b` is
/// selected `d = a; d op= b`), and only the copy into `old` is a move. Done where the copies are
/// the only reads of the old value before the block writes the Temp again, within a few
/// instructions (so that a long block is not searched from each of its instructions), and where
/// neither the copies' destinations nor the Temp are otherwise touched before them.
func hoistCopiesOfTiedSources(_ function: inout Function) {
    let reach = 8
    for b in function.blocks.indices {
        var instructions = function.blocks[b].instructions
        var k = 0
        while k < instructions.count {
            defer { k += 1 }
            let tied = instructions[k].operation
            guard case .temp(let a)? = tied.tiedSource, let d = tied.definedTemps.first, d != a else { continue }
            // Copies of a after k, up to the instruction that writes a again.
            var copies: [Int] = []
            var touched = Set(tied.usedTemps + tied.definedTemps)
            var rewritten = false
            for i in k + 1..<min(k + 1 + reach, instructions.count) {
                let operation = instructions[i].operation
                if case .copy(let x, .temp(a)) = operation, x != a, !touched.contains(x) {
                    copies.append(i)
                    touched.insert(x)
                    continue
                }
                if operation.usedTemps.contains(a) { break }
                if operation.definedTemps.contains(a) {
                    rewritten = true
                    break
                }
                touched.formUnion(operation.usedTemps + operation.definedTemps)
            }
            guard rewritten, let last = copies.last else { continue }
            // Only the few instructions from k to the last copy change places.
            let stay = (k...last).filter { !copies.contains($0) }.map { instructions[$0] }
            instructions.replaceSubrange(k...last, with: copies.map { instructions[$0] } + stay)
            k += copies.count
        }
        function.blocks[b].instructions = instructions
    }
}

/// Registers a Temp would like, to save moves: a parameter the register it arrives in, a call
/// argument the register it is passed in (r1-r4 only; r5 is scratch).
private func registerHints(_ function: Function) -> [Temp: Register] {
    var hints: [Temp: Register] = [:]
    for (i, parameter) in function.parameters.enumerated() where i < callClobbered.count {
        hints[parameter] = callClobbered[i]
    }
    for block in function.blocks {
        for instruction in block.instructions {
            guard case .call(_, _, let arguments) = instruction.operation else { continue }
            for (i, argument) in arguments.enumerated() where i < callClobbered.count {
                if case .temp(let t) = argument, hints[t] == nil { hints[t] = callClobbered[i] }
            }
        }
    }
    return hints
}
