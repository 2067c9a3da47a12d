import BPFDiagnostics
import BPFIR
import CClang

// 128-bit integers (`__int128`, `unsigned __int128`). A BPF register holds 64 bits, so a value is
// a pair of 64-bit halves, as LLVM's type legalization splits an i128 for BPF: addition carries
// from the low half into the high one, shifts move bits across the halves, comparisons decide on
// the high halves and, when those are equal, on the low ones (unsigned). In memory a value takes
// 16 bytes, low half first, aligned as clang lays it out; a local or parameter whose address is
// never taken is a pair of registers.
//
// The operations are those clang-19 compiles for BPF: assignment, conversions, `+`, `-`, `&`,
// `|`, `^`, `~`, unary `-`, `++`, `--`, shifts by a constant, comparisons and truth values. For
// multiplication, division, remainder and shifts by a variable amount LLVM calls compiler-rt
// (`__multi3`, `__udivti3`, `__ashlti3`, ...), which no BPF program can call: those are errors,
// unless the operands are constants, which are computed here on 128 bits.

/// A 128-bit integer as two 64-bit halves.
struct WideValue {
    var low: Value
    var high: Value

    init(low: Value, high: Value) {
        self.low = low
        self.high = high
    }

    init(_ constant: UInt128) {
        low = .constant(Int64(truncatingIfNeeded: constant))
        high = .constant(Int64(truncatingIfNeeded: constant >> 64))
    }
}

/// The value of a constant expression of 128-bit type, or nil when it is not constant or its value
/// is undefined (a division by zero, a shift out of range). libclang evaluates no more than 64
/// bits (of a wider result it returns the low half), so what has a 128-bit type is computed here;
/// `narrow` evaluates a subexpression of a narrower type, which libclang does exactly.
func wideConstant(_ e: CXCursor, types: TypeLowering, narrow: (CXCursor) -> Int64?) -> UInt128? {
    let isSigned: Bool
    switch types.classify(e.type) {
    case .wide(let signed):
        isSigned = signed
    case .scalar(let scalar):
        guard let value = narrow(e) else { return nil }
        return scalar.isSigned ? UInt128(truncatingIfNeeded: Int128(value)) : UInt128(UInt64(bitPattern: value))
    case .void, .aggregate, .function, .unsupported:
        return nil
    }
    let operands = e.children.filter { $0.isExpression }
    func operand(_ index: Int) -> UInt128? {
        index < operands.count ? wideConstant(operands[index], types: types, narrow: narrow) : nil
    }
    switch e.kind {
    case CXCursor_ParenExpr, CXCursor_UnexposedExpr, CXCursor_CStyleCastExpr:
        // Conversions between integer types: the operand's value, sign- or zero-extended by its type.
        guard operands.count == 1 else { return nil }
        return operand(0)
    case CXCursor_UnaryOperator:
        guard let value = operand(0) else { return nil }
        switch e.unaryOperator {
        case CXUnaryOperator_Plus, CXUnaryOperator_Extension: return value
        case CXUnaryOperator_Minus: return 0 &- value
        case CXUnaryOperator_Not: return ~value
        default: return nil
        }
    case CXCursor_BinaryOperator:
        guard operands.count == 2, let a = operand(0), let b = operand(1) else { return nil }
        return wideConstantResult(e.binaryOperator, a, b, isSigned: isSigned)
    case CXCursor_ConditionalOperator:
        guard operands.count == 3, let condition = operand(0) else { return nil }
        return operand(condition != 0 ? 1 : 2)
    default:
        return nil
    }
}

/// `a op b` on 128 bits, signed or not as the result type is; nil where C leaves it undefined.
private func wideConstantResult(_ op: CXBinaryOperatorKind, _ a: UInt128, _ b: UInt128, isSigned: Bool) -> UInt128? {
    let signedA = Int128(truncatingIfNeeded: a), signedB = Int128(truncatingIfNeeded: b)
    switch op {
    case CXBinaryOperator_Add: return a &+ b
    case CXBinaryOperator_Sub: return a &- b
    case CXBinaryOperator_Mul: return a &* b
    case CXBinaryOperator_And: return a & b
    case CXBinaryOperator_Or: return a | b
    case CXBinaryOperator_Xor: return a ^ b
    case CXBinaryOperator_Shl:
        return b < 128 ? a << b : nil
    case CXBinaryOperator_Shr:
        guard b < 128 else { return nil }
        return isSigned ? UInt128(truncatingIfNeeded: signedA >> b) : a >> b
    case CXBinaryOperator_Div, CXBinaryOperator_Rem:
        guard b != 0 else { return nil }
        guard isSigned else { return op == CXBinaryOperator_Div ? a / b : a % b }
        let (quotient, overflow) = signedA.dividedReportingOverflow(by: signedB)
        guard !overflow else { return nil }
        return UInt128(truncatingIfNeeded: op == CXBinaryOperator_Div ? quotient : signedA - quotient * signedB)
    default:
        return nil
    }
}

