import BPFIR

/// Forward propagation inside one block, for every Temp (also those assigned several times):
/// after `t = 5`, reads of t up to its next assignment read 5; after `t = u`, they read u until
/// either changes. An arithmetic result computed again from the same operands, none assigned
/// since, is a copy of the Temp that still holds it (local common subexpression elimination:
/// `i * 12` once for each of a row's elements).
func propagateWithinBlock(_ block: inout Block) -> Bool {
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
        operation = fold(operation, zeroExtendedBits: { _ in nil }, signExtendedBits: { _ in nil },
                         signExtensionSource: { _ in nil })
        if let (d, address) = key(operation), let holder = addresses[address], holder != d {
            operation = .copy(d, .temp(holder))
        }
        if let (d, what) = pureComputation(operation), let holder = computed[what], holder != d {
            operation = .copy(d, .temp(holder))
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
        }
        // Remembered as computed here, unless it reads its own destination (`i = i * 2`).
        if let (d, what) = pureComputation(operation), !what.usedTemps.contains(d) {
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

/// What a pure arithmetic operation computes, its destination replaced by a placeholder, so that
/// two computing the same from the same operands have the same key; nil for anything else.
func pureComputation(_ operation: Operation) -> (destination: Temp, key: Operation)? {
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
    case .copy, .load, .store, .copyMemory, .setMemory, .slotAddress, .symbolAddress, .call, .addrSpaceCast,
         .setCondition, .atomic, .compareExchange, .inlineAsm, .coreValue:
        return nil
    }
}
