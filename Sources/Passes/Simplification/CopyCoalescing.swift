import BPFIR

/// `t = a op b; x = t` becomes `x = a op b`: a C assignment of an expression, without the
/// temporary. Where t is read again near the block's end (a loop's `i++` whose new value the loop
/// test reads), those reads take x, when neither is assigned again before them.
func coalesceCopies(_ function: inout Function) -> Bool {
    let reads = function.readCounts
    var changed = false
    for b in function.blocks.indices {
        var block = function.blocks[b]
        var i = 0
        while i + 1 < block.instructions.count {
            defer { i += 1 }
            guard case .copy(let x, .temp(let t)) = block.instructions[i + 1].operation, x != t,
                  block.instructions[i].operation.definedTemps == [t],
                  let retargeted = retarget(block.instructions[i].operation, to: x) else { continue }
            if reads[t.index] > 1 {
                // Later reads are looked for a few instructions on only, so that a block of
                // thousands of copies is not scanned to its end for each.
                let rest = block.instructions[(i + 2)...]
                guard rest.count <= 8,
                      rest.allSatisfy({ !$0.operation.definedTemps.contains(x) && !$0.operation.definedTemps.contains(t) })
                else { continue }
                let laterReads = rest.reduce(0) { $0 + $1.operation.usedTemps.filter { $0 == t }.count }
                    + block.terminator.usedTemps.filter { $0 == t }.count
                guard reads[t.index] == 1 + laterReads else { continue }
            }
            block.instructions[i].operation = retargeted
            block.instructions.remove(at: i + 1)
            let renamed = { (v: Value) -> Value in v == .temp(t) ? .temp(x) : v }
            for j in (i + 1)..<block.instructions.count {
                block.instructions[j].operation = block.instructions[j].operation.mapped(
                    defined: { $0 }, value: renamed,
                    address: { a in
                        if case .temp(t, let offset) = a { return .temp(x, offset: offset) }
                        return a
                    })
            }
            block.terminator = block.terminator.mapped(value: renamed, block: { $0 })
            changed = true
        }
        function.blocks[b] = block
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
