import BPFIR

/// Operations whose result is read only in its low bits do less: a 64-bit operation read only in
/// its low 32 bits becomes the 32-bit one, and an `and`, zero or sign extension that changes only
/// bits nobody reads becomes a copy. `int` arithmetic the frontend did on sign-extended values
/// (`calls++` loads, extends, adds and stores 4 bytes) then reads the loaded value as it is, and
/// extension removal drops the `<<= 32; s>>= 32` pair, as clang computes such code in `w`
/// registers; `uc++` on an `unsigned char` stored back as one byte needs no `&= 255`.
///
/// The low k bits of a sum, difference, product, bitwise operation, negation or left shift depend
/// only on the low k bits of its operands, so such an operation passes its demand on; a right
/// shift, division or comparison reads its operands whole. How many low bits of each Temp are
/// read is found for every Temp, assigned once or not, to a fixed point.
///
/// Only operations on numbers become 32-bit: the verifier refuses 32-bit arithmetic on a pointer
/// ("32-bit pointer arithmetic prohibited"), and `int len = end - start` subtracts two.
///
/// A function's callers read the low `returnedBits` of what it returns: an `int` result is
/// computed in 32 bits, as clang computes it, and each caller extends it (the frontend emits the
/// extension after every call of a narrow result).
func narrowOperations(_ function: inout Function, returnedBits: Int) -> Bool {
    let numbers = numberTemps(function)
    func isNumber(_ value: Value) -> Bool {
        switch value {
        case .constant: return true
        case .temp(let t): return numbers[t.index]
        }
    }
    let demanded = demandedBits(function, returnedBits: returnedBits)
    func lowBits(_ bits: Int) -> Int64 { bits >= 64 ? -1 : Int64(bitPattern: (1 << UInt64(bits)) - 1) }

    var changed = false
    for b in function.blocks.indices {
        for i in function.blocks[b].instructions.indices {
            let operation = function.blocks[b].instructions[i].operation
            var rewritten = operation
            switch operation {
            case .binary(let d, .and, _, let x, .constant(let mask))
                where mask & lowBits(demanded[d.index]) == lowBits(demanded[d.index]):
                rewritten = .copy(d, x)
            case .zeroExtend(let d, let x, let bits) where demanded[d.index] <= bits,
                 .signExtend(let d, let x, let bits) where demanded[d.index] <= bits:
                rewritten = .copy(d, x)
            case .binary(let d, let op, .bits32, let x, .constant(let c))
                where demanded[d.index] <= 32 && isIdentity(op, .bits32, c):
                // A 32-bit operation that changes no low bit only clears the upper half: unread.
                rewritten = .copy(d, x)
            case .binary(let d, .and, .bits64, let x, .constant(let mask)) where isMask32(mask) && isNumber(x):
                // The upper half is zero whatever is read: a 32-bit `and` zero-extends its result.
                rewritten = .binary(d, .and, .bits32, x, .constant(mask))
            case .binary(let d, let op, .bits64, let x, let y)
                where demanded[d.index] <= 32 && passesLowDemand(op, y) && isNumber(x) && isNumber(y):
                rewritten = .binary(d, op, .bits32, x, y)
            case .negate(let d, .bits64, let x) where demanded[d.index] <= 32 && isNumber(x):
                rewritten = .negate(d, .bits32, x)
            default:
                break
            }
            if rewritten != operation {
                function.blocks[b].instructions[i].operation = rewritten
                changed = true
            }
        }
    }
    return changed
}

/// Whether the low k bits of `x op y` depend only on the low k bits of x (and of y): sums,
/// products, bitwise operations, and left shifts by a constant below 32 (a 32-bit shift masks its
/// amount to 5 bits).
private func passesLowDemand(_ op: BinaryOperator, _ y: Value) -> Bool {
    switch op {
    case .add, .sub, .mul, .and, .or, .xor:
        return true
    case .shl:
        if case .constant(let amount) = y { return (0..<32).contains(amount) }
        return false
    case .udiv, .umod, .sdiv, .smod, .lshr, .ashr:
        return false
    }
}

