import BPFIR

// Simplification: constant and copy propagation, constant folding, redundant extension removal
// and dead code elimination, repeated until nothing changes.
//
// Requires: nothing (it runs right after inlining, on frontend IR).
// Guarantees: the same behaviour with fewer instructions. Loads, stores, calls and
// symbolAddress are never removed (a load may be volatile; the arena pass relies on an unused
// ld_imm64 of the arena map).
// Why: the frontend lowers each C expression on its own, so it leaves copies of constants,
// parameters copied by inlining, and extensions of values that are already extended (a byte
// load is already zero-extended). The facts used here hold for Temps assigned exactly once,
// which every expression temporary is; a C local assigned in several places is left alone.

/// Simplifies every function of the module.
public func simplify(_ module: inout Module) {
    for index in module.functions.indices {
        var function = module.functions[index]
        for _ in 0..<8 {
            guard simplifyOnce(&function) else { break }
        }
        module.functions[index] = function
    }
}

/// What is known about a Temp assigned once, wherever it is read.
private enum Fact {
    case constant(Int64)
    case copy(Temp)
    /// The upper bits are zero above this many low bits.
    case zeroExtended(bits: Int)
    /// The upper bits repeat bit `bits - 1`; `source` is the value that was extended, when it is
    /// a constant or assigned once (so it still holds that value wherever this Temp is read).
    case signExtended(bits: Int, source: Value?)
}

private func simplifyOnce(_ function: inout Function) -> Bool {
    var assignments = [Int](repeating: 0, count: function.tempCount)
    for parameter in function.parameters { assignments[parameter.index] += 1 }
    for block in function.blocks {
        for instruction in block.instructions {
            for temp in instruction.operation.definedTemps { assignments[temp.index] += 1 }
        }
    }
    let once = { (t: Temp) in assignments[t.index] == 1 }

    var facts: [Temp: Fact] = [:]
    /// Where each once-assigned Temp gets its value: (block, instruction), -1 for parameters.
    var definedAt: [Temp: (block: Int, index: Int)] = [:]
    for parameter in function.parameters where once(parameter) { definedAt[parameter] = (0, -1) }
    for (b, block) in function.blocks.enumerated() {
        for (i, instruction) in block.instructions.enumerated() {
            let defined = instruction.operation.definedTemps
            guard defined.count == 1, let temp = defined.first, once(temp) else { continue }
            definedAt[temp] = (b, i)
            if let fact = fact(of: instruction.operation, once: once) { facts[temp] = fact }
        }
    }
    let graph = ControlFlow(function)

    /// A once-assigned Temp holds its one value wherever its assignment dominates the read; where
    /// it does not, the read may see no value yet (C's uninitialized read), which must stay as is.
    func isAssigned(_ t: Temp, before position: (block: Int, index: Int)) -> Bool {
        guard let at = definedAt[t] else { return false }
        if at.block == position.block { return at.index < position.index }
        return graph.dominates(at.block, position.block)
    }
    /// A Temp copied from `u` still equals `u` where `u` is not computed anew in between: `u` is a
    /// parameter, or assigned in a block that runs at most once, before the copy.
    /// `d` was copied (or extended) from `u` after `u` got its value, so the two agree.
    func isStable(_ u: Temp, copiedInto d: Temp) -> Bool {
        guard let at = definedAt[u], let copiedAt = definedAt[d] else { return false }
        // Computed earlier in the copy's own block, `u` cannot be computed again before the copy
        // is: straight-line code runs both every time.
        let sameBlockEarlier = at.block == copiedAt.block && at.index < copiedAt.index
        return (at.index < 0 || !graph.inCycle.contains(at.block) || sameBlockEarlier) && isAssigned(u, before: copiedAt)
    }

    /// A value with known copies and constants substituted, for a read at `position`.
    func resolve(_ value: Value, at position: (block: Int, index: Int)) -> Value {
        var value = value
        var steps = 0
        while case .temp(let t) = value, steps < 64, let fact = facts[t], isAssigned(t, before: position) {
            steps += 1
            switch fact {
            case .constant(let c): value = .constant(c)
            case .copy(let u) where isStable(u, copiedInto: t): value = .temp(u)
            case .copy, .zeroExtended, .signExtended: return value
            }
        }
        return value
    }
    func zeroExtendedBits(_ value: Value) -> Int? {
        switch value {
        case .constant(let c): return c >= 0 ? 64 - c.leadingZeroBitCount : nil
        case .temp(let t):
            // Every value a once-assigned Temp ever holds has this shape, and so has "not yet" (0).
            if case .zeroExtended(let bits) = facts[t] { return bits }
            return nil
        }
    }
    func signExtendedBits(_ value: Value) -> Int? {
        switch value {
        case .constant(let c): return 65 - (c < 0 ? (~c).leadingZeroBitCount : c.leadingZeroBitCount)
        case .temp(let t):
            switch facts[t] {
            case .signExtended(let bits, _): return bits
            case .zeroExtended(let bits) where bits < 64: return bits + 1
            default: return nil
            }
        }
    }

    var changed = false
    for b in function.blocks.indices {
        var kept: [IRInstruction] = []
        for (i, instruction) in function.blocks[b].instructions.enumerated() {
            let position = (block: b, index: i)
            var rewritten = instruction
            rewritten.operation = instruction.operation.mapped(defined: { $0 }, value: { resolve($0, at: position) }, address: { address in
                if case .temp(let t, let offset) = address, case .temp(let u) = resolve(.temp(t), at: position) {
                    return .temp(u, offset: offset)
                }
                return address
            })
            // Look through a sign extension only to a source that still holds the extended value.
            let stableFacts = facts.filter { temp, fact in
                guard case .signExtended(_, .temp(let source)?) = fact else { return true }
                return isAssigned(temp, before: position) && isStable(source, copiedInto: temp)
            }
            rewritten.operation = fold(rewritten.operation, zeroExtendedBits: zeroExtendedBits,
                                       signExtendedBits: signExtendedBits, facts: stableFacts)
            if rewritten.operation != instruction.operation { changed = true }
            kept.append(rewritten)
        }
        function.blocks[b].instructions = kept
        let end = (block: b, index: kept.count)
        let terminator = foldTerminator(function.blocks[b].terminator.mapped(value: { resolve($0, at: end) }))
        if terminator != function.blocks[b].terminator {
            function.blocks[b].terminator = terminator
            changed = true
        }
    }
    if useLowHalvesDirectly(&function, isAssigned: isAssigned, isStable: isStable, definedAt: definedAt) {
        changed = true
    }
    for b in function.blocks.indices {
        if propagateWithinBlock(&function.blocks[b]) { changed = true }
    }
    if coalesceCopies(&function) { changed = true }
    if threadJumps(&function) { changed = true }
    if mergeReturns(&function) { changed = true }
    return removeDeadInstructions(&function) || changed
}