extension FunctionLowering {
    /// The signedness of a 128-bit integer type, nil for any other type.
    func wideSignedness(_ type: CXType) -> Bool? {
        if case .wide(let isSigned) = module.types.classify(type) { return isSigned }
        return nil
    }

    func isWide(_ type: CXType) -> Bool { wideSignedness(type) != nil }

    /// The value of `e`, of 128-bit type, when it folds to a constant.
    private func foldedWideConstant(_ e: CXCursor) -> UInt128? {
        wideConstant(e, types: module.types, narrow: { foldedConstant($0) })
    }

    /// Lowers an expression of 128-bit type for its value.
    mutating func wideRvalue(_ e: CXCursor) throws(DiagnosticList) -> WideValue {
        builder.location = e.location
        if let constant = foldedWideConstant(e) { return WideValue(constant) }
        let operands = e.children.filter { $0.isExpression }
        switch e.kind {
        case CXCursor_ParenExpr:
            return try wideRvalue(onlyChild(e))
        case CXCursor_UnexposedExpr where operands.count == 1, CXCursor_CStyleCastExpr where operands.count == 1:
            // An lvalue read, a conversion between the 128-bit types (the bits stay), or a
            // narrower integer converted up.
            return try wideOperand(operands[0])
        case CXCursor_UnexposedExpr where operands.count == 4:
            // GNU `a ?: b`: the common expression, two copies of it, then b. a is evaluated once.
            let common = try wideOperand(operands[0])
            let low = temp(), high = temp()
            builder.emit(.copy(low, common.low))
            builder.emit(.copy(high, common.high))
            let nonZero = truth(of: common)
            let other = builder.makeBlock(), done = builder.makeBlock()
            builder.terminate(.branch(.ne, .bits64, nonZero, .constant(0), then: done, else: other))
            builder.position(at: other)
            let otherwise = try wideOperand(operands[3])
            builder.emit(.copy(low, otherwise.low))
            builder.emit(.copy(high, otherwise.high))
            builder.fallThrough(to: done)
            return WideValue(low: .temp(low), high: .temp(high))
        case CXCursor_DeclRefExpr, CXCursor_MemberRefExpr, CXCursor_ArraySubscriptExpr, CXCursor_CompoundLiteralExpr:
            return try wideLoad(e)
        case CXCursor_InitListExpr:
            guard let first = operands.first else { return WideValue(0) }
            return try wideRvalue(first)
        case CXCursor_UnaryOperator:
            return try wideUnary(e)
        case CXCursor_BinaryOperator where operands.count == 2:
            switch e.binaryOperator {
            case CXBinaryOperator_Assign:
                let place = try lvalue(operands[0])
                let value = try wideRvalue(operands[1])
                builder.location = e.location
                try wideStore(value, to: place, flags: accessFlags(of: operands[0]), at: operands[0])
                return value
            case CXBinaryOperator_Comma:
                try discard(operands[0])
                return try wideRvalue(operands[1])
            default:
                let a = try wideRvalue(operands[0])
                return try wideArithmetic(e.binaryOperator, a, operands[1], isSigned: wideSignedness(e.type) ?? false, at: e)
            }
        case CXCursor_CompoundAssignOperator:
            return try wideCompoundAssign(e)
        case CXCursor_ConditionalOperator where operands.count == 3:
            let low = temp(), high = temp()
            let thenBlock = builder.makeBlock(), elseBlock = builder.makeBlock(), done = builder.makeBlock()
            try branch(on: operands[0], then: thenBlock, else: elseBlock)
            for (block, arm) in [(thenBlock, operands[1]), (elseBlock, operands[2])] {
                builder.position(at: block)
                let value = try wideRvalue(arm)
                builder.emit(.copy(low, value.low))
                builder.emit(.copy(high, value.high))
                builder.fallThrough(to: done)
            }
            builder.position(at: done)
            return WideValue(low: .temp(low), high: .temp(high))
        case CXCursor_CallExpr:
            // Returned as a struct is, into the caller's memory: a static function returning one
            // is inlined (FunctionLowering).
            let slot = builder.makeSlot(size: 16, alignment: 8, name: "(returned 128-bit integer)")
            _ = try call(e, returningInto: slot)
            return try wideLoad(.memory(.slot(slot, offset: 0), addressSpace: 0), flags: AccessFlags(), at: e)
        case CXCursor_StmtExpr:
            return try withStatementExpression(e) { this, last throws(DiagnosticList) in
                guard let last, last.isExpression else { throw this.failure("statement expression has no value", at: e) }
                return try this.wideRvalue(last)
            }
        default:
            throw failure("128-bit integer expression '\(sourceText(e))' is not supported", at: e)
        }
    }

