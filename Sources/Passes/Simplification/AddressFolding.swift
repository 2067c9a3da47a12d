import BPFIR

/// What a value is an offset from, so that two values with the same base compare and subtract as
/// their offsets do: a Temp (`(x + 4) - x` is 4), a global's address or a stack slot's.
enum RelativeBase: Hashable {
    case temp(Temp)
    case symbol(String)
    case slot(SlotID)
}

/// A value as `base + offset`, in 64 bits.
typealias Relative = (base: RelativeBase, offset: Int64)

/// Folds comparisons and differences of two values with the same base, and comparisons with NULL
/// of addresses that cannot be NULL (`if (p)` after `p = &x` when a static function is inlined).
/// `relative` tells what a value is an offset from; `isNonNull` whether a base is an address
/// that is never 0 (a stack slot, or a global this object defines outside the arena).
///
/// Equality holds modulo 2^64 for any base. Order only for a global's or a slot's address, whose
/// offsets stay far from wrapping: `x + 1 > x` is false for the largest x.
func foldRelative(_ operation: Operation, relative: (Value) -> Relative?, isNonNull: (RelativeBase) -> Bool) -> Operation {
    switch operation {
    case .setCondition(let d, let condition, .bits64, let a, let b):
        if let holds = decide(condition, a, b, relative: relative, isNonNull: isNonNull) {
            return .copy(d, .constant(holds ? 1 : 0))
        }
    case .binary(let d, .sub, .bits64, let a, let b):
        if let x = relative(a), let y = relative(b), x.base == y.base {
            return .copy(d, .constant(x.offset &- y.offset))
        }
    default:
        break
    }
    return operation
}

/// A 64-bit branch whose side `foldRelative`'s rules decide becomes a jump.
func foldRelative(_ terminator: Terminator, relative: (Value) -> Relative?, isNonNull: (RelativeBase) -> Bool) -> Terminator {
    if case .branch(let condition, .bits64, let a, let b, let then, let otherwise) = terminator,
       let holds = decide(condition, a, b, relative: relative, isNonNull: isNonNull) {
        return .jump(holds ? then : otherwise)
    }
    return terminator
}

private func decide(_ condition: Condition, _ a: Value, _ b: Value, relative: (Value) -> Relative?,
                    isNonNull: (RelativeBase) -> Bool) -> Bool? {
    if let x = relative(a) {
        if let y = relative(b), x.base == y.base {
            switch (condition, x.base) {
            case (.eq, _), (.ne, _), (_, .symbol), (_, .slot):
                // Addresses in one object: unsigned order is the order of the offsets.
                return condition.signedForm.holds(.bits64, x.offset, y.offset)
            case (_, .temp):
                return x.offset == y.offset ? condition.holds(.bits64, 0, 0) : nil
            }
        }
        if b == .constant(0), isNonNull(x.base) {
            // Unsigned, an address above 0 compares with 0 as 1 does.
            switch condition {
            case .eq, .ne, .ugt, .uge, .ult, .ule: return condition.holds(.bits64, 1, 0)
            case .sgt, .sge, .slt, .sle: return nil
            }
        }
    }
    return nil
}

private extension Condition {
    /// The same relation between signed numbers.
    var signedForm: Condition {
        switch self {
        case .ugt: return .sgt
        case .uge: return .sge
        case .ult: return .slt
        case .ule: return .sle
        case .eq, .ne, .sgt, .sge, .slt, .sle: return self
        }
    }
}
