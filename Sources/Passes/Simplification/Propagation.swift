import BPFIR

/// What is known about a Temp assigned once, wherever it is read.
private enum Fact {
    case constant(Int64)
    case copy(Temp)
    /// The upper bits are zero above this many low bits.
    case zeroExtended(bits: Int)
    /// The upper bits repeat bit `bits - 1`; `source` is the value that was extended, when it is
    /// a constant or assigned once (so it still holds that value wherever this Temp is read).
    case signExtended(bits: Int, source: Value?)
    /// `base + addend` in 64 bits, or in 32 (the upper bits then zero), `base` assigned once.
    case sum(base: Temp, addend: Int64, width: ALUWidth)
    /// The address of a stack slot plus an offset.
    case slotAddress(SlotID, offset: Int)
    /// The address of a global or function plus an offset.
    case symbolAddress(String, offset: Int)
    /// 0 or `1 << bit`: `flags & 0x100`.
    case oneBit(Int)
}

/// Substitutes constants and copies of once-assigned Temps where they hold, then folds each
/// instruction and terminator with what is known of its operands' upper bits and of what they
/// are offsets from. `nonNull` are the symbols whose address is never 0. With
/// `comparisonsWithoutBranches`, a comparison's value is computed without a branch where
/// ComparisonValues.swift can.
func propagateOnceAssigned(_ function: inout Function, _ onceAssigned: OnceAssigned, nonNull: Set<String>,
                           comparisonsWithoutBranches: Bool = false) -> Bool {
    var facts: [Temp: Fact] = [:]
    /// The Temps an extension assigns.
    var extensions: Set<Temp> = []
    for (temp, at) in onceAssigned.definedAt where at.index >= 0 {
        let operation = function.blocks[at.block].instructions[at.index].operation
        if let fact = fact(of: operation, once: onceAssigned.isOnce) {
            facts[temp] = fact
        }
        if case .signExtend = operation { extensions.insert(temp) }
        if case .zeroExtend = operation { extensions.insert(temp) }
    }
    /// A value with known copies and constants substituted, for a read at `position`.
    func resolve(_ value: Value, at position: ProgramPoint) -> Value {
        var value = value
        var steps = 0
        while case .temp(let t) = value, steps < 64, let fact = facts[t], onceAssigned.isAssigned(t, before: position) {
            steps += 1
            switch fact {
            case .constant(let c): value = .constant(c)
            case .copy(let u) where onceAssigned.isStable(u, copiedInto: t): value = .temp(u)
            case .copy, .zeroExtended, .signExtended, .sum, .slotAddress, .symbolAddress, .oneBit: return value
            }
        }
        return value
    }
    /// Temps assigned more than once whose every assignment fits in so many low bits; empty
    /// while it is being found from what is known of once-assigned Temps.
    var joined: [Temp: Int] = [:]
    func zeroExtendedBits(_ value: Value) -> Int? {
        switch value {
        case .constant(let c): return c >= 0 ? 64 - c.leadingZeroBitCount : nil
        case .temp(let t):
            if let bits = joined[t] { return bits }
            // Every value a once-assigned Temp ever holds has this shape, and so has "not yet" (0).
            switch facts[t] {
            case .zeroExtended(let bits): return bits
            case .oneBit(let bit): return bit + 1
            case .sum(_, _, .bits32): return 32
            default: return nil
            }
        }
    }
    func signExtendedBits(_ value: Value) -> Int? {
        switch value {
        case .constant(let c): return 65 - (c < 0 ? (~c).leadingZeroBitCount : c.leadingZeroBitCount)
        case .temp(let t):
            if let bits = joined[t], bits < 64 { return bits + 1 }
            switch facts[t] {
            case .signExtended(let bits, _): return bits
            case .zeroExtended(let bits) where bits < 64: return bits + 1
            case .oneBit(let bit) where bit < 63: return bit + 2
            case .sum(_, _, .bits32): return 33
            default: return nil
            }
        }
    }
    joined = joinedZeroExtendedBits(function, onceAssigned, bits: zeroExtendedBits)
    /// What a sign-extending Temp extends, for a read at `position`: only a source that still
    /// holds the extended value there.
    func signExtensionSource(_ t: Temp, at position: ProgramPoint) -> (bits: Int, source: Value)? {
        guard case .signExtended(let bits, let source?) = facts[t] else { return nil }
        if case .temp(let s) = source,
           !(onceAssigned.isAssigned(t, before: position) && onceAssigned.isStable(s, copiedInto: t)) {
            return nil
        }
        return (bits, source)
    }
    /// `value` as an offset from what it was computed from, for a read at `position`.
    func relative(_ value: Value, at position: ProgramPoint) -> Relative? {
        guard case .temp(let t) = value else { return nil }
        var base = t
        var offset: Int64 = 0
        for _ in 0..<64 {
            guard let fact = facts[base], onceAssigned.isAssigned(base, before: position) else { break }
            switch fact {
            case .slotAddress(let slot, let slotOffset): return (.slot(slot), offset &+ Int64(slotOffset))
            case .symbolAddress(let symbol, let symbolOffset): return (.symbol(symbol), offset &+ Int64(symbolOffset))
            case .sum(let x, let addend, .bits64) where onceAssigned.isStable(x, copiedInto: base):
                offset &+= addend
                base = x
            case .copy(let u) where onceAssigned.isStable(u, copiedInto: base):
                base = u
            case .constant, .copy, .zeroExtended, .signExtended, .sum, .oneBit:
                return (.temp(base), offset)
            }
        }
        return (.temp(base), offset)
    }
    func isNonNull(_ base: RelativeBase) -> Bool {
        switch base {
        case .slot: return true
        case .symbol(let symbol): return nonNull.contains(symbol)
        case .temp: return false
        }
    }

    let reads = function.readCounts
    /// Once-assigned Temps known as `(base & keep) | set` of a Temp still holding its value.
    var masked: [Temp: MaskedValue] = [:]
    /// Once-assigned Temps known as pieces of another value.
    var pieces: [Temp: ValuePiece] = [:]
    var changed = false
    for b in function.blocks.indices {
        var kept: [IRInstruction] = []
        for (i, instruction) in function.blocks[b].instructions.enumerated() {
            let position = (block: b, index: i)
            var rewritten = instruction
            rewritten.operation = instruction.operation.mapped(defined: { $0 }, value: { resolve($0, at: position) }, address: { address in
                guard case .temp(let t, let offset) = address, case .temp(let u) = resolve(.temp(t), at: position) else {
                    return address
                }
                // An access through a pointer to a slot is an access to the slot, from r10.
                if case .slotAddress(let slot, let base)? = facts[u], onceAssigned.isAssigned(u, before: position),
                   Int16(exactly: base + offset) != nil {
                    return .slot(slot, offset: base + offset)
                }
                // `[(x + c) + offset]` is `[x + (c + offset)]`: the instruction's offset takes the sum.
                if case .sum(let x, let c, .bits64)? = facts[u], onceAssigned.isAssigned(u, before: position),
                   onceAssigned.isStable(x, copiedInto: u), let total = Int16(exactly: c &+ Int64(offset)) {
                    return .temp(x, offset: Int(total))
                }
                return .temp(u, offset: offset)
            })
            rewritten.operation = fold(rewritten.operation, zeroExtendedBits: zeroExtendedBits, signExtendedBits: signExtendedBits,
                                       signExtensionSource: { signExtensionSource($0, at: position) })
            rewritten.operation = foldRelative(rewritten.operation, relative: { relative($0, at: position) },
                                               isNonNull: isNonNull)
            // A run of masks and sets with constants (bit-field stores into one word) composes into
            // one `and` and one `or` of the word it started from, where the run's steps are read
            // only by the next.
            if case .binary(let d, let op, let width, .temp(let t), .constant(let c)) = rewritten.operation,
               onceAssigned.isOnce(d), let own = MaskedValue(rewritten.operation) {
                var value = own
                if reads[t.index] == 1, let inner = masked[t], inner.width == width,
                   onceAssigned.isAssigned(t, before: position), onceAssigned.isStable(inner.base, copiedInto: d),
                   let composed = inner.then(op, c) {
                    value = composed
                    let computed = composed.operations(into: d, makeTemp: { function.makeTemp() })
                    if computed.count < composed.cost {
                        kept += computed.dropLast().map { IRInstruction($0, at: instruction.location) }
                        rewritten.operation = computed[computed.count - 1]
                        value.cost = computed.count
                    }
                }
                masked[d] = value
            }
            // Pieces of one value ored back together in place are that value (Reassembly.swift).
            if case let defined = rewritten.operation.definedTemps, defined.count == 1, case let d = defined[0], onceAssigned.isOnce(d) {
                func piece(_ t: Temp) -> ValuePiece? {
                    guard onceAssigned.isAssigned(t, before: position) else { return nil }
                    return pieces[t] ?? ValuePiece(whole: t, bits: zeroExtendedBits(.temp(t)) ?? 64)
                }
                if let assembled = ValuePiece(rewritten.operation, piece: piece) {
                    pieces[d] = assembled
                    if case .binary(_, .or, _, _, _) = rewritten.operation, onceAssigned.isStable(assembled.source, copiedInto: d),
                       let computed = assembled.reassembled(into: d, sourceBits: zeroExtendedBits(.temp(assembled.source)) ?? 64,
                                                            makeTemp: { function.makeTemp() }) {
                        kept += computed.dropLast().map { IRInstruction($0, at: instruction.location) }
                        rewritten.operation = computed[computed.count - 1]
                    }
                }
            }
            // `(x + c1) + c2` is `x + (c1 + c2)`, where x still holds what the inner sum added to;
            // in 32 bits too, where the sum wraps as the two adds do. Only where nothing else reads
            // the inner sum: otherwise x and it would both stay live.
            if case .binary(let d, let op, let width, .temp(let t), .constant(let c2)) = rewritten.operation,
               op == .add || op == .sub, reads[t.index] == 1, case .sum(let x, let c1, width)? = facts[t],
               onceAssigned.isAssigned(t, before: position), onceAssigned.isStable(x, copiedInto: t) {
                let sum = c1 &+ (op == .add ? c2 : 0 &- c2)
                let total = width == .bits32 ? Int64(Int32(truncatingIfNeeded: sum)) : Int32(exactly: sum).map(Int64.init)
                if let total { rewritten.operation = .binary(d, .add, width, .temp(x), .constant(total)) }
            }
            // An extension only the comparison reads would be needed for the arithmetic alone. A
            // Temp assigned in several places is mostly a join of constants, which join folding
            // and select folding turn into constants in the arms: arithmetic would hide them.
            func extendedFor(_ value: Value, bits: (Value) -> Int?) -> Int? {
                if case .temp(let t) = value, reads[t.index] == 1, extensions.contains(t) { return nil }
                if case .temp(let t) = value, joined[t] != nil { return nil }
                return bits(value)
            }
            if comparisonsWithoutBranches, let computed = comparisonWithoutBranch(rewritten.operation,
                                                      zeroExtendedBits: { extendedFor($0, bits: zeroExtendedBits) },
                                                      signExtendedBits: { extendedFor($0, bits: signExtendedBits) },
                                                      makeTemp: { function.makeTemp() },
                                                      oneBit: { t in
                                                          guard case .oneBit(let bit)? = facts[t],
                                                                onceAssigned.isAssigned(t, before: position) else { return nil }
                                                          return bit
                                                      }) {
                kept += computed.dropLast().map { IRInstruction($0, at: instruction.location) }
                rewritten.operation = computed[computed.count - 1]
            }
            if rewritten.operation != instruction.operation { changed = true }
            kept.append(rewritten)
        }
        function.blocks[b].instructions = kept
        let end = (block: b, index: kept.count)
        var terminator = foldTerminator(function.blocks[b].terminator.mapped(value: { resolve($0, at: end) }))
        terminator = foldRelative(terminator, relative: { relative($0, at: end) }, isNonNull: isNonNull)
        if case .branch(let condition, let width, let x, let y, let then, let otherwise) = terminator,
           let (source, c) = equalityOfExtended(condition, width, x, y, zeroExtendedBits: zeroExtendedBits,
                                                signExtensionSource: { signExtensionSource($0, at: end) }) {
            terminator = .branch(condition, width, source, c, then: then, else: otherwise)
        }
        if case .branch(let condition, .bits64, let x, let y, let then, let otherwise) = terminator,
           comparesInLowHalves(condition, x, y, zeroExtendedBits: zeroExtendedBits, signExtendedBits: signExtendedBits) {
            terminator = .branch(condition, .bits32, x, y, then: then, else: otherwise)
        }
        if terminator != function.blocks[b].terminator {
            function.blocks[b].terminator = terminator
            changed = true
        }
    }
    return changed
}