    /// An operand converted to a 128-bit type: a 128-bit one as it is, a narrower integer
    /// sign-extended when its type is signed (C's conversion keeps its value), zero-extended otherwise.
    mutating func wideOperand(_ e: CXCursor) throws(DiagnosticList) -> WideValue {
        if isWide(e.type) { return try wideRvalue(e) }
        let value = try rvalue(e)
        return widen(value, from: try scalar(e.type, at: e))
    }

    /// A normalized 64-bit value as a 128-bit one.
    mutating func widen(_ value: Value, from: Scalar) -> WideValue {
        guard from.isSigned else { return WideValue(low: value, high: .constant(0)) }
        if case .constant(let c) = value { return WideValue(low: value, high: .constant(c >> 63)) }
        return WideValue(low: value, high: emit { .binary($0, .ashr, .bits64, value, .constant(63)) })
    }

    /// A 128-bit value converted to a narrower type: its low bits, normalized; non-zero-ness for `_Bool`.
    mutating func narrow(_ value: WideValue, to: Scalar) -> Value {
        if case .bool = to {
            let nonZero = truth(of: value)
            return emit { .setCondition($0, .ne, .bits64, nonZero, .constant(0)) }
        }
        return fit(value.low, to: to)
    }

    /// A value that is non-zero exactly when the 128-bit value is.
    mutating func truth(of value: WideValue) -> Value {
        emit { .binary($0, .or, .bits64, value.low, value.high) }
    }

    /// Reads a 128-bit lvalue.
    private mutating func wideLoad(_ e: CXCursor) throws(DiagnosticList) -> WideValue {
        let place = try lvalue(e)
        builder.location = e.location
        return try wideLoad(place, flags: accessFlags(of: e), at: e)
    }

    private mutating func wideLoad(_ place: LValue, flags: AccessFlags, at e: CXCursor) throws(DiagnosticList) -> WideValue {
        switch place {
        case .registerPair(let low, let high):
            return WideValue(low: .temp(low), high: .temp(high))
        case .memory(let address, let space):
            let low = emit { .load($0, address, .double, addressSpace: space, flags) }
            let high = emit { .load($0, address.advanced(by: 8), .double, addressSpace: space, flags) }
            return WideValue(low: low, high: high)
        case .bitfield, .register:
            throw notWide(place, at: e)
        }
    }

    mutating func wideStore(_ value: WideValue, to place: LValue, flags: AccessFlags, at e: CXCursor) throws(DiagnosticList) {
        switch place {
        case .registerPair(let low, let high):
            // Both halves are assigned at once: a high half read from the low register (`v << 64`)
            // is read before the low register changes.
            let newHigh = value.high == .temp(low) ? emit { .copy($0, value.high) } : value.high
            builder.emit(.copy(low, value.low))
            builder.emit(.copy(high, newHigh))
        case .memory(let address, let space):
            builder.emit(.store(address, value.low, .double, addressSpace: space, flags))
            builder.emit(.store(address.advanced(by: 8), value.high, .double, addressSpace: space, flags))
        case .bitfield, .register:
            throw notWide(place, at: e)
        }
    }

    /// The error for a 128-bit access to what holds no 128-bit object.
    private func notWide(_ place: LValue, at e: CXCursor) -> DiagnosticList {
        if case .bitfield = place { return failure("128-bit bit-field '\(sourceText(e))' is not supported", at: e) }
        return failure("'\(sourceText(e))' is no 128-bit object", at: e)
    }