/// How many low bits of each Temp some read needs, 0 to 64; a return reads `returnedBits`.
private func demandedBits(_ function: Function, returnedBits: Int) -> [Int] {
    /// A read of `source` that needs as many low bits as the destination's readers do, capped at
    /// `cap`, less `shift` (a left shift moves bits up).
    struct Transfer {
        var source: Temp
        var cap: Int
        var shift: Int
    }
    var demanded = [Int](repeating: 0, count: function.tempCount)
    var transfers = [[Transfer]](repeating: [], count: function.tempCount)
    var work: [Temp] = []
    func demand(_ value: Value, _ bits: Int) {
        guard case .temp(let t) = value, bits > demanded[t.index] else { return }
        demanded[t.index] = bits
        work.append(t)
    }
    func passOn(_ value: Value, from d: Temp, cap: Int, shift: Int = 0) {
        guard case .temp(let t) = value else { return }
        transfers[d.index].append(Transfer(source: t, cap: cap, shift: shift))
    }
    for block in function.blocks {
        for instruction in block.instructions {
            let operation = instruction.operation
            switch operation {
            case .copy(let d, let x):
                passOn(x, from: d, cap: 64)
            case .binary(let d, let op, let width, let x, let y):
                let bits = width == .bits32 ? 32 : 64
                switch op {
                case .and:
                    if case .constant(let mask) = y, mask >= 0 {
                        passOn(x, from: d, cap: min(bits, 64 - mask.leadingZeroBitCount))
                    } else {
                        passOn(x, from: d, cap: bits)
                        passOn(y, from: d, cap: bits)
                    }
                case .add, .sub, .mul, .or, .xor:
                    passOn(x, from: d, cap: bits)
                    passOn(y, from: d, cap: bits)
                case .shl:
                    if case .constant(let amount) = y, (0..<Int64(bits)).contains(amount) {
                        passOn(x, from: d, cap: bits, shift: Int(amount))
                    } else {
                        demand(x, bits)
                        demand(y, bits)
                    }
                case .udiv, .umod, .sdiv, .smod, .lshr, .ashr:
                    demand(x, bits)
                    demand(y, bits)
                }
            case .negate(let d, let width, let x):
                passOn(x, from: d, cap: width == .bits32 ? 32 : 64)
            case .signExtend(let d, let x, let bits), .zeroExtend(let d, let x, let bits):
                passOn(x, from: d, cap: bits)
            case .store(_, let x, let size, _, _):
                var others = operation.usedValues
                if let i = others.firstIndex(of: x) { others.remove(at: i) }
                others.forEach { demand($0, 64) }
                demand(x, size.rawValue * 8)
            case .setCondition(_, _, let width, let x, let y):
                demand(x, width == .bits32 ? 32 : 64)
                demand(y, width == .bits32 ? 32 : 64)
            case .load, .copyMemory, .setMemory, .slotAddress, .symbolAddress, .call, .addrSpaceCast, .atomic,
                 .compareExchange, .inlineAsm, .coreValue, .byteSwap:
                operation.usedValues.forEach { demand($0, 64) }
            }
        }
        switch block.terminator {
        case .branch(_, let width, let x, let y, _, _):
            demand(x, width == .bits32 ? 32 : 64)
            demand(y, width == .bits32 ? 32 : 64)
        case .return(let value?):
            demand(value, returnedBits)
        case .return(nil), .jump, .mayGoto, .inlineAsmGoto:
            block.terminator.usedValues.forEach { demand($0, 64) }
        }
    }
    while let d = work.popLast() {
        for transfer in transfers[d.index] {
            demand(.temp(transfer.source), max(0, min(demanded[d.index], transfer.cap) - transfer.shift))
        }
    }
    return demanded
}

/// The Temps that hold a number, never a pointer, wherever they are read: every assignment of one
/// is a load of at most 4 bytes, an extension from at most 32 bits, a comparison's 0 or 1, a
/// 32-bit operation (the verifier refuses those on pointers), a constant, or arithmetic on
/// numbers. A pointer may be in anything else: a parameter, an 8-byte load, a call's result.
private func numberTemps(_ function: Function) -> [Bool] {
    var isNumber = [Bool](repeating: true, count: function.tempCount)
    for parameter in function.parameters { isNumber[parameter.index] = false }
    /// For each Temp, the Temps assigned from it that are numbers only if it is.
    var dependents = [[Temp]](repeating: [], count: function.tempCount)
    var work: [Temp] = function.parameters
    func notANumber(_ t: Temp) {
        guard isNumber[t.index] else { return }
        isNumber[t.index] = false
        work.append(t)
    }
    for block in function.blocks {
        for instruction in block.instructions {
            let operation = instruction.operation
            switch operation {
            case .load(_, _, let size, _, _) where size.rawValue <= 4:
                break
            case .signExtend(_, _, let bits) where bits <= 32, .zeroExtend(_, _, let bits) where bits <= 32:
                break
            case .setCondition, .binary(_, _, .bits32, _, _), .negate(_, .bits32, _):
                break
            case .copy(let d, let x), .negate(let d, .bits64, let x):
                for case .temp(let t) in [x] { dependents[t.index].append(d) }
            case .binary(let d, _, .bits64, let x, let y):
                for case .temp(let t) in [x, y] { dependents[t.index].append(d) }
            default:
                operation.definedTemps.forEach(notANumber)
            }
        }
    }
    while let t = work.popLast() {
        dependents[t.index].forEach(notANumber)
    }
    return isNumber
}

/// The operands an operation reads in all 64 bits: all but those `readsOnlyLowHalf` names (an
/// address base too, even of the same Temp).
func readsInFull(_ operation: Operation) -> [Value] {
    var reads = operation.usedValues
    for value in readsOnlyLowHalf(operation) {
        if let i = reads.firstIndex(of: value) { reads.remove(at: i) }
    }
    return reads
}

/// The operands an operation reads only in their low 32 bits.
func readsOnlyLowHalf(_ operation: Operation) -> [Value] {
    switch operation {
    case .binary(_, _, .bits32, let x, let y), .setCondition(_, _, .bits32, let x, let y):
        return [x, y]
    case .negate(_, .bits32, let x):
        return [x]
    case .store(_, let x, let size, _, _) where size.rawValue <= 4:
        return [x]
    case .binary(_, .and, .bits64, let x, .constant(let mask)) where isMask32(mask):
        return [x]
    case .signExtend(_, let x, let bits) where bits <= 32, .zeroExtend(_, let x, let bits) where bits <= 32:
        return [x]
    // A shift reads the low 6 bits of its amount.
    case .binary(_, .shl, .bits64, _, let amount), .binary(_, .lshr, .bits64, _, let amount),
         .binary(_, .ashr, .bits64, _, let amount):
        return [amount]
    default:
        return []
    }
}

/// A mask that keeps only bits of the low half: `x & mask` has a zero upper half.
private func isMask32(_ mask: Int64) -> Bool { (0...Int64(UInt32.max)).contains(mask) }
