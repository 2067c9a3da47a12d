import BPFDiagnostics
import BPFIR

// Signed division lowering, for -mcpu=v3.
//
// Requires: nothing. Guarantees: no `sdiv` or `smod` remains; every other instruction is unchanged.
// Why: BPF has only unsigned division before v4 (v4 adds SDIV/SMOD with off = 1).
//
// C division truncates toward zero, so |a / b| = |a| / |b| and |a % b| = |a| % |b|; the quotient
// is negative when exactly one operand is, the remainder takes the dividend's sign. Branch-free:
//
//     s  = x >> 63 (arithmetic)         0 or -1, the sign mask
//     |x| = (x ^ s) - s                 x when s = 0, -x when s = -1
//     q  = |a| / |b|  (unsigned)
//     a / b = (q ^ (sa ^ sb)) - (sa ^ sb)
//     a % b = (r ^ sa) - sa             r = |a| % |b|
//
// |LONG_MIN| is 2^63, still exact as an unsigned value, so every defined case is right; only
// LONG_MIN / -1 (undefined in C) wraps. A 32-bit division first sign-extends the low halves and
// computes on 64 bits, then zero-extends the low 32 bits of the result: the IR's contract for
// `bits32` results. Constant operands have their sign and magnitude folded here.

/// Rewrites every `sdiv` and `smod` into unsigned division plus sign fix-ups.
public func lowerSignedDivision(_ module: inout Module) {
    expandInstructions(&module) { instruction, function, emit in
        guard case .binary(let dst, let op, let width, let a, let b) = instruction.operation,
              op == .sdiv || op == .smod else { return false }
        var lowering = DivisionLowering(tempCount: function.tempCount)
        lowering.lower(dst: dst, isRemainder: op == .smod, width: width, a, b)
        function.tempCount = lowering.tempCount
        lowering.output.forEach(emit)
        return true
    }
}

/// The instructions replacing one signed division.
private struct DivisionLowering {
    var tempCount: Int
    var output: [Operation] = []

    init(tempCount: Int) {
        self.tempCount = tempCount
    }

    mutating func lower(dst: Temp, isRemainder: Bool, width: ALUWidth, _ a: Value, _ b: Value) {
        let a64 = widened(a, width)
        let b64 = widened(b, width)
        let (signA, magnitudeA) = signAndMagnitude(a64)
        let (signB, magnitudeB) = signAndMagnitude(b64)
        let unsigned = binary(isRemainder ? .umod : .udiv, magnitudeA, magnitudeB)
        let sign = isRemainder ? signA : binary(.xor, signA, signB)
        let signed = binary(.sub, binary(.xor, unsigned, sign), sign)
        switch width {
        case .bits64:
            emit(.copy(dst, signed))
        case .bits32:
            emit(.zeroExtend(dst, signed, fromBits: 32))
        }
    }

    /// The operand as a 64-bit signed value: a 32-bit operand's low half sign-extended.
    private mutating func widened(_ value: Value, _ width: ALUWidth) -> Value {
        switch (width, value) {
        case (.bits64, _):
            return value
        case (.bits32, .constant(let c)):
            return .constant(Int64(Int32(truncatingIfNeeded: c)))
        case (.bits32, .temp):
            let t = makeTemp()
            emit(.signExtend(t, value, fromBits: 32))
            return .temp(t)
        }
    }

    /// The sign mask (0 or -1) and the absolute value, as an unsigned 64-bit quantity.
    private mutating func signAndMagnitude(_ value: Value) -> (sign: Value, magnitude: Value) {
        switch value {
        case .constant(let c):
            // 0 &- Int64.min is Int64.min, whose bit pattern is 2^63: the right unsigned magnitude.
            return (.constant(c < 0 ? -1 : 0), .constant(c < 0 ? 0 &- c : c))
        case .temp:
            let sign = binary(.ashr, value, .constant(63))
            return (sign, binary(.sub, binary(.xor, value, sign), sign))
        }
    }

    private mutating func binary(_ op: BinaryOperator, _ a: Value, _ b: Value) -> Value {
        if (op == .xor || op == .sub) && b == .constant(0) { return a }
        if case .constant(let x) = a, case .constant(let y) = b, let folded = fold(op, x, y) {
            return .constant(folded)
        }
        let t = makeTemp()
        emit(.binary(t, op, .bits64, a, b))
        return .temp(t)
    }

    /// Folds the operations whose operands are both signs (0 or -1); the division itself is only
    /// folded when the divisor is non-zero, leaving division by zero to the machine as C does.
    private func fold(_ op: BinaryOperator, _ x: Int64, _ y: Int64) -> Int64? {
        switch op {
        case .xor: return x ^ y
        case .sub: return x &- y
        case .udiv: return y == 0 ? nil : Int64(bitPattern: UInt64(bitPattern: x) / UInt64(bitPattern: y))
        case .umod: return y == 0 ? nil : Int64(bitPattern: UInt64(bitPattern: x) % UInt64(bitPattern: y))
        case .add, .mul, .sdiv, .smod, .and, .or, .shl, .lshr, .ashr: return nil
        }
    }

    private mutating func makeTemp() -> Temp {
        defer { tempCount += 1 }
        return Temp(tempCount)
    }

    private mutating func emit(_ operation: Operation) {
        output.append(operation)
    }
}
