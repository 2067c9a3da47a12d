import BPFIR

// Liveness: which Temps hold a value that some later instruction may still read.
//
// Temps are not SSA (one C local is one Temp, assigned wherever C assigns it), so liveness is the
// classic backward dataflow over the CFG: live-in(B) = uses(B) ∪ (live-out(B) − defs(B)),
// live-out(B) = ∪ live-in(successors), iterated to a fixed point. A Temp live into the entry block
// is read before it is written on some path; the register allocator gives it a defined value.

/// A set of Temps of one function, as a bit vector.
struct TempSet: Equatable {
    private var words: [UInt64]

    init(capacity: Int) {
        words = Array(repeating: 0, count: (capacity + 63) / 64)
    }

    func contains(_ t: Temp) -> Bool {
        words[t.index / 64] & (1 << UInt64(t.index % 64)) != 0
    }

    mutating func insert(_ t: Temp) {
        words[t.index / 64] |= 1 << UInt64(t.index % 64)
    }

    mutating func formUnion(_ other: TempSet) {
        for i in words.indices { words[i] |= other.words[i] }
    }

    mutating func subtract(_ other: TempSet) {
        for i in words.indices { words[i] &= ~other.words[i] }
    }

    var elements: [Temp] {
        var result: [Temp] = []
        for (w, word) in words.enumerated() where word != 0 {
            for bit in 0..<64 where word & (1 << UInt64(bit)) != 0 {
                result.append(Temp(w * 64 + bit))
            }
        }
        return result
    }
}

extension Operation {
    /// The Temp this operation writes.
    var definedTemp: Temp? {
        switch self {
        case .copy(let d, _), .binary(let d, _, _, _, _), .negate(let d, _, _), .signExtend(let d, _, _),
             .zeroExtend(let d, _, _), .load(let d, _, _, _), .slotAddress(let d, _, _),
             .symbolAddress(let d, _, _), .addrSpaceCast(let d, _, _, _), .setCondition(let d, _, _, _, _):
            return d
        case .call(let d, _, _):
            return d
        case .store, .copyMemory, .setMemory:
            return nil
        }
    }

    /// The Temps this operation reads.
    var usedTemps: [Temp] {
        switch self {
        case .copy(_, let v), .negate(_, _, let v), .signExtend(_, let v, _), .zeroExtend(_, let v, _),
             .addrSpaceCast(_, let v, _, _):
            return temps(v)
        case .binary(_, _, _, let a, let b), .setCondition(_, _, _, let a, let b):
            return temps(a, b)
        case .load(_, let address, _, _):
            return address.baseTemp.map { [$0] } ?? []
        case .store(let address, let value, _, _):
            return (address.baseTemp.map { [$0] } ?? []) + temps(value)
        case .copyMemory(let destination, let source, _, _, _, _):
            return [destination.baseTemp, source.baseTemp].compactMap { $0 }
        case .setMemory(let address, _, _, _, _):
            return address.baseTemp.map { [$0] } ?? []
        case .slotAddress, .symbolAddress:
            return []
        case .call(_, _, let arguments):
            return arguments.flatMap { temps($0) }
        }
    }
}

extension Terminator {
    var usedTemps: [Temp] {
        switch self {
        case .branch(_, _, let a, let b, _, _): return temps(a, b)
        case .return(let v): return v.map { temps($0) } ?? []
        case .jump, .mayGoto: return []
        }
    }

    var successors: [BlockID] {
        switch self {
        case .jump(let b): return [b]
        case .branch(_, _, _, _, let then, let otherwise): return [then, otherwise]
        case .return: return []
        case .mayGoto(let bail, let next): return [bail, next]
        }
    }
}

extension Address {
    var baseTemp: Temp? {
        switch self {
        case .temp(let t, _): return t
        case .slot: return nil
        }
    }
}

private func temps(_ values: Value...) -> [Temp] {
    values.compactMap {
        switch $0 {
        case .temp(let t): return t
        case .constant: return nil
        }
    }
}

/// Live-in and live-out sets of every block, indexed by block number.
struct Liveness {
    var liveIn: [TempSet]
    var liveOut: [TempSet]

    init(_ function: Function) {
        let count = function.blocks.count
        let empty = TempSet(capacity: function.tempCount)
        var uses = Array(repeating: empty, count: count)
        var defs = Array(repeating: empty, count: count)
        for (b, block) in function.blocks.enumerated() {
            for instruction in block.instructions {
                for t in instruction.operation.usedTemps where !defs[b].contains(t) { uses[b].insert(t) }
                if let d = instruction.operation.definedTemp { defs[b].insert(d) }
            }
            for t in block.terminator.usedTemps where !defs[b].contains(t) { uses[b].insert(t) }
        }
        liveIn = uses
        liveOut = Array(repeating: empty, count: count)
        var changed = true
        while changed {
            changed = false
            for b in (0..<count).reversed() {
                var out = empty
                for s in function.blocks[b].terminator.successors { out.formUnion(liveIn[s.index]) }
                var inSet = out
                inSet.subtract(defs[b])
                inSet.formUnion(uses[b])
                if out != liveOut[b] || inSet != liveIn[b] {
                    liveOut[b] = out
                    liveIn[b] = inSet
                    changed = true
                }
            }
        }
    }
}