/// Returns of the same value share one block: an empty block that returns it, which the other
/// returns of that value jump to, so that each early `return 0;` of a C function does not repeat
/// `r0 = 0; exit` (clang's code shares it too).
private func mergeReturns(_ function: inout Function) -> Bool {
    var shared: [Value?: BlockID] = [:]
    for block in function.blocks where block.instructions.isEmpty {
        if case .return(let value) = block.terminator, shared[value] == nil { shared[value] = block.id }
    }
    var changed = false
    for b in function.blocks.indices {
        guard case .return(let value) = function.blocks[b].terminator, let target = shared[value],
              target != function.blocks[b].id else { continue }
        function.blocks[b].terminator = .jump(target)
        changed = true
    }
    if changed { function.blocks = removingUnreachableBlocks(function.blocks) }
    return changed
}

/// A jump into an empty block that only branches on a Temp whose value is known at the jump goes
/// straight to the side the branch would take. `can_loop` sets a flag to 1 before its may_goto
/// and to 0 on the bail-out edge, then tests it: both edges can skip the test.
///
/// What is known at the end of a block: its own assignments of constants, on top of what was
/// known at the end of its only predecessor.
private func threadJumps(_ function: inout Function) -> Bool {
    let count = function.blocks.count
    var predecessors = [[Int]](repeating: [], count: count)
    for (b, block) in function.blocks.enumerated() {
        for s in block.terminator.successors { predecessors[s.index].append(b) }
    }
    var known = [[Temp: Int64]?](repeating: nil, count: count)
    func constantsAtEnd(_ b: Int, depth: Int = 0) -> [Temp: Int64] {
        if let k = known[b] { return k }
        var values: [Temp: Int64] = [:]
        if predecessors[b].count == 1, b != 0, depth < 32 {
            values = constantsAtEnd(predecessors[b][0], depth: depth + 1)
        }
        for instruction in function.blocks[b].instructions {
            for defined in instruction.operation.definedTemps {
                if case .copy(_, .constant(let c)) = instruction.operation { values[defined] = c } else { values[defined] = nil }
            }
        }
        known[b] = values
        return values
    }
    var changed = false
    for b in function.blocks.indices {
        guard case .jump(let target) = function.blocks[b].terminator,
              function.blocks[target.index].instructions.isEmpty,
              case .branch(let condition, let width, let x, let y, let then, let otherwise) =
                function.blocks[target.index].terminator else { continue }
        let values = constantsAtEnd(b)
        func constant(_ v: Value) -> Int64? {
            switch v {
            case .constant(let c): return c
            case .temp(let t): return values[t]
            }
        }
        guard let a = constant(x), let c = constant(y) else { continue }
        function.blocks[b].terminator = .jump(condition.holds(width, a, c) ? then : otherwise)
        changed = true
    }
    if changed { function.blocks = removingUnreachableBlocks(function.blocks) }
    return changed
}

