import BPFIR

/// Forward propagation inside one block, for every Temp (also those assigned several times):
/// after `t = 5`, reads of t up to its next assignment read 5; after `t = u`, they read u until
/// either changes. An arithmetic result computed again from the same operands, none assigned
/// since, is a copy of the Temp that still holds it (local common subexpression elimination:
/// `i * 12` once for each of a row's elements). A Temp stepped by constants from another
/// (`p = &table[7]`, then `p -= 4` in each unrolled copy of a loop) is read as that other Temp
/// plus the sum of the steps: each access through it takes the offset in the instruction, and
/// each step that overwrites it computes from the base, so the steps no longer chain and most go
/// dead. A call of one of the `pure` functions with the same arguments is a computation too.
func propagateWithinBlock(_ block: inout Block, pure: PureFunctions = PureFunctions()) -> Bool {
    var known: [Temp: Value] = [:]
    /// Which Temp already holds the address of a global (`symbol+offset`, the same ld_imm64
    /// again is a copy) or of a stack slot.
    var addresses: [String: Temp] = [:]
    func key(_ operation: Operation) -> (destination: Temp, key: String)? {
        switch operation {
        case .symbolAddress(let d, let symbol, let offset): return (d, "\(symbol)+\(offset)")
        case .slotAddress(let d, let slot, let offset): return (d, "\(slot)+\(offset)")
        default: return nil
        }
    }
    // What a Temp's assignment makes stale, so that it is found without a walk over everything
    // known (in a block of thousands of instructions): the Temps known as copies of it, the
    // addresses it holds. Entries that went stale otherwise are checked when used.
    var copiesOf: [Temp: [Temp]] = [:]
    var addressesIn: [Temp: [String]] = [:]
    /// Pure computations by what they compute (the destination left out), and the Temp holding
    /// each; with the keys each Temp is an operand or the holder of.
    var computed: [Operation: Temp] = [:]
    var keysOf: [Temp: [Operation]] = [:]
    /// Temps known as another Temp plus a constant, in 64 bits; with the Temps known so from each.
    var steps: [Temp: (base: Temp, offset: Int64)] = [:]
    var stepsFrom: [Temp: [Temp]] = [:]
    var changed = false
    func value(_ v: Value) -> Value {
        if case .temp(let t) = v, let k = known[t] { return k }
        return v
    }
    func address(_ a: Address) -> Address {
        guard case .temp(var t, var offset) = a else { return a }
        if case .temp(let u)? = known[t] { t = u }
        if let (base, k) = steps[t], let total = Int16(exactly: k &+ Int64(offset)) {
            (t, offset) = (base, Int(total))
        }
        return .temp(t, offset: offset)
    }
    /// `d = a + c` (or `- c`) as a step from a's base, if a has one.
    func step(_ operation: Operation) -> (destination: Temp, base: Temp, offset: Int64)? {
        guard case .binary(let d, let op, .bits64, .temp(let a), .constant(let c)) = operation,
              op == .add || (op == .sub && c != .min) else { return nil }
        let delta = op == .add ? c : -c
        guard let (base, k) = steps[a] else { return (d, a, delta) }
        return (d, base, k &+ delta)
    }
    for i in block.instructions.indices {
        let original = block.instructions[i].operation
        var operation = original.mapped(defined: { $0 }, value: value, address: address)
        operation = fold(operation, zeroExtendedBits: { _ in nil }, signExtendedBits: { _ in nil },
                         signExtensionSource: { _ in nil })
        if let (d, address) = key(operation), let holder = addresses[address], holder != d {
            operation = .copy(d, .temp(holder))
        }
        if let (d, what) = pureComputation(operation, pure: pure), let holder = computed[what], holder != d {
            operation = .copy(d, .temp(holder))
        }
        // Only a step that overwrites what it steps from computes from the base instead: else
        // both the base and the stepped value would stay live.
        let stepped = step(operation)
        if let (d, base, offset) = stepped, operation.usedTemps == [d], let immediate = Int32(exactly: offset) {
            operation = offset == 0 ? .copy(d, .temp(base)) : .binary(d, .add, .bits64, .temp(base), .constant(Int64(immediate)))
        }
        if operation != original {
            block.instructions[i].operation = operation
            changed = true
        }
        for defined in operation.definedTemps {
            known[defined] = nil
            for t in copiesOf.removeValue(forKey: defined) ?? [] where known[t] == .temp(defined) { known[t] = nil }
            for key in addressesIn.removeValue(forKey: defined) ?? [] where addresses[key] == defined {
                addresses[key] = nil
            }
            if case .copy(let d, let v) = operation, v != .temp(d) {
                known[d] = v
                if case .temp(let source) = v { copiesOf[source, default: []].append(d) }
            }
            if let (d, address) = key(operation) {
                addresses[address] = d
                addressesIn[d, default: []].append(address)
            }
            for what in keysOf.removeValue(forKey: defined) ?? [] { computed[what] = nil }
            steps[defined] = nil
            for t in stepsFrom.removeValue(forKey: defined) ?? [] where steps[t]?.base == defined { steps[t] = nil }
        }
        if let (d, base, offset) = stepped, d != base, Int32(exactly: offset) != nil {
            steps[d] = (base, offset)
            stepsFrom[base, default: []].append(d)
        }
        // Remembered as computed here, unless it reads its own destination (`i = i * 2`).
        if let (d, what) = pureComputation(operation, pure: pure), !what.usedTemps.contains(d) {
            computed[what] = d
            for t in what.usedTemps + [d] { keysOf[t, default: []].append(what) }
        }
    }
    let terminator = foldTerminator(block.terminator.mapped(value: value))
    if terminator != block.terminator {
        block.terminator = terminator
        changed = true
    }
    return changed
}

/// What a pure arithmetic operation, or a call of one of the `pure` functions, computes, its
/// destination replaced by a placeholder, so that two computing the same from the same operands
/// have the same key; nil for anything else.
func pureComputation(_ operation: Operation, pure: PureFunctions) -> (destination: Temp, key: Operation)? {
    let placeholder = Temp(-1)
    switch operation {
    case .binary(let d, let op, let width, let a, let b):
        switch op {
        case .udiv, .umod, .sdiv, .smod:
            // A division by zero is defined on BPF, but keep those as written.
            return nil
        case .add, .sub, .mul, .and, .or, .xor, .shl, .lshr, .ashr:
            return (d, .binary(placeholder, op, width, a, b))
        }
    case .negate(let d, let width, let a): return (d, .negate(placeholder, width, a))
    case .signExtend(let d, let a, let bits): return (d, .signExtend(placeholder, a, fromBits: bits))
    case .zeroExtend(let d, let a, let bits): return (d, .zeroExtend(placeholder, a, fromBits: bits))
    case .byteSwap(let d, let a, let bits): return (d, .byteSwap(placeholder, a, bits: bits))
    case .setCondition(let d, let condition, let width, let a, let b):
        return (d, .setCondition(placeholder, condition, width, a, b))
    case .call(let d?, let callee, let arguments) where pure.isPureCall(operation):
        return (d, .call(placeholder, callee, arguments))
    case .copy, .load, .store, .copyMemory, .setMemory, .slotAddress, .symbolAddress, .call, .addrSpaceCast,
         .atomic, .compareExchange, .inlineAsm, .coreValue:
        return nil
    }
}
