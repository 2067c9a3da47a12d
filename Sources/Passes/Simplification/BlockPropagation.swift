import BPFIR

/// Forward propagation inside one block, for every Temp (also those assigned several times):
/// after `t = 5`, reads of t up to its next assignment read 5; after `t = u`, they read u until
/// either changes.
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
        }
    }
    let terminator = foldTerminator(block.terminator.mapped(value: value))
    if terminator != block.terminator {
        block.terminator = terminator
        changed = true
    }
    return changed
}
