import BPFIR

/// A comparison whose 0 or 1 is a value (`return a < b;`, `count += x > 5`) needs a branch on
/// BPF, which has no instruction that sets a register from a comparison; each such branch doubles
/// the paths the verifier walks from there, until the two agree. Where arithmetic gives the same
/// bit in as many instructions, these use it:
///
///   `(x & 0x100) != 0`   is `(x & 0x100) >> 8`, and `== 0` that `^ 1`;
///   `a < b`              of two numbers of at most 32 bits, extended to 64 as the comparison
///                        orders them (sign-extended for signed order, zero-extended for
///                        unsigned), is the sign of `a - b`: `(a - b) >> 63`, exact in 64 bits;
///   `a > b`              is `(b - a) >> 63`; against a constant, `a <= c` is `a < c + 1` and
///                        `a >= c` is `c - 1 < a`.
///
/// `oneBit` tells which bit a Temp that is 0 or a single bit may hold. The result is the
/// instructions that compute the comparison's destination, the last one assigning it; nil when
/// none of these applies.
func comparisonWithoutBranch(_ operation: Operation, zeroExtendedBits: (Value) -> Int?, signExtendedBits: (Value) -> Int?,
                             makeTemp: () -> Temp, oneBit: (Temp) -> Int?) -> [Operation]? {
    guard case .setCondition(let d, let condition, let width, let a, let b) = operation else { return nil }
    if case .temp(let t) = a, case .constant(let c) = b, let bit = oneBit(t), bit > 0, width == .bits64 || bit < 32,
       c == 0 || c == 1 << Int64(bit), condition == .eq || condition == .ne {
        let shift = Operation.binary(d, .lshr, .bits64, a, .constant(Int64(bit)))
        guard (condition == .ne) != (c == 0) else { return [shift] }
        let shifted = makeTemp()
        return [.binary(shifted, .lshr, .bits64, a, .constant(Int64(bit))), .binary(d, .xor, .bits64, .temp(shifted), .constant(1))]
    }
    /// Whether `v`'s 64 bits are the number the comparison orders, in at most 32 bits.
    func narrow(_ v: Value, signed: Bool) -> Bool {
        signed ? (signExtendedBits(v) ?? 64) <= 32 : (zeroExtendedBits(v) ?? 64) <= 32
    }
    /// `x < y` as `(x - y) >> 63`.
    func lessThan(_ x: Value, _ y: Value) -> [Operation] {
        let difference = makeTemp()
        return [.binary(difference, .sub, .bits64, x, y), .binary(d, .lshr, .bits64, .temp(difference), .constant(63))]
    }
    switch condition {
    case .slt, .ult, .sgt, .ugt, .sle, .ule, .sge, .uge:
        let signed = [.slt, .sgt, .sle, .sge].contains(condition)
        guard narrow(a, signed: signed), narrow(b, signed: signed) else { return nil }
        switch (condition, b) {
        case (.slt, _), (.ult, _): return lessThan(a, b)
        case (.sgt, _), (.ugt, _): return lessThan(b, a)
        case (.sle, .constant(let c)), (.ule, .constant(let c)): return lessThan(a, .constant(c + 1))
        case (.sge, .constant(let c)), (.uge, .constant(let c)): return lessThan(.constant(c - 1), a)
        case (.sle, .temp), (.ule, .temp), (.sge, .temp), (.uge, .temp), (.eq, _), (.ne, _): return nil
        }
    case .eq, .ne:
        return nil
    }
}