    // MARK: - Operators

    private mutating func wideUnary(_ e: CXCursor) throws(DiagnosticList) -> WideValue {
        let operand = try onlyChild(e)
        let op = e.unaryOperator
        switch op {
        case CXUnaryOperator_Plus, CXUnaryOperator_Extension:
            return try wideRvalue(operand)
        case CXUnaryOperator_Minus:
            return subtract(WideValue(0), try wideRvalue(operand))
        case CXUnaryOperator_Not:
            let value = try wideRvalue(operand)
            return WideValue(low: emit { .binary($0, .xor, .bits64, value.low, .constant(-1)) },
                             high: emit { .binary($0, .xor, .bits64, value.high, .constant(-1)) })
        case CXUnaryOperator_Deref:
            return try wideLoad(e)
        case CXUnaryOperator_PreInc, CXUnaryOperator_PreDec, CXUnaryOperator_PostInc, CXUnaryOperator_PostDec:
            let place = try lvalue(operand)
            builder.location = e.location
            let flags = accessFlags(of: operand)
            var old = try wideLoad(place, flags: flags, at: operand)
            let isIncrement = op == CXUnaryOperator_PreInc || op == CXUnaryOperator_PostInc
            let new = isIncrement ? add(old, WideValue(1)) : subtract(old, WideValue(1))
            let isPrefix = op == CXUnaryOperator_PreInc || op == CXUnaryOperator_PreDec
            if !isPrefix, case .registerPair = place {
                // The old value must survive the store into the local's registers.
                let (low, high) = (old.low, old.high)
                old = WideValue(low: emit { .copy($0, low) }, high: emit { .copy($0, high) })
            }
            try wideStore(new, to: place, flags: flags, at: operand)
            return isPrefix ? new : old
        default:
            throw failure("unsupported unary operator on a 128-bit integer", at: e)
        }
    }

    /// `a op rhs` on 128 bits, `isSigned` as the result type is; `rhs` is the right operand, or
    /// the shift amount.
    private mutating func wideArithmetic(_ op: CXBinaryOperatorKind, _ a: WideValue, _ rhs: CXCursor, isSigned: Bool,
                                         at e: CXCursor) throws(DiagnosticList) -> WideValue {
        switch op {
        case CXBinaryOperator_Add:
            return add(a, try wideOperand(rhs))
        case CXBinaryOperator_Sub:
            return subtract(a, try wideOperand(rhs))
        case CXBinaryOperator_And, CXBinaryOperator_Or, CXBinaryOperator_Xor:
            let b = try wideOperand(rhs)
            builder.location = e.location
            let bitwise: BinaryOperator = op == CXBinaryOperator_And ? .and : op == CXBinaryOperator_Or ? .or : .xor
            return WideValue(low: emit { .binary($0, bitwise, .bits64, a.low, b.low) },
                             high: emit { .binary($0, bitwise, .bits64, a.high, b.high) })
        case CXBinaryOperator_Shl, CXBinaryOperator_Shr:
            let isLeft = op == CXBinaryOperator_Shl
            let amount = isWide(rhs.type) ? foldedWideConstant(rhs).map { Int64(truncatingIfNeeded: min($0, 128)) }
                                          : foldedConstant(rhs)
            guard let amount else {
                let routine = isLeft ? "__ashlti3" : isSigned ? "__ashrti3" : "__lshrti3"
                throw failure("shift of a 128-bit integer by a variable amount: clang-19 calls \(routine) for it, which a BPF program cannot call; shift by a constant",
                              at: e)
            }
            guard (0..<128).contains(amount) else {
                throw failure("shift of a 128-bit integer by \(amount): the amount must be between 0 and 127", at: rhs)
            }
            builder.location = e.location
            return isLeft ? shiftLeft(a, by: amount) : shiftRight(a, by: amount, isArithmetic: isSigned)
        case CXBinaryOperator_Mul:
            throw failure("multiplication of 128-bit integers: clang-19 calls __multi3 for it, which a BPF program cannot call", at: e)
        case CXBinaryOperator_Div:
            throw failure("division of 128-bit integers: clang-19 calls \(isSigned ? "__divti3" : "__udivti3") for it, which a BPF program cannot call",
                          at: e)
        case CXBinaryOperator_Rem:
            throw failure("remainder of 128-bit integers: clang-19 calls \(isSigned ? "__modti3" : "__umodti3") for it, which a BPF program cannot call",
                          at: e)
        default:
            throw failure("unsupported binary operator on a 128-bit integer", at: e)
        }
    }