/// A 32-bit extension whose every reader looks only at the low 32 bits (a 32-bit compare or ALU
/// operation, a store of 4 bytes or fewer) is not needed: those readers can take the value that
/// was extended. At -mcpu=v3 that saves the `<<= 32; s>>= 32` pair after loading an `int` that is
/// only compared.
private func useLowHalvesDirectly(_ function: inout Function,
                                  isAssigned: (Temp, (block: Int, index: Int)) -> Bool,
                                  isStable: (Temp, Temp) -> Bool,
                                  definedAt: [Temp: (block: Int, index: Int)]) -> Bool {
    var sources: [Temp: Temp] = [:]
    for block in function.blocks {
        for instruction in block.instructions {
            switch instruction.operation {
            case .signExtend(let d, .temp(let s), 32), .zeroExtend(let d, .temp(let s), 32):
                if definedAt[d] != nil && isStable(s, d) { sources[d] = s }
            default:
                break
            }
        }
    }
    guard !sources.isEmpty else { return false }

    // Drop the candidates read anywhere in full, or where their extension may not have run yet.
    func reads(_ value: Value) -> Temp? {
        if case .temp(let t) = value, sources[t] != nil { return t }
        return nil
    }
    var rejected = Set<Temp>()
    for (b, block) in function.blocks.enumerated() {
        for (i, instruction) in block.instructions.enumerated() {
            let position = (block: b, index: i)
            var lowOnly: [Value] = []
            switch instruction.operation {
            case .binary(_, _, .bits32, let x, let y), .setCondition(_, _, .bits32, let x, let y):
                lowOnly = [x, y]
            case .negate(_, .bits32, let x):
                lowOnly = [x]
            case .store(_, let x, let size, _, _) where size.rawValue <= 4:
                lowOnly = [x]
            case .signExtend(_, let x, let bits) where bits <= 32, .zeroExtend(_, let x, let bits) where bits <= 32:
                lowOnly = [x]
            default:
                break
            }
            for value in lowOnly {
                if let t = reads(value), !isAssigned(t, position) { rejected.insert(t) }
            }
            // Every other read (an address base too, even of the same Temp) reads all 64 bits.
            var fullReads = instruction.operation.usedValues
            for value in lowOnly {
                if let i = fullReads.firstIndex(of: value) { fullReads.remove(at: i) }
            }
            for t in fullReads.compactMap(reads) { rejected.insert(t) }
        }
        let end = (block: b, index: block.instructions.count)
        switch block.terminator {
        case .branch(_, .bits32, let x, let y, _, _):
            for t in [x, y].compactMap(reads) where !isAssigned(t, end) { rejected.insert(t) }
        case .branch(_, .bits64, let x, let y, _, _):
            for t in [x, y].compactMap(reads) { rejected.insert(t) }
        case .return(let x?):
            if let t = reads(x) { rejected.insert(t) }
        case .return(nil), .jump, .mayGoto, .inlineAsmGoto:
            break
        }
    }
    for t in rejected { sources[t] = nil }
    guard !sources.isEmpty else { return false }

    func replace(_ value: Value) -> Value {
        if let t = reads(value), let s = sources[t] { return .temp(s) }
        return value
    }
    var changed = false
    for b in function.blocks.indices {
        for i in function.blocks[b].instructions.indices {
            let operation = function.blocks[b].instructions[i].operation
            let rewritten = operation.mapped(defined: { $0 }, value: replace, address: { $0 })
            if rewritten != operation {
                function.blocks[b].instructions[i].operation = rewritten
                changed = true
            }
        }
        if case .branch(let c, .bits32, let x, let y, let then, let otherwise) = function.blocks[b].terminator,
           replace(x) != x || replace(y) != y {
            function.blocks[b].terminator = .branch(c, .bits32, replace(x), replace(y), then: then, else: otherwise)
            changed = true
        }
    }
    return changed
}

