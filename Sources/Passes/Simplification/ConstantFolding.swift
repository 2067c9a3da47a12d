import BPFIR

/// Folds constant operations and drops extensions that change no bit. What is known of the
/// operands: how many low bits hold a zero- or sign-extended value, and which value a Temp
/// sign-extends (still unchanged where the Temp is read).
func fold(_ operation: Operation, zeroExtendedBits: (Value) -> Int?, signExtendedBits: (Value) -> Int?,
          signExtensionSource: (Temp) -> (bits: Int, source: Value)?) -> Operation {
    var operation = operation
    // A constant goes on the right of a commutative operation, where BPF takes its immediate.
    if case .binary(let d, let op, let width, .constant(let c), .temp(let t)) = operation,
       [.add, .mul, .and, .or, .xor].contains(op) {
        operation = .binary(d, op, width, .temp(t), .constant(c))
    }
    if case .setCondition(let d, let condition, let width, let a, let b) = operation {
        var (canonical, x, y) = canonicalComparison(condition, width, a, b)
        if let (source, c) = equalityOfExtended(canonical, width, x, y, zeroExtendedBits: zeroExtendedBits,
                                                signExtensionSource: signExtensionSource) {
            (x, y) = (source, c)
        }
        operation = .setCondition(d, canonical, width, x, y)
    }
    switch operation {
    case .binary(let d, let op, let width, .constant(let a), .constant(let b)):
        if let folded = evaluate(op, width, a, b) { return .copy(d, .constant(folded)) }
    // `x ^ x` and `x - x` are 0, `x & x` and `x | x` are x (in 32 bits, its low half).
    case .binary(let d, let op, let width, .temp(let a), .temp(let b)) where a == b:
        switch op {
        case .xor, .sub: return .copy(d, .constant(0))
        case .and, .or: return width == .bits64 ? .copy(d, .temp(a)) : .zeroExtend(d, .temp(a), fromBits: 32)
        case .add, .mul, .udiv, .umod, .sdiv, .smod, .shl, .lshr, .ashr: break
        }
    case .binary(let d, let op, let width, let a, .constant(let c)) where isIdentity(op, width, c):
        if case .bits32 = width, (zeroExtendedBits(a) ?? 64) > 32 { break }
        return .copy(d, a)
    // `x * 0` and `x & 0` (`(long)i * seed` in a loop's first copy, with i = 0).
    case .binary(let d, .mul, let width, _, .constant(let c)) where evaluate(.mul, width, 1, c) == 0,
         .binary(let d, .and, let width, _, .constant(let c)) where evaluate(.and, width, -1, c) == 0:
        return .copy(d, .constant(0))
    case .binary(let d, .and, .bits64, let a, .constant(let mask)):
        if let bits = zeroExtendedBits(a), bits < 64, mask & ((1 << Int64(bits)) &- 1) == (1 << Int64(bits)) &- 1 {
            return .copy(d, a)
        }
    case .zeroExtend(let d, let value, let bits):
        if case .constant(let c) = value { return .copy(d, .constant(c & ((1 << Int64(bits)) - 1))) }
        if let known = zeroExtendedBits(value), known <= bits { return .copy(d, value) }
        // Sign-extending from at least `bits` leaves the bits this keeps as they were.
        if case .temp(let t) = value, let (from, source) = signExtensionSource(t), from >= bits {
            return .zeroExtend(d, source, fromBits: bits)
        }
    case .signExtend(let d, let value, let bits):
        if case .constant(let c) = value {
            let shift = Int64(64 - bits)
            return .copy(d, .constant((c << shift) >> shift))
        }
        if let known = signExtendedBits(value), known <= bits { return .copy(d, value) }
    case .negate(let d, let width, .constant(let c)):
        if let negated = evaluate(.sub, width, 0, c) { return .copy(d, .constant(negated)) }
    case .byteSwap(let d, .constant(let c), let bits):
        return .copy(d, .constant(byteSwapped(c, bits: bits)))
    case .addrSpaceCast(let d, .constant(0), _, _):
        // NULL is NULL in both address spaces.
        return .copy(d, .constant(0))
    case .setCondition(let d, let condition, let width, .constant(let a), .constant(let b)):
        return .copy(d, .constant(condition.holds(width, a, b) ? 1 : 0))
    case .setCondition(let d, let condition, let width, _, .constant(let c)) where decidedByZero(condition, width, c) != nil:
        return .copy(d, .constant(decidedByZero(condition, width, c)! ? 1 : 0))
    case .setCondition(let d, let condition, .bits64, let a, let b)
        where comparesInLowHalves(condition, a, b, zeroExtendedBits: zeroExtendedBits, signExtendedBits: signExtendedBits):
        return .setCondition(d, condition, .bits32, a, b)
    // A comparison that only reads the sign bit is a shift, without the branch BPF would need for
    // it (which also doubles the paths the verifier walks): `x < 0` is `x >> 31`.
    case .setCondition(let d, .slt, let width, let a, .constant(0)):
        return .binary(d, .lshr, width, a, .constant(width == .bits32 ? 31 : 63))
    case .setCondition(let d, .ugt, .bits32, let a, .constant(let c)) where UInt32(truncatingIfNeeded: c) == 0x7fff_ffff:
        return .binary(d, .lshr, .bits32, a, .constant(31))
    case .setCondition(let d, .ugt, .bits64, let a, .constant(Int64.max)):
        return .binary(d, .lshr, .bits64, a, .constant(63))
    // `!!flag`, `flag == 1`, `!flag` and `flag != 1` of a 0 or 1.
    case .setCondition(let d, .ne, _, let a, .constant(0)) where (zeroExtendedBits(a) ?? 64) <= 1,
         .setCondition(let d, .eq, _, let a, .constant(1)) where (zeroExtendedBits(a) ?? 64) <= 1:
        return .copy(d, a)
    case .setCondition(let d, .eq, _, let a, .constant(0)) where (zeroExtendedBits(a) ?? 64) <= 1,
         .setCondition(let d, .ne, _, let a, .constant(1)) where (zeroExtendedBits(a) ?? 64) <= 1:
        return .binary(d, .xor, .bits64, a, .constant(1))
    default:
        break
    }
    return operation
}