    private mutating func add(_ a: WideValue, _ b: WideValue) -> WideValue {
        let low = emit { .binary($0, .add, .bits64, a.low, b.low) }
        // The low half wrapped around exactly when the sum is below an addend.
        let carry = emit { .setCondition($0, .ult, .bits64, low, a.low) }
        let high = emit { .binary($0, .add, .bits64, a.high, b.high) }
        return WideValue(low: low, high: emit { .binary($0, .add, .bits64, high, carry) })
    }

    private mutating func subtract(_ a: WideValue, _ b: WideValue) -> WideValue {
        let low = emit { .binary($0, .sub, .bits64, a.low, b.low) }
        let borrow = emit { .setCondition($0, .ult, .bits64, a.low, b.low) }
        let high = emit { .binary($0, .sub, .bits64, a.high, b.high) }
        return WideValue(low: low, high: emit { .binary($0, .sub, .bits64, high, borrow) })
    }

    private mutating func shiftLeft(_ value: WideValue, by amount: Int64) -> WideValue {
        switch amount {
        case 0:
            return value
        case 1..<64:
            let carried = emit { .binary($0, .lshr, .bits64, value.low, .constant(64 - amount)) }
            let shifted = emit { .binary($0, .shl, .bits64, value.high, .constant(amount)) }
            return WideValue(low: emit { .binary($0, .shl, .bits64, value.low, .constant(amount)) },
                             high: emit { .binary($0, .or, .bits64, shifted, carried) })
        case 64:
            return WideValue(low: .constant(0), high: value.low)
        default:
            return WideValue(low: .constant(0), high: emit { .binary($0, .shl, .bits64, value.low, .constant(amount - 64)) })
        }
    }

    private mutating func shiftRight(_ value: WideValue, by amount: Int64, isArithmetic: Bool) -> WideValue {
        let op: BinaryOperator = isArithmetic ? .ashr : .lshr
        switch amount {
        case 0:
            return value
        case 1..<64:
            let carried = emit { .binary($0, .shl, .bits64, value.high, .constant(64 - amount)) }
            let shifted = emit { .binary($0, .lshr, .bits64, value.low, .constant(amount)) }
            return WideValue(low: emit { .binary($0, .or, .bits64, shifted, carried) },
                             high: emit { .binary($0, op, .bits64, value.high, .constant(amount)) })
        default:
            // The high half moves down; above it, copies of the sign bit or zeros.
            let low = amount == 64 ? value.high : emit { .binary($0, op, .bits64, value.high, .constant(amount - 64)) }
            let fill = isArithmetic ? emit { .binary($0, .ashr, .bits64, value.high, .constant(63)) } : .constant(0)
            return WideValue(low: low, high: fill)
        }
    }

    /// `lhs op= rhs` where the computation is on 128 bits: the left operand is a 128-bit integer,
    /// or the right one is and the operator is no shift. The result is the value stored, widened
    /// when the left operand is narrower.
    mutating func wideCompoundAssign(_ e: CXCursor) throws(DiagnosticList) -> WideValue {
        let operands = e.children.filter { $0.isExpression }
        guard operands.count == 2 else { throw failure("malformed compound assignment", at: e) }
        let lhs = operands[0], rhs = operands[1]
        let op = FunctionLowering.arithmeticOperator(of: e.binaryOperator)
        // The usual arithmetic conversions: the 128-bit type, unsigned when either operand's is;
        // a shift computes in its left operand's type.
        let isSigned: Bool
        switch (wideSignedness(lhs.type), wideSignedness(rhs.type)) {
        case (let left?, let right?): isSigned = op == CXBinaryOperator_Shl || op == CXBinaryOperator_Shr ? left : left && right
        case (let left?, nil): isSigned = left
        case (nil, let right?): isSigned = right
        case (nil, nil): throw failure("compound assignment without a 128-bit operand", at: e)
        }
        let place = try lvalue(lhs)
        builder.location = e.location
        let flags = accessFlags(of: lhs)
        guard !isWide(lhs.type) else {
            let new = try wideArithmetic(op, try wideLoad(place, flags: flags, at: lhs), rhs, isSigned: isSigned, at: e)
            try wideStore(new, to: place, flags: flags, at: lhs)
            return new
        }
        let lhsType = try scalar(lhs.type, at: lhs)
        let old = widen(load(place, scalar: lhsType, flags: flags), from: lhsType)
        let new = narrow(try wideArithmetic(op, old, rhs, isSigned: isSigned, at: e), to: lhsType)
        store(new, to: place, scalar: lhsType, flags: flags)
        return widen(new, from: lhsType)
    }