/// Dominators and loops of a function's control-flow graph.
private struct ControlFlow {
    /// `dominators[b]`: the blocks every path from the entry to b passes through, b included.
    private var dominators: [Set<Int>]
    /// Blocks on some cycle: their instructions may run more than once.
    private(set) var inCycle: Set<Int> = []

    init(_ function: Function) {
        let count = function.blocks.count
        let successors = function.blocks.map { $0.terminator.successors.map(\.index) }
        var predecessors = [[Int]](repeating: [], count: count)
        for (b, next) in successors.enumerated() { for s in next { predecessors[s].append(b) } }
        let all = Set(0..<count)
        dominators = (0..<count).map { $0 == 0 ? [0] : all }
        var changed = true
        while changed {
            changed = false
            for b in 1..<max(1, count) {
                var meet = all
                for p in predecessors[b] { meet.formIntersection(dominators[p]) }
                if predecessors[b].isEmpty { meet = [] }
                meet.insert(b)
                if meet != dominators[b] {
                    dominators[b] = meet
                    changed = true
                }
            }
        }
        for start in 0..<count {
            var seen: Set<Int> = []
            var work = successors[start]
            while let b = work.popLast() {
                if b == start {
                    inCycle.insert(start)
                    break
                }
                if seen.insert(b).inserted { work += successors[b] }
            }
        }
    }

    func dominates(_ a: Int, _ b: Int) -> Bool { dominators[b].contains(a) }
}


/// Forward propagation inside one block, for every Temp (also those assigned several times):
/// after `t = 5`, reads of t up to its next assignment read 5; after `t = u`, they read u until
/// either changes.
private func propagateWithinBlock(_ block: inout Block) -> Bool {
    var known: [Temp: Value] = [:]
    /// Which Temp already holds the address of a global (`symbol+offset`): the same ld_imm64
    /// again is a copy.
    var addresses: [String: Temp] = [:]
    var changed = false
    func value(_ v: Value) -> Value {
        if case .temp(let t) = v, let k = known[t] { return k }
        return v
    }
    func address(_ a: Address) -> Address {
        if case .temp(let t, let offset) = a, case .temp(let u)? = known[t] { return .temp(u, offset: offset) }
        return a
    }
    for i in block.instructions.indices {
        let original = block.instructions[i].operation
        var operation = original.mapped(defined: { $0 }, value: value, address: address)
        operation = fold(operation, zeroExtendedBits: { _ in nil }, signExtendedBits: { _ in nil }, facts: [:])
        if case .symbolAddress(let d, let symbol, let offset) = operation,
           let holder = addresses["\(symbol)+\(offset)"], holder != d {
            operation = .copy(d, .temp(holder))
        }
        if operation != original {
            block.instructions[i].operation = operation
            changed = true
        }
        for defined in operation.definedTemps {
            known[defined] = nil
            for (t, v) in known where v == .temp(defined) { known[t] = nil }
            for (key, holder) in addresses where holder == defined { addresses[key] = nil }
            if case .copy(let d, let v) = operation, v != .temp(d) { known[d] = v }
            if case .symbolAddress(let d, let symbol, let offset) = operation { addresses["\(symbol)+\(offset)"] = d }
        }
    }
    let terminator = foldTerminator(block.terminator.mapped(value: value))
    if terminator != block.terminator {
        block.terminator = terminator
        changed = true
    }
    return changed
}

/// `t = a op b; x = t` with t read nowhere else becomes `x = a op b`: a C assignment of an
/// expression, without the temporary.
private func coalesceCopies(_ function: inout Function) -> Bool {
    var reads = [Int](repeating: 0, count: function.tempCount)
    for block in function.blocks {
        for instruction in block.instructions {
            for t in instruction.operation.usedTemps { reads[t.index] += 1 }
        }
        for t in block.terminator.usedTemps { reads[t.index] += 1 }
    }
    var changed = false
    for b in function.blocks.indices {
        var instructions = function.blocks[b].instructions
        var i = 0
        while i + 1 < instructions.count {
            if case .copy(let x, .temp(let t)) = instructions[i + 1].operation, reads[t.index] == 1,
               instructions[i].operation.definedTemps == [t],
               let retargeted = retarget(instructions[i].operation, to: x) {
                instructions[i].operation = retargeted
                instructions.remove(at: i + 1)
                changed = true
            }
            i += 1
        }
        function.blocks[b].instructions = instructions
    }
    return changed
}

