import BPFIR

// Liveness: which Temps hold a value that some later instruction may still read.
//
// Temps are not SSA (one C local is one Temp, assigned wherever C assigns it), so liveness is the
// classic backward dataflow over the CFG: live-in(B) = uses(B) ∪ (live-out(B) − defs(B)),
// live-out(B) = ∪ live-in(successors), to the least fixed point. A Temp live into the entry block
// is read before it is written on some path; the register allocator gives it a defined value.

/// A set of Temps of one function, as a bit vector.
struct TempSet {
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

    /// Adds the elements of `other` not in `excluded`; true when that added any.
    mutating func formUnion(_ other: TempSet, minus excluded: TempSet) -> Bool {
        var grew = false
        for i in words.indices {
            let added = other.words[i] & ~excluded.words[i] & ~words[i]
            if added != 0 {
                words[i] |= added
                grew = true
            }
        }
        return grew
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
                for d in instruction.operation.definedTemps { defs[b].insert(d) }
            }
            for t in block.terminator.usedTemps where !defs[b].contains(t) { uses[b].insert(t) }
        }
        liveIn = uses
        liveOut = Array(repeating: empty, count: count)
        var predecessors = [[Int]](repeating: [], count: count)
        for (b, block) in function.blocks.enumerated() {
            for s in Set(block.terminator.successors.map(\.index)) { predecessors[s].append(b) }
        }
        // A worklist of the blocks whose live-out may have grown, so that a block is visited
        // again only when a successor's live-in changed: in a function of thousands of blocks,
        // sweeping all of them until nothing changes costs a sweep per block a value flows through.
        var pending = [Bool](repeating: true, count: count)
        var work = Array(0..<count)
        while let b = work.popLast() {
            pending[b] = false
            for s in function.blocks[b].terminator.successors { liveOut[b].formUnion(liveIn[s.index]) }
            guard liveIn[b].formUnion(liveOut[b], minus: defs[b]) else { continue }
            for p in predecessors[b] where !pending[p] {
                pending[p] = true
                work.append(p)
            }
        }
    }
}