/// A comparison with a constant operand as branches and value numbering best see it: the constant
/// on the right, where BPF takes its immediate, and an unsigned order against 0 or 1 as the
/// equality it is (`0 < x` and `x > 0` are `x != 0`, `x < 1` is `x == 0`).
func canonicalComparison(_ condition: Condition, _ width: ALUWidth, _ a: Value, _ b: Value) -> (Condition, Value, Value) {
    var (condition, a, b) = (condition, a, b)
    if case .constant = a, case .temp = b { (condition, a, b) = (condition.swapped, b, a) }
    guard case .constant(let c) = b else { return (condition, a, b) }
    let low = width == .bits32 ? Int64(UInt32(truncatingIfNeeded: c)) : c
    switch (condition, low) {
    case (.ugt, 0), (.uge, 1): return (.ne, a, .constant(0))
    case (.ule, 0), (.ult, 1): return (.eq, a, .constant(0))
    default: return (condition, a, b)
    }
}

/// Whether `x cond c` holds whatever x is, for the unsigned orders against 0: `x < 0` never does,
/// `x >= 0` always.
func decidedByZero(_ condition: Condition, _ width: ALUWidth, _ c: Int64) -> Bool? {
    guard (width == .bits32 ? Int64(UInt32(truncatingIfNeeded: c)) : c) == 0 else { return nil }
    switch condition {
    case .ult: return false
    case .uge: return true
    case .eq, .ne, .ugt, .ule, .sgt, .sge, .slt, .sle: return nil
    }
}

/// Whether a 64-bit comparison of `a` and `b` decides as the 32-bit one of their low halves:
/// both sign-extended from at most 32 bits (sign extension keeps every order, signed and
/// unsigned), or both zero-extended from at most 32 bits for equality and unsigned order (31 for
/// signed order). A C comparison of two `int`s is then one JMP32, as clang emits it, and the
/// extensions it compared become dead.
func comparesInLowHalves(_ condition: Condition, _ a: Value, _ b: Value, zeroExtendedBits: (Value) -> Int?,
                         signExtendedBits: (Value) -> Int?) -> Bool {
    if let x = signExtendedBits(a), let y = signExtendedBits(b), x <= 32, y <= 32 { return true }
    guard let x = zeroExtendedBits(a), let y = zeroExtendedBits(b) else { return false }
    switch condition {
    case .eq, .ne, .ugt, .uge, .ult, .ule: return x <= 32 && y <= 32
    case .sgt, .sge, .slt, .sle: return x <= 31 && y <= 31
    }
}

/// Whether `x op c` in `width` is x in the bits the operation computes (a 32-bit one reads the low
/// half of `c`).
func isIdentity(_ op: BinaryOperator, _ width: ALUWidth, _ c: Int64) -> Bool {
    let c = width == .bits32 ? Int64(Int32(truncatingIfNeeded: c)) : c
    switch op {
    case .add, .sub, .or, .xor, .shl, .lshr, .ashr: return c == 0
    case .mul, .udiv, .sdiv: return c == 1
    case .and: return c == -1
    case .umod, .smod: return false
    }
}

/// `a op b` as BPF computes it, or nil when folding would hide a division by zero.
func evaluate(_ op: BinaryOperator, _ width: ALUWidth, _ a: Int64, _ b: Int64) -> Int64? {
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

/// A branch on two constants becomes a jump to the side it takes; one whose sides are the same
/// block (jump threading sent both into one) is a jump there.
/// `x == c` or `x != c` where x sign-extends a value of fewer bits that is zero-extended (a
/// `char` just loaded): the same test of that value against c's low bits, without the extension
/// (`if (s[i])`, `if (c == '-')`); nil where c is beyond the narrow value's range.
func equalityOfExtended(_ condition: Condition, _ width: ALUWidth, _ x: Value, _ y: Value,
                        zeroExtendedBits: (Value) -> Int?,
                        signExtensionSource: (Temp) -> (bits: Int, source: Value)?) -> (source: Value, constant: Value)? {
    guard condition == .eq || condition == .ne, case .temp(let t) = x, case .constant(var c) = y,
          let (bits, source) = signExtensionSource(t), bits < 32, (zeroExtendedBits(source) ?? 64) <= bits else { return nil }
    if width == .bits32 { c = Int64(Int32(truncatingIfNeeded: c)) }
    let half = Int64(1) << Int64(bits - 1)
    guard -half <= c, c < half else { return nil }
    return (source, .constant(c & (2 * half - 1)))
}

func foldTerminator(_ terminator: Terminator) -> Terminator {
    if case .branch(let c, let w, .constant(let a), .constant(let b), let then, let otherwise) = terminator {
        return .jump(c.holds(w, a, b) ? then : otherwise)
    }
    if case .branch(let c, let w, let a, let b, let then, let otherwise) = terminator {
        let (canonical, x, y) = canonicalComparison(c, w, a, b)
        if case .constant(let k) = y, let decided = decidedByZero(canonical, w, k) { return .jump(decided ? then : otherwise) }
        if (canonical, x, y) != (c, a, b) { return .branch(canonical, w, x, y, then: then, else: otherwise) }
    }
    if case .branch(_, _, _, _, let then, let otherwise) = terminator, then == otherwise {
        return .jump(then)
    }
    return terminator
}