    /// The condition and a value to compare with zero that together say whether the relational or
    /// equality expression `e`, over 128-bit operands, holds.
    mutating func wideComparison(_ e: CXCursor) throws(DiagnosticList) -> (Condition, Value) {
        let (condition, a, b) = try wideRelation(e)
        let (high, low) = halfConditions(condition)
        switch condition {
        case .eq, .ne:
            let lowDifference = emit { .binary($0, .xor, .bits64, a.low, b.low) }
            let highDifference = emit { .binary($0, .xor, .bits64, a.high, b.high) }
            return (condition, emit { .binary($0, .or, .bits64, lowDifference, highDifference) })
        case .ult, .ule, .ugt, .uge, .slt, .sle, .sgt, .sge:
            let highDecides = emit { .setCondition($0, high, .bits64, a.high, b.high) }
            let highEqual = emit { .setCondition($0, .eq, .bits64, a.high, b.high) }
            let lowDecides = emit { .setCondition($0, low, .bits64, a.low, b.low) }
            let tie = emit { .binary($0, .and, .bits64, highEqual, lowDecides) }
            return (.ne, emit { .binary($0, .or, .bits64, highDecides, tie) })
        }
    }

    /// Branches to `then` when the relational or equality expression `e`, over 128-bit operands,
    /// holds: on the high halves, then, when they are equal, on the low ones.
    mutating func wideBranch(_ e: CXCursor, then: BlockID, else otherwise: BlockID) throws(DiagnosticList) {
        let (condition, a, b) = try wideRelation(e)
        let (high, low) = halfConditions(condition)
        let lowTest = builder.makeBlock()
        switch condition {
        case .eq:
            builder.terminate(.branch(.ne, .bits64, a.high, b.high, then: otherwise, else: lowTest))
        case .ne:
            builder.terminate(.branch(.ne, .bits64, a.high, b.high, then: then, else: lowTest))
        case .ult, .ule, .ugt, .uge, .slt, .sle, .sgt, .sge:
            let highsDiffer = builder.makeBlock()
            builder.terminate(.branch(high, .bits64, a.high, b.high, then: then, else: highsDiffer))
            builder.position(at: highsDiffer)
            builder.terminate(.branch(.ne, .bits64, a.high, b.high, then: otherwise, else: lowTest))
        }
        builder.position(at: lowTest)
        builder.terminate(.branch(low, .bits64, a.low, b.low, then: then, else: otherwise))
    }

    /// What the relational or equality expression `e` over 128-bit operands tests, and its operands.
    private mutating func wideRelation(_ e: CXCursor) throws(DiagnosticList) -> (Condition, WideValue, WideValue) {
        let operands = e.children.filter { $0.isExpression }
        guard operands.count == 2 else { throw failure("malformed comparison", at: e) }
        let a = try wideOperand(operands[0])
        let b = try wideOperand(operands[1])
        builder.location = e.location
        return (relation(e.binaryOperator, signed: wideSignedness(operands[0].type) ?? false), a, b)
    }

    /// The tests on each half that make up `condition`. An ordering is decided by the high halves
    /// when they differ, with its signedness (`high` is the strict form), and by the low halves
    /// when they are equal, unsigned, since the low half carries no sign. Equality tests both alike.
    private func halfConditions(_ condition: Condition) -> (high: Condition, low: Condition) {
        switch condition {
        case .eq, .ne: return (condition, condition)
        case .ult, .ule: return (.ult, condition)
        case .ugt, .uge: return (.ugt, condition)
        case .slt: return (.slt, .ult)
        case .sle: return (.slt, .ule)
        case .sgt: return (.sgt, .ugt)
        case .sge: return (.sgt, .uge)
        }
    }
}