/// The low bits that every value of a Temp assigned more than once fits in (none of them a
/// parameter), where each of its assignments gives such a value: a `bool` that one arm of a join
/// sets to 0 and the other to a comparison, an `asm goto`'s result. `bits` tells of other values.
/// Each estimate rises from 0 (no value yet) to what its assignments give, until none changes.
private func joinedZeroExtendedBits(_ function: Function, _ onceAssigned: OnceAssigned,
                                    bits: (Value) -> Int?) -> [Temp: Int] {
    var definitions = function.assignments { !onceAssigned.isOnce($0) }
    for parameter in function.parameters { definitions[parameter] = nil }
    var estimates = definitions.mapValues { _ in 0 }
    func estimate(_ value: Value) -> Int? {
        if case .temp(let t) = value, definitions[t] != nil { return estimates[t] }
        return bits(value)
    }
    func valueBits(_ operation: Operation) -> Int? {
        switch operation {
        case .copy(_, let value):
            return estimate(value)
        case .binary(_, let op, let width, let a, let b) where op == .or || op == .xor:
            guard let x = estimate(a), let y = estimate(b) else { return width == .bits32 ? 32 : nil }
            return min(max(x, y), width == .bits32 ? 32 : 64)
        case .binary(_, .and, let width, let a, let b):
            switch (estimate(a), estimate(b)) {
            case (let x?, let y?): return min(x, y, width == .bits32 ? 32 : 64)
            case (let x?, nil), (nil, let x?): return min(x, width == .bits32 ? 32 : 64)
            case (nil, nil): return width == .bits32 ? 32 : nil
            }
        default:
            switch fact(of: operation, once: onceAssigned.isOnce) {
            case .constant(let c)?: return bits(.constant(c))
            case .zeroExtended(let bits)?: return bits
            case .oneBit(let bit)?: return bit + 1
            case .sum(_, _, .bits32)?: return 32
            case .copy?, .signExtended?, .sum?, .slotAddress?, .symbolAddress?, nil: return nil
            }
        }
    }
    for _ in 0..<16 {
        var changed = false
        for (t, operations) in definitions where estimates[t] != nil {
            var widest: Int? = 0
            for operation in operations {
                guard let bits = valueBits(operation), let known = widest else { widest = nil; break }
                widest = max(known, bits)
            }
            if widest != estimates[t] {
                estimates[t] = widest
                changed = true
            }
        }
        if !changed { return estimates }
    }
    return [:]
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
    case .binary(_, .lshr, .bits64, _, .constant(let shift)) where (1..<64).contains(shift):
        return .zeroExtended(bits: 64 - Int(shift))
    case .binary(_, .lshr, .bits32, _, .constant(let shift)) where (1..<32).contains(shift):
        return .zeroExtended(bits: 32 - Int(shift))
    case .binary(_, .and, let width, _, .constant(let mask))
        where mask > 0 && mask & (mask - 1) == 0 && (width == .bits64 || mask <= Int64(UInt32.max)):
        return .oneBit(mask.trailingZeroBitCount)
    case .binary(_, .and, let width, _, .constant(let mask)) where mask >= 0:
        return .zeroExtended(bits: min(width == .bits32 ? 32 : 64, 64 - mask.leadingZeroBitCount))
    case .binary(let d, .add, .bits32, .temp(let x), .constant(let c)) where once(x) && x != d:
        return .sum(base: x, addend: c, width: .bits32)
    case .binary(let d, .sub, .bits32, .temp(let x), .constant(let c)) where once(x) && x != d:
        return .sum(base: x, addend: 0 &- c, width: .bits32)
    case .binary(_, _, .bits32, _, _):
        return .zeroExtended(bits: 32)
    case .slotAddress(_, let slot, let offset):
        return .slotAddress(slot, offset: offset)
    case .symbolAddress(_, let symbol, let offset):
        return .symbolAddress(symbol, offset: offset)
    case .binary(let d, .add, .bits64, .temp(let x), .constant(let c)) where once(x) && x != d:
        return .sum(base: x, addend: c, width: .bits64)
    case .binary(let d, .sub, .bits64, .temp(let x), .constant(let c)) where once(x) && x != d && c != .min:
        return .sum(base: x, addend: -c, width: .bits64)
    default:
        return nil
    }
}