/// The same operation writing `destination` instead of its own Temp; nil for calls and loads,
/// whose results code generation places itself.
private func retarget(_ operation: Operation, to destination: Temp) -> Operation? {
    switch operation {
    case .binary(_, let op, let w, let a, let b): return .binary(destination, op, w, a, b)
    case .negate(_, let w, let v): return .negate(destination, w, v)
    case .signExtend(_, let v, let bits): return .signExtend(destination, v, fromBits: bits)
    case .zeroExtend(_, let v, let bits): return .zeroExtend(destination, v, fromBits: bits)
    case .byteSwap(_, let v, let bits): return .byteSwap(destination, v, bits: bits)
    case .setCondition(_, let c, let w, let a, let b): return .setCondition(destination, c, w, a, b)
    case .copy, .load, .store, .copyMemory, .setMemory, .slotAddress, .symbolAddress, .call, .addrSpaceCast,
         .atomic, .compareExchange, .inlineAsm, .coreValue:
        return nil
    }
}

private func fact(of operation: Operation, once: (Temp) -> Bool) -> Fact? {
    switch operation {
    case .copy(_, .constant(let c)):
        return .constant(c)
    case .copy(let d, .temp(let u)) where once(u) && u != d:
        return .copy(u)
    case .load(_, _, let size, _, _):
        return size == .double ? nil : .zeroExtended(bits: size.rawValue * 8)
    case .zeroExtend(_, _, let bits):
        return .zeroExtended(bits: bits)
    case .byteSwap(_, _, let bits) where bits < 64:
        return .zeroExtended(bits: bits)
    case .signExtend(_, let value, let bits):
        if case .temp(let t) = value, !once(t) { return .signExtended(bits: bits, source: nil) }
        return .signExtended(bits: bits, source: value)
    case .setCondition:
        return .zeroExtended(bits: 1)
    case .binary(_, _, .bits32, _, _):
        return .zeroExtended(bits: 32)
    case .binary(_, .and, .bits64, _, .constant(let mask)) where mask >= 0:
        return .zeroExtended(bits: 64 - mask.leadingZeroBitCount)
    default:
        return nil
    }
}

/// Folds constant operations and drops extensions that change no bit.
private func fold(_ operation: Operation, zeroExtendedBits: (Value) -> Int?, signExtendedBits: (Value) -> Int?,
                  facts: [Temp: Fact]) -> Operation {
    switch operation {
    case .binary(let d, let op, let width, .constant(let a), .constant(let b)):
        if let folded = evaluate(op, width, a, b) { return .copy(d, .constant(folded)) }
    case .binary(let d, .add, _, let a, .constant(0)), .binary(let d, .sub, _, let a, .constant(0)),
         .binary(let d, .or, _, let a, .constant(0)), .binary(let d, .xor, _, let a, .constant(0)),
         .binary(let d, .shl, _, let a, .constant(0)), .binary(let d, .lshr, _, let a, .constant(0)),
         .binary(let d, .ashr, _, let a, .constant(0)), .binary(let d, .mul, .bits64, let a, .constant(1)):
        if case .bits32 = width(of: operation), (zeroExtendedBits(a) ?? 64) > 32 { break }
        return .copy(d, a)
    case .binary(let d, .and, .bits64, let a, .constant(let mask)):
        if let bits = zeroExtendedBits(a), bits < 64, mask & ((1 << Int64(bits)) - 1) == (1 << Int64(bits)) - 1 {
            return .copy(d, a)
        }
    case .zeroExtend(let d, let value, let bits):
        if case .constant(let c) = value { return .copy(d, .constant(c & ((1 << Int64(bits)) - 1))) }
        if let known = zeroExtendedBits(value), known <= bits { return .copy(d, value) }
        // Sign-extending from at least `bits` leaves the bits this keeps as they were.
        if case .temp(let t) = value, case .signExtended(let from, let source?) = facts[t], from >= bits {
            return .zeroExtend(d, source, fromBits: bits)
        }
    case .signExtend(let d, let value, let bits):
        if case .constant(let c) = value {
            let shift = Int64(64 - bits)
            return .copy(d, .constant((c << shift) >> shift))
        }
        if let known = signExtendedBits(value), known <= bits { return .copy(d, value) }
    case .byteSwap(let d, .constant(let c), let bits):
        return .copy(d, .constant(byteSwapped(c, bits: bits)))
    case .addrSpaceCast(let d, .constant(0), _, _):
        // NULL is NULL in both address spaces.
        return .copy(d, .constant(0))
    case .setCondition(let d, let condition, let width, .constant(let a), .constant(let b)):
        return .copy(d, .constant(condition.holds(width, a, b) ? 1 : 0))
    default:
        break
    }
    return operation
}

