import BPFIR

/// A 32-bit extension whose every reader looks only at the low 32 bits (a 32-bit compare or ALU
/// operation, a store of 4 bytes or fewer) is not needed: those readers can take the value that
/// was extended. At -mcpu=v3 that saves the `<<= 32; s>>= 32` pair after loading an `int` that is
/// only compared.
func removeUnneededExtensions(_ function: inout Function, _ onceAssigned: OnceAssigned) -> Bool {
    var sources: [Temp: Temp] = [:]
    for block in function.blocks {
        for instruction in block.instructions {
            switch instruction.operation {
            case .signExtend(let d, .temp(let s), 32), .zeroExtend(let d, .temp(let s), 32):
                if onceAssigned.definedAt[d] != nil && onceAssigned.isStable(s, copiedInto: d) { sources[d] = s }
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
            for value in readsOnlyLowHalf(instruction.operation) {
                if let t = reads(value), !onceAssigned.isAssigned(t, before: position) { rejected.insert(t) }
            }
            for t in readsInFull(instruction.operation).compactMap(reads) { rejected.insert(t) }
        }
        let end = (block: b, index: block.instructions.count)
        switch block.terminator {
        case .branch(_, .bits32, let x, let y, _, _):
            for t in [x, y].compactMap(reads) where !onceAssigned.isAssigned(t, before: end) { rejected.insert(t) }
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
