import BPFIR

/// A 64-bit operation whose result is only ever read in its low 32 bits becomes the 32-bit
/// operation: `int` arithmetic the frontend did on sign-extended values (`calls++` loads, extends,
/// adds and stores 4 bytes) then reads the loaded value as it is, and extension removal drops the
/// `<<= 32; s>>= 32` pair, as clang computes such code in `w` registers.
///
/// The low 32 bits of a sum, difference, product, bitwise operation, negation or left shift by
/// less than 32 depend only on the low 32 bits of its operands, so such an operation passes the
/// demand on; a right shift or division does not. Which Temps are read only in their low half
/// is found for every Temp, assigned once or not, to a fixed point: optimistically all, then
/// every Temp read in full anywhere, and whatever such a Temp is computed from, is not.
///
/// Only operations on numbers are narrowed: the verifier refuses 32-bit arithmetic on a pointer
/// ("32-bit pointer arithmetic prohibited"), and `int len = end - start` subtracts two.
func narrowOperations(_ function: inout Function) -> Bool {
    let numbers = numberTemps(function)
    func isNumber(_ value: Value) -> Bool {
        switch value {
        case .constant: return true
        case .temp(let t): return numbers[t.index]
        }
    }
    var full = [Bool](repeating: false, count: function.tempCount)
    /// For each Temp, the Temps whose full value a full read of it needs.
    var feeds = [[Temp]](repeating: [], count: function.tempCount)
    var work: [Temp] = []
    func readInFull(_ value: Value) {
        guard case .temp(let t) = value, !full[t.index] else { return }
        full[t.index] = true
        work.append(t)
    }
    for block in function.blocks {
        for instruction in block.instructions {
            let operation = instruction.operation
            if let (destination, operands) = passesLowDemand(operation) {
                for case .temp(let t) in operands { feeds[destination.index].append(t) }
                continue
            }
            readsInFull(operation).forEach(readInFull)
        }
        switch block.terminator {
        case .branch(_, .bits32, _, _, _, _):
            break
        case .branch, .return, .jump, .mayGoto, .inlineAsmGoto:
            block.terminator.usedValues.forEach(readInFull)
        }
    }
    while let t = work.popLast() {
        for source in feeds[t.index] { readInFull(.temp(source)) }
    }

    var changed = false
    for b in function.blocks.indices {
        for i in function.blocks[b].instructions.indices {
            let operation = function.blocks[b].instructions[i].operation
            switch operation {
            case .binary(let d, .and, .bits64, let x, .constant(let mask)) where isMask32(mask) && isNumber(x):
                // The upper half is zero whatever is read: a 32-bit `and` zero-extends its result.
                function.blocks[b].instructions[i].operation = .binary(d, .and, .bits32, x, .constant(mask))
                changed = true
            case .binary(let d, let op, .bits64, let x, let y)
                where !full[d.index] && passesLowDemand(operation) != nil && isNumber(x) && isNumber(y):
                function.blocks[b].instructions[i].operation = .binary(d, op, .bits32, x, y)
                changed = true
            case .negate(let d, .bits64, let x) where !full[d.index] && isNumber(x):
                function.blocks[b].instructions[i].operation = .negate(d, .bits32, x)
                changed = true
            default:
                break
            }
        }
    }
    return changed
}

/// For an operation whose result's low 32 bits depend only on its operands' low 32 bits: its
/// destination and those operands (a copy passes the demand on unchanged).
private func passesLowDemand(_ operation: Operation) -> (Temp, [Value])? {
    switch operation {
    case .copy(let d, let x):
        return (d, [x])
    case .binary(_, .and, .bits64, _, .constant(let mask)) where isMask32(mask):
        // Reads only the low half of its operand, whatever is read of its result.
        return nil
    case .binary(let d, let op, .bits64, let x, let y):
        switch op {
        case .add, .sub, .mul, .and, .or, .xor:
            return (d, [x, y])
        case .shl:
            // The amount is a constant below 32: a 32-bit shift masks its amount to 5 bits.
            guard case .constant(let amount) = y, (0..<32).contains(amount) else { return nil }
            return (d, [x])
        case .udiv, .umod, .sdiv, .smod, .lshr, .ashr:
            return nil
        }
    case .negate(let d, .bits64, let x):
        return (d, [x])
    default:
        return nil
    }
}

/// The Temps that hold a number, never a pointer, wherever they are read: every assignment of one
/// is a load of at most 4 bytes, an extension from at most 32 bits, a comparison's 0 or 1, a
/// 32-bit operation (the verifier refuses those on pointers), a constant, or arithmetic on
/// numbers. A pointer may be in anything else: a parameter, an 8-byte load, a call's result.
private func numberTemps(_ function: Function) -> [Bool] {
    var isNumber = [Bool](repeating: true, count: function.tempCount)
    for parameter in function.parameters { isNumber[parameter.index] = false }
    /// Assignments whose result is a number when their operands are.
    var dependent: [(Temp, [Value])] = []
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
                dependent.append((d, [x]))
            case .binary(let d, _, .bits64, let x, let y):
                dependent.append((d, [x, y]))
            default:
                for t in operation.definedTemps { isNumber[t.index] = false }
            }
        }
    }
    var changed = true
    while changed {
        changed = false
        for (d, operands) in dependent where isNumber[d.index] {
            if operands.contains(where: { if case .temp(let t) = $0 { return !isNumber[t.index] } else { return false } }) {
                isNumber[d.index] = false
                changed = true
            }
        }
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
    default:
        return []
    }
}

/// A mask that keeps only bits of the low half: `x & mask` has a zero upper half.
private func isMask32(_ mask: Int64) -> Bool { (0...Int64(UInt32.max)).contains(mask) }