private func width(of operation: Operation) -> ALUWidth? {
    if case .binary(_, _, let width, _, _) = operation { return width }
    return nil
}

/// `a op b` as BPF computes it, or nil when folding would hide a division by zero.
private func evaluate(_ op: BinaryOperator, _ width: ALUWidth, _ a: Int64, _ b: Int64) -> Int64? {
    let is32 = width == .bits32
    let x = is32 ? Int64(UInt32(truncatingIfNeeded: a)) : a
    let y = is32 ? Int64(UInt32(truncatingIfNeeded: b)) : b
    let ux = UInt64(bitPattern: x), uy = UInt64(bitPattern: y)
    let shift = uy & (is32 ? 31 : 63)
    let result: Int64
    switch op {
    case .add: result = x &+ y
    case .sub: result = x &- y
    case .mul: result = x &* y
    case .and: result = x & y
    case .or: result = x | y
    case .xor: result = x ^ y
    case .shl: result = Int64(bitPattern: ux << shift)
    case .lshr: result = Int64(bitPattern: ux >> shift)
    case .ashr: result = is32 ? Int64(Int32(truncatingIfNeeded: x) >> Int32(shift)) : x >> Int64(shift)
    case .udiv, .umod, .sdiv, .smod:
        guard y != 0 else { return nil }
        if is32 {
            let sx = Int32(truncatingIfNeeded: x), sy = Int32(truncatingIfNeeded: y)
            switch op {
            case .udiv: result = Int64(UInt32(ux) / UInt32(uy))
            case .umod: result = Int64(UInt32(ux) % UInt32(uy))
            case .sdiv: result = Int64(sx.dividedReportingOverflow(by: sy).partialValue)
            default: result = Int64(sx.remainderReportingOverflow(dividingBy: sy).partialValue)
            }
        } else {
            switch op {
            case .udiv: result = Int64(bitPattern: ux / uy)
            case .umod: result = Int64(bitPattern: ux % uy)
            case .sdiv: result = x.dividedReportingOverflow(by: y).partialValue
            default: result = x.remainderReportingOverflow(dividingBy: y).partialValue
            }
        }
    }
    return is32 ? Int64(UInt32(truncatingIfNeeded: result)) : result
}




private func foldTerminator(_ terminator: Terminator) -> Terminator {
    if case .branch(let c, let w, .constant(let a), .constant(let b), let then, let otherwise) = terminator {
        return .jump(c.holds(w, a, b) ? then : otherwise)
    }
    return terminator
}

/// Removes side-effect-free instructions whose result nobody reads; true when any went.
private func removeDeadInstructions(_ function: inout Function) -> Bool {
    var removedAny = false
    while true {
        var used = Set<Temp>()
        for block in function.blocks {
            for instruction in block.instructions { used.formUnion(instruction.operation.usedTemps) }
            used.formUnion(block.terminator.usedTemps)
        }
        var removed = false
        for b in function.blocks.indices {
            function.blocks[b].instructions.removeAll { instruction in
                guard isPure(instruction.operation),
                      let d = instruction.operation.definedTemps.first, !used.contains(d) else { return false }
                removed = true
                return true
            }
        }
        if !removed { return removedAny }
        removedAny = true
    }
}

private func isPure(_ operation: Operation) -> Bool {
    switch operation {
    case .copy, .binary, .negate, .signExtend, .zeroExtend, .byteSwap, .slotAddress, .addrSpaceCast, .setCondition,
         .coreValue:
        return true
    case .load(_, _, _, _, let flags):
        // A BPF load cannot fault at run time (the verifier proves each one safe), so an unread one
        // may go, as LLVM drops it; a volatile or atomic one happens as written.
        return !flags.isVolatile && !flags.isOrdered
    case .store, .copyMemory, .setMemory, .symbolAddress, .call, .atomic, .compareExchange, .inlineAsm:
        return false
    }
}

