import BPFIR
import BPFInstructions

// Register allocation: linear scan over live intervals (Poletto & Sarkar, 1999).
//
// Instructions are numbered in layout order, two positions each: operands are read at the even
// position, the result is written at the odd one, so a Temp that dies in an instruction can hand
// its register to that instruction's result. A Temp's interval runs from the first to the last
// position where it is live (holes are ignored: the interval is the hull), taken from the block
// live-in/live-out sets and from its own reads and writes.
//
// Registers (BPF calling convention: r1-r5 arguments, r0 result, both clobbered by calls; r6-r9
// preserved; r10 the read-only frame pointer):
//   - r0 and r5 are never allocated: they are the scratch registers of instruction selection
//     (operands reloaded from spill slots, large constants, results bound for a spill slot).
//   - r1-r4 hold Temps whose interval contains no call; r6-r9 hold any Temp.
// When no register is free, the interval that ends last is spilled (the current one or an active
// one), as in the paper. A spilled Temp lives in an 8-byte stack slot for its whole life: the
// verifier keeps a pointer's type only across 8-byte spills. Spilled Temps whose intervals do not
// overlap share a slot.

/// Where a Temp lives for its whole lifetime.
enum Location: Equatable {
    case register(Register)
    /// An 8-byte spill slot, numbered from 0; the frame layout places it.
    case spill(Int)
}

/// The result of register allocation for one function.
struct RegisterAssignment {
    /// Indexed by Temp; nil for Temps that are never live.
    var locations: [Location?]
    var spillSlotCount: Int
    /// Temps live into the entry block: parameters and Temps read before written on some path.
    var liveAtEntry: [Temp]

    func location(of t: Temp) -> Location {
        guard let location = locations[t.index] else {
            preconditionFailure("\(t) is read or written but has no live interval")
        }
        return location
    }
}

/// The scratch registers of instruction selection, never given to a Temp.
enum Scratch {
    static let first = Register.r0
    static let second = Register.r5
}

private let callClobbered: [Register] = [.r1, .r2, .r3, .r4]
private let callPreserved: [Register] = [.r6, .r7, .r8, .r9]

private struct LiveInterval {
    var temp: Temp
    var start: Int
    var end: Int
    var crossesCall = false
}

/// Numbers the instructions of `order` and computes each Temp's live interval.
private func liveIntervals(_ function: Function, order: [BlockID], liveness: Liveness) -> [LiveInterval] {
    var start = [Int?](repeating: nil, count: function.tempCount)
    var end = [Int?](repeating: nil, count: function.tempCount)
    func extend(_ t: Temp, _ position: Int) {
        start[t.index] = min(start[t.index] ?? position, position)
        end[t.index] = max(end[t.index] ?? position, position)
    }
    var calls: [Int] = []
    var position = 0
    for id in order {
        let block = function.blocks[id.index]
        for t in liveness.liveIn[id.index].elements { extend(t, position) }
        for instruction in block.instructions {
            for t in instruction.operation.usedTemps { extend(t, position) }
            if let d = instruction.operation.definedTemp { extend(d, position + 1) }
            if case .call = instruction.operation { calls.append(position + 1) }
            position += 2
        }
        for t in block.terminator.usedTemps { extend(t, position) }
        for t in liveness.liveOut[id.index].elements { extend(t, position + 1) }
        position += 2
    }

    var intervals: [LiveInterval] = []
    for index in 0..<function.tempCount {
        guard let s = start[index], let e = end[index] else { continue }
        var interval = LiveInterval(temp: Temp(index), start: s, end: e)
        // The value must survive a call when the call's clobber point lies strictly inside.
        interval.crossesCall = calls.contains { s < $0 && $0 < e }
        intervals.append(interval)
    }
    return intervals
}

/// Assigns every live Temp a register or a spill slot.
func allocateRegisters(_ function: Function, order: [BlockID], liveness: Liveness) -> RegisterAssignment {
    let intervals = liveIntervals(function, order: order, liveness: liveness).sorted {
        ($0.start, $0.temp) < ($1.start, $1.temp)
    }
    let hints = registerHints(function)

    var locations = [Location?](repeating: nil, count: function.tempCount)
    var free = Set(callClobbered + callPreserved)
    var active: [(interval: LiveInterval, register: Register)] = []
    var spilled: [LiveInterval] = []

    for interval in intervals {
        active.removeAll { entry in
            guard entry.interval.end < interval.start else { return false }
            free.insert(entry.register)
            return true
        }
        let allowed = interval.crossesCall ? callPreserved : callClobbered + callPreserved
        let preference = (hints[interval.temp].map { [$0] } ?? []) + allowed
        if let register = preference.first(where: { free.contains($0) && allowed.contains($0) }) {
            free.remove(register)
            active.append((interval, register))
            locations[interval.temp.index] = .register(register)
            continue
        }
        // Spill whichever of the current interval and the active ones it could displace ends last.
        let victim = active.indices.filter { allowed.contains(active[$0].register) }
            .max { active[$0].interval.end < active[$1].interval.end }
        if let v = victim, active[v].interval.end > interval.end {
            let register = active[v].register
            spilled.append(active[v].interval)
            active.remove(at: v)
            active.append((interval, register))
            locations[interval.temp.index] = .register(register)
        } else {
            spilled.append(interval)
        }
    }

    // Spill slots, shared by spilled intervals that do not overlap.
    var slotEnds: [Int] = []
    for interval in spilled.sorted(by: { $0.start < $1.start }) {
        let slot: Int
        if let reusable = slotEnds.firstIndex(where: { $0 < interval.start }) {
            slot = reusable
            slotEnds[slot] = interval.end
        } else {
            slot = slotEnds.count
            slotEnds.append(interval.end)
        }
        locations[interval.temp.index] = .spill(slot)
    }

    let entry = function.blocks[0].id.index
    return RegisterAssignment(locations: locations, spillSlotCount: slotEnds.count,
                              liveAtEntry: liveness.liveIn[entry].elements)
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
