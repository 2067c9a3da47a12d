import BPFDiagnostics
import BPFIR
import CClang

// Expressions: every C integer operator with C's semantics. libclang shows implicit conversions
// as UnexposedExpr nodes (libclang-c-subset.md §2) but hides three things we recompute here: the
// computation type of compound assignment, pointer scaling, and conversion of conditions to bool.

extension FunctionLowering {
    // MARK: - Types

    func scalar(_ type: CXType, at cursor: CXCursor) throws(DiagnosticList) -> Scalar {
        switch module.types.classifyAsValue(type) {
        case .scalar(let s): return s
        case .wide:
            throw failure("128-bit integer '\(sourceText(cursor))' where BPF needs a 64-bit value: 128-bit integers are computed as two halves only in assignments, conversions, +, -, &, |, ^, ~, shifts by a constant, comparisons and conditions",
                          at: cursor)
        case .unsupported(let what): throw failure("\(what)", at: cursor)
        case .void, .aggregate, .function:
            throw failure("expected a scalar value, found '\(type.spelling)'", at: cursor)
        }
    }

    /// How a load or store of the lvalue `e` may be moved or merged (see `AccessFlags`): volatile as
    /// its type says; typed when clang's type-based alias analysis would give it a type of its own.
    func accessFlags(of e: CXCursor) -> AccessFlags {
        // An `_Atomic` object is read and written as seq_cst atomic loads and stores (C11 6.2.6.1p9).
        let isAtomic = e.type.canonical.kind == CXType_Atomic
        return AccessFlags(isVolatile: isVolatile(e) || isAtomic,
                           isTyped: module.strictAliasing && hasOwnAliasType(e.type) && !isInsideUnion(e),
                           isOrdered: isAtomic)
    }

    /// Whether the lvalue `e` is volatile. libclang drops the qualifiers of a type that also has an
    /// address space (`*p` of `volatile char __arena *p` has type `__arena char`), but the pointer
    /// type the lvalue comes from keeps them in its pointee, so they are read there.
    private func isVolatile(_ e: CXCursor) -> Bool {
        if e.type.isVolatile || e.type.canonical.isVolatile { return true }
        let operands = e.children.filter(\.isExpression)
        switch e.kind {
        case CXCursor_ParenExpr:
            return operands.first.map(isVolatile) ?? false
        case CXCursor_UnaryOperator where e.unaryOperator == CXUnaryOperator_Deref:
            return operands.first?.type.canonical.pointee.isVolatile ?? false
        case CXCursor_ArraySubscriptExpr:
            // `p[i]` or `i[p]`: the pointer operand (an array has decayed to one) names the element.
            return operands.contains { $0.type.canonical.kind == CXType_Pointer && $0.type.canonical.pointee.isVolatile }
        case CXCursor_MemberRefExpr:
            guard let base = operands.first else { return false }
            let baseType = base.type.canonical
            return baseType.kind == CXType_Pointer ? baseType.pointee.isVolatile : isVolatile(base)
        default:
            return false
        }
    }

    /// Integers of two bytes or more and pointers: character types may alias anything, C leaves an
    /// enum's compatible integer type open (clang treats enums as characters), and a typedef marked
    /// `may_alias` opts out.
    private func hasOwnAliasType(_ type: CXType) -> Bool {
        var type = type
        while true {
            switch type.kind {
            case CXType_Typedef:
                let declaration = type.declaration
                if clang_Cursor_hasAttrs(declaration) != 0, declaration.prettyPrinted.contains("may_alias") { return false }
                type = clang_getTypedefDeclUnderlyingType(declaration)
            case CXType_Elaborated:
                type = clang_Type_getNamedType(type)
            default:
                switch type.canonical.kind {
                case CXType_Short, CXType_UShort, CXType_Int, CXType_UInt, CXType_Long, CXType_ULong,
                     CXType_LongLong, CXType_ULongLong, CXType_Pointer:
                    return true
                default:
                    return false
                }
            }
        }
    }

    /// The lvalue is a union member, or part of one (`u.s.x`, `u.a[i]`): clang lets such accesses
    /// alias anything, which is what makes type punning through unions work.
    private func isInsideUnion(_ e: CXCursor) -> Bool {
        var e = e
        while true {
            switch e.kind {
            case CXCursor_ParenExpr, CXCursor_UnexposedExpr:
                guard let inner = e.children.first(where: { $0.isExpression }) else { return false }
                e = inner
            case CXCursor_MemberRefExpr:
                if clang_getCursorSemanticParent(e.referenced).kind == CXCursor_UnionDecl { return true }
                guard let base = e.children.first(where: { $0.isExpression }),
                      base.type.canonical.kind != CXType_Pointer else { return false }
                e = base
            case CXCursor_ArraySubscriptExpr:
                // Only an array member's element is part of the enclosing object; through a
                // pointer, the element is an object of its own.
                guard let base = e.children.first(where: { $0.isExpression }) else { return false }
                var array = base
                while array.kind == CXCursor_UnexposedExpr || array.kind == CXCursor_ParenExpr,
                      let inner = array.children.first(where: { $0.isExpression }) { array = inner }
                guard array.type.canonical.kind == CXType_ConstantArray else { return false }
                e = array
            default:
                return false
            }
        }
    }

    /// The type of an integer promotion (C11 6.3.1.1): anything narrower than int becomes int.
    func promoted(_ s: Scalar) -> Scalar {
        switch s {
        case .bool: return .integer(size: 4, isSigned: true)
        case .integer(let size, _) where size < 4: return .integer(size: 4, isSigned: true)
        case .integer, .pointer: return s
        }
    }

    /// The usual arithmetic conversions (C11 6.3.1.8) for LP64.
    func commonType(_ a: Scalar, _ b: Scalar) -> Scalar {
        let x = promoted(a), y = promoted(b)
        if x.size != y.size { return x.size > y.size ? x : y }
        return .integer(size: x.size, isSigned: x.isSigned && y.isSigned)
    }

    // MARK: - Conversions

    /// Re-normalizes a value computed in 64 bits to the width and signedness of `to`.
    mutating func fit(_ value: Value, to: Scalar) -> Value {
        if case .bool = to {
            if case .constant(let c) = value { return .constant(c != 0 ? 1 : 0) }
            return emit { .setCondition($0, .ne, .bits64, value, .constant(0)) }
        }
        guard to.size < 8 else { return value }
        let bits = to.size * 8
        if case .constant(let c) = value {
            let shift = Int64(64 - bits)
            return .constant(to.isSigned ? (c << shift) >> shift : Int64(bitPattern: UInt64(bitPattern: c << shift) >> UInt64(shift)))
        }
        if to.isSigned {
            return emit { .signExtend($0, value, fromBits: bits) }
        }
        return emit { .zeroExtend($0, value, fromBits: bits) }
    }

    /// Converts a normalized value of type `from` to type `to`, emitting only what changes bits.
    mutating func convert(_ value: Value, from: Scalar, to: Scalar, at cursor: CXCursor) -> Value {
        switch (from, to) {
        case (_, .bool):
            if case .bool = from { return value }
            return fit(value, to: .bool)
        case (.pointer(_, let fromSpace), .pointer(_, let toSpace)):
            if fromSpace == toSpace { return value }
            return emit { .addrSpaceCast($0, value, to: toSpace, from: fromSpace) }
        default:
            break
        }
        if to.size == 8 { return value }
        if from.size < to.size && (!from.isSigned || to.isSigned) { return value }
        if from.size == to.size && from.isSigned == to.isSigned { return value }
        return fit(value, to: to)
    }

    // MARK: - Rvalues

    /// Lowers an expression for its value (a normalized scalar).
    mutating func rvalue(_ e: CXCursor) throws(DiagnosticList) -> Value {
        builder.location = e.location
        if let constant = foldedConstant(e) { return .constant(constant) }
        switch e.kind {
        case CXCursor_ParenExpr:
            return try rvalue(onlyChild(e))
        case CXCursor_UnexposedExpr:
            return try unexposed(e)
        case CXCursor_DeclRefExpr, CXCursor_MemberRefExpr, CXCursor_ArraySubscriptExpr:
            return try loadExpression(e)
        case CXCursor_CStyleCastExpr:
            return try explicitCast(e)
        case CXCursor_UnaryOperator:
            return try unary(e)
        case CXCursor_BinaryOperator:
            return try binary(e)
        case CXCursor_CompoundAssignOperator:
            return try compoundAssign(e)
        case CXCursor_ConditionalOperator:
            return try conditional(e)
        case CXCursor_CallExpr:
            return try call(e)
        case CXCursor_StmtExpr:
            return try statementExpression(e)
        case CXCursor_InitListExpr:
            guard let first = e.children.first(where: { $0.isExpression }) else { return .constant(0) }
            return try rvalue(first)
        case CXCursor_FloatingLiteral:
            throw failure("floating-point constant: BPF has no floating-point instructions", at: e)
        case CXCursor_GenericSelectionExpr:
            throw failure("_Generic selecting a non-constant expression is not supported", at: e)
        default:
            throw failure("unsupported expression '\(sourceText(e))'", at: e)
        }
    }

    /// Evaluates an expression for its side effects only.
    mutating func discard(_ e: CXCursor) throws(DiagnosticList) {
        // `(void)bpf_iter_num_destroy` (libbpf's bpf_for names the kfunc so): nothing to evaluate.
        var designator = e
        while designator.kind == CXCursor_UnexposedExpr || designator.kind == CXCursor_ParenExpr,
              let inner = designator.children.last(where: { $0.isExpression }) {
            designator = inner
        }
        if designator.kind == CXCursor_DeclRefExpr && designator.referenced.kind == CXCursor_FunctionDecl { return }
        if isWide(e.type) {
            _ = try wideRvalue(e)
            return
        }
        if e.type.canonical.kind == CXType_Void || isAggregate(e.type) {
            try effect(e)
        } else {
            _ = try rvalue(e)
        }
    }

    /// Lowers void and aggregate-valued expressions used as statements.
    private mutating func effect(_ e: CXCursor) throws(DiagnosticList) {
        switch e.kind {
        case CXCursor_CallExpr where isAggregate(e.type):
            _ = try aggregateAddress(e)
        case CXCursor_CallExpr:
            _ = try call(e)
        case CXCursor_BinaryOperator where e.binaryOperator == CXBinaryOperator_Assign:
            _ = try binary(e)
        case CXCursor_BinaryOperator where e.binaryOperator == CXBinaryOperator_Comma:
            let parts = e.children
            try discard(parts[0])
            try discard(parts[1])
        case CXCursor_ParenExpr:
            try discard(onlyChild(e))
        case CXCursor_CStyleCastExpr:
            if let operand = e.children.last(where: { $0.isExpression }) { try discard(operand) }
        case CXCursor_ConditionalOperator:
            _ = try conditional(e)
        case CXCursor_StmtExpr:
            _ = try statementExpression(e)
        case CXCursor_UnexposedExpr:
            if let atomic = atomicBuiltinName(e) {
                _ = try atomicBuiltin(atomic, e)
            } else if let only = e.children.last(where: { $0.isExpression }) {
                try discard(only)
            }
        default:
            if isAggregate(e.type) { _ = try aggregateAddress(e) } else { _ = try rvalue(e) }
        }
    }

    func isAggregate(_ type: CXType) -> Bool {
        if case .aggregate = module.types.classify(type) { return true }
        return false
    }

    func onlyChild(_ e: CXCursor) throws(DiagnosticList) -> CXCursor {
        guard let child = e.children.last(where: { $0.isExpression }) else {
            throw failure("malformed expression", at: e)
        }
        return child
    }

    /// An integer constant clang can fold, unless evaluating it would drop a side effect.
    func foldedConstant(_ e: CXCursor) -> Int64? {
        switch e.kind {
        case CXCursor_IntegerLiteral, CXCursor_CharacterLiteral, CXCursor_UnaryExpr:
            return e.integerConstant
        case CXCursor_DeclRefExpr:
            return e.referenced.kind == CXCursor_EnumConstantDecl ? e.integerConstant : nil
        case CXCursor_InitListExpr, CXCursor_StringLiteral, CXCursor_StmtExpr:
            return nil
        default:
            break
        }
        guard case .scalar(let s) = module.types.classify(e.type) else { return nil }
        if case .pointer = s, e.kind != CXCursor_CStyleCastExpr && e.kind != CXCursor_UnexposedExpr { return nil }
        guard !readsVariable(e), !hasSideEffects(e), let value = e.integerConstant else { return nil }
        return value
    }

    /// Whether `e` is an integer computed, through operators that need every operand's value, from
    /// a variable that is not `const`, which no constant evaluation can read. False when unsure.
    ///
    /// Lowering asks `foldedConstant` of every subexpression on its way down, and clang evaluates
    /// (as `hasSideEffects` walks) the whole subexpression each time: remembering what this finds
    /// keeps a sum of N terms from costing N² (each answer takes its operands' answers).
    private func readsVariable(_ e: CXCursor) -> Bool {
        let key = CursorKey(e)
        if let known = expressionFacts.readsVariable[key] { return known }
        let isInteger = { (e: CXCursor) -> Bool in
            switch module.types.classify(e.type) {
            case .scalar(.integer), .scalar(.bool): return true
            case .scalar(.pointer), .aggregate, .void, .function, .wide, .unsupported: return false
            }
        }
        var result = false
        if isInteger(e) {
            switch e.kind {
            case CXCursor_DeclRefExpr:
                let variable = e.referenced
                result = (variable.kind == CXCursor_VarDecl || variable.kind == CXCursor_ParmDecl)
                    && !variable.type.isConst
            case CXCursor_BinaryOperator where FunctionLowering.operandsAlwaysEvaluated.contains(e.binaryOperator):
                let operands = e.children.filter { $0.isExpression }
                result = operands.count == 2 && operands.allSatisfy(isInteger) && operands.contains { readsVariable($0) }
            case CXCursor_UnaryOperator where FunctionLowering.operandAlwaysEvaluated.contains(e.unaryOperator),
                 CXCursor_ParenExpr, CXCursor_CStyleCastExpr, CXCursor_UnexposedExpr:
                // An unexposed expression with one operand is an implicit conversion.
                let operands = e.children.filter { $0.isExpression }
                result = operands.count == 1 && isInteger(operands[0]) && readsVariable(operands[0])
            default:
                break
            }
        }
        expressionFacts.readsVariable[key] = result
        return result
    }

    /// Binary operators whose value needs both operands' (not `&&`, `||`, `,`, assignments).
    private static let operandsAlwaysEvaluated: [CXBinaryOperatorKind] = [
        CXBinaryOperator_Mul, CXBinaryOperator_Div, CXBinaryOperator_Rem, CXBinaryOperator_Add, CXBinaryOperator_Sub,
        CXBinaryOperator_Shl, CXBinaryOperator_Shr, CXBinaryOperator_LT, CXBinaryOperator_GT, CXBinaryOperator_LE,
        CXBinaryOperator_GE, CXBinaryOperator_EQ, CXBinaryOperator_NE, CXBinaryOperator_And, CXBinaryOperator_Xor,
        CXBinaryOperator_Or,
    ]

    /// Unary operators whose value needs the operand's (not `&`, `*`, `++`, `--`).
    private static let operandAlwaysEvaluated: [CXUnaryOperatorKind] = [
        CXUnaryOperator_Plus, CXUnaryOperator_Minus, CXUnaryOperator_Not, CXUnaryOperator_LNot,
    ]

    private func hasSideEffects(_ e: CXCursor) -> Bool {
        let key = CursorKey(e)
        if let known = expressionFacts.hasSideEffects[key] { return known }
        let result: Bool
        switch e.kind {
        case CXCursor_CallExpr where FunctionLowering.pureBuiltins.contains(calledDeclaration(e)?.spelling ?? ""):
            result = e.children.contains { hasSideEffects($0) }
        case CXCursor_CallExpr, CXCursor_CompoundAssignOperator, CXCursor_StmtExpr:
            result = true
        case CXCursor_BinaryOperator where e.binaryOperator == CXBinaryOperator_Assign:
            result = true
        case CXCursor_UnaryOperator where [CXUnaryOperator_PreInc, CXUnaryOperator_PreDec, CXUnaryOperator_PostInc,
                                           CXUnaryOperator_PostDec].contains(e.unaryOperator):
            result = true
        default:
            result = e.children.contains { hasSideEffects($0) }
        }
        expressionFacts.hasSideEffects[key] = result
        return result
    }

    /// Implicit conversions (and the few other expressions libclang leaves unexposed).
    private mutating func unexposed(_ e: CXCursor) throws(DiagnosticList) -> Value {
        if let atomic = atomicBuiltinName(e) { return try atomicBuiltin(atomic, e) }
        let kids = e.children.filter { $0.isExpression }
        guard kids.count == 1, let child = kids.first else {
            if kids.count == 4 {
                // GNU `a ?: b`: the common expression, two copies of it, then b.
                return try elvis(common: kids[0], otherwise: kids[3], type: e.type, at: e)
            }
            throw failure("unsupported expression", at: e)
        }
        let target = e.type
        let source = child.type
        switch source.canonical.kind {
        case CXType_ConstantArray, CXType_IncompleteArray:
            // Array to pointer decay.
            return try decay(child)
        case CXType_FunctionProto, CXType_FunctionNoProto:
            if let address = try kernelFunctionAddress(child) { return address }
            throw failure("function '\(child.spelling)' used as a value: BPF cannot call through function pointers",
                          at: e)
        default:
            break
        }
        if isLValueExpression(child) && sameUnqualified(source, target) {
            return try loadExpression(child)
        }
        if target.canonical.kind == CXType_Void { try discard(child); return .constant(0) }
        if isWide(source) { return narrow(try wideRvalue(child), to: try scalar(target, at: e)) }
        let value = try rvalue(child)
        return convert(value, from: try scalar(source, at: child), to: try scalar(target, at: e), at: e)
    }

    /// The address of a kfunc (`bpf_ksym_exists(bpf_foo)` is `!!bpf_foo`): the loader makes it
    /// the kernel function's address, or 0 for a weak kfunc the kernel lacks. Nil when
    /// `function` names no kfunc.
    private mutating func kernelFunctionAddress(_ function: CXCursor) throws(DiagnosticList) -> Value? {
        var reference = function
        while reference.kind == CXCursor_ParenExpr || reference.kind == CXCursor_UnexposedExpr,
              let inner = reference.children.last(where: { $0.isExpression }) {
            reference = inner
        }
        let declaration = reference.referenced
        guard reference.kind == CXCursor_DeclRefExpr, module.isKernelFunction(declaration) else { return nil }
        module.useExtern(declaration, kind: .function, section: ".ksyms")
        builder.location = function.location
        return emit { .symbolAddress($0, symbol: declaration.spelling, offset: 0) }
    }

    private func sameUnqualified(_ a: CXType, _ b: CXType) -> Bool {
        clang_getUnqualifiedType(a.canonical).spelling == clang_getUnqualifiedType(b.canonical).spelling
    }

    func isLValueExpression(_ e: CXCursor) -> Bool {
        switch e.kind {
        case CXCursor_DeclRefExpr:
            let r = e.referenced.kind
            return r == CXCursor_VarDecl || r == CXCursor_ParmDecl
        case CXCursor_MemberRefExpr, CXCursor_ArraySubscriptExpr, CXCursor_CompoundLiteralExpr, CXCursor_StringLiteral:
            return true
        case CXCursor_UnaryOperator:
            return e.unaryOperator == CXUnaryOperator_Deref
        case CXCursor_ParenExpr:
            return e.children.first.map(isLValueExpression) ?? false
        default:
            return false
        }
    }

    /// The value of an lvalue expression.
    mutating func loadExpression(_ e: CXCursor) throws(DiagnosticList) -> Value {
        if e.type.canonical.kind == CXType_ConstantArray || e.type.canonical.kind == CXType_IncompleteArray {
            return try decay(e)
        }
        var reference = e
        while reference.kind == CXCursor_ParenExpr, let inner = reference.children.first { reference = inner }
        if reference.kind == CXCursor_DeclRefExpr, locals[CursorKey(reference.referenced)] == nil,
           let initializer = module.foldableInitializer(of: reference.referenced) {
            // The address the pointer always holds, computed where it is read.
            return try rvalue(initializer)
        }
        let s = try scalar(e.type, at: e)
        let place = try lvalue(e)
        builder.location = e.location
        return load(place, scalar: s, flags: accessFlags(of: e))
    }

    /// An array used as a pointer to its first element.
    private mutating func decay(_ array: CXCursor) throws(DiagnosticList) -> Value {
        var reference = array
        while reference.kind == CXCursor_ParenExpr, let inner = reference.children.first { reference = inner }
        if reference.kind == CXCursor_DeclRefExpr && reference.referenced.kind == CXCursor_ParmDecl {
            // An array parameter holds the pointer C adjusted it to.
            return load(try lvalue(reference), scalar: try scalar(array.type, at: array))
        }
        guard case .memory(let address, _) = try lvalue(array) else {
            throw failure("array in a register", at: array)
        }
        return addressValue(address)
    }

    private mutating func explicitCast(_ e: CXCursor) throws(DiagnosticList) -> Value {
        let operand = try onlyChild(e)
        if e.type.canonical.kind == CXType_Void {
            try discard(operand)
            return .constant(0)
        }
        let to = try scalar(e.type, at: e)
        if isWide(operand.type) { return narrow(try wideRvalue(operand), to: to) }
        let value = try rvalue(operand)
        let from = try scalar(operand.type, at: operand)
        return convert(value, from: from, to: to, at: e)
    }

    // MARK: - Operators

    private mutating func unary(_ e: CXCursor) throws(DiagnosticList) -> Value {
        let operand = try onlyChild(e)
        switch e.unaryOperator {
        case CXUnaryOperator_Plus, CXUnaryOperator_Extension:
            return try rvalue(operand)
        case CXUnaryOperator_Minus:
            let s = try scalar(e.type, at: e)
            let v = try rvalue(operand)
            // As for signed addition: negating INT_MIN is undefined, so no re-normalization.
            if s.isSigned { return emit { .negate($0, .bits64, v) } }
            return fit(emit { .negate($0, s.size == 8 ? .bits64 : .bits32, v) }, to: s)
        case CXUnaryOperator_Not:
            let s = try scalar(e.type, at: e)
            let v = try rvalue(operand)
            return fit(emit { .binary($0, .xor, .bits64, v, .constant(-1)) }, to: s)
        case CXUnaryOperator_LNot:
            let v = try truthValue(operand)
            return emit { .setCondition($0, .eq, .bits64, v, .constant(0)) }
        case CXUnaryOperator_AddrOf:
            if operand.type.canonical.kind == CXType_FunctionProto {
                if let address = try kernelFunctionAddress(operand) { return address }
                throw failure("address of function '\(operand.spelling)': BPF cannot call through function pointers",
                              at: e)
            }
            guard case .memory(let address, _) = try lvalue(operand) else {
                throw failure("cannot take the address of a register value", at: e)
            }
            return addressValue(address)
        case CXUnaryOperator_Deref:
            return try loadExpression(e)
        case CXUnaryOperator_PreInc, CXUnaryOperator_PreDec, CXUnaryOperator_PostInc, CXUnaryOperator_PostDec:
            return try increment(e, operand: operand)
        default:
            throw failure("unsupported unary operator", at: e)
        }
    }

    private mutating func increment(_ e: CXCursor, operand: CXCursor) throws(DiagnosticList) -> Value {
        let op = e.unaryOperator
        let isIncrement = op == CXUnaryOperator_PreInc || op == CXUnaryOperator_PostInc
        let isPrefix = op == CXUnaryOperator_PreInc || op == CXUnaryOperator_PreDec
        if operand.type.canonical.kind == CXType_Atomic {
            return try updateAtomicObject(operand, isIncrement ? "add" : "sub", .constant(1),
                                          from: .integer(size: 4, isSigned: true), givesNewValue: isPrefix, at: e)
        }
        let s = try scalar(operand.type, at: operand)
        let place = try lvalue(operand)
        builder.location = e.location
        let flags = accessFlags(of: operand)
        let old = load(place, scalar: s, flags: flags)
        let step: Int64
        if case .pointer(let elementSize, _) = s { step = Int64(elementSize) } else { step = 1 }
        let raw = emit { .binary($0, isIncrement ? .add : .sub, .bits64, old, .constant(step)) }
        // An int or long cannot overflow in a defined program; narrower types and unsigned wrap.
        let new = s.isSigned && s.size >= 4 ? raw : fit(raw, to: s)
        // A post-increment's old value must survive the store when the local is a register.
        let result: Value
        if !isPrefix, case .register = place, case .temp = old {
            result = emit { .copy($0, old) }
        } else {
            result = isPrefix ? new : old
        }
        store(new, to: place, scalar: s, flags: flags)
        return result
    }

    private mutating func binary(_ e: CXCursor) throws(DiagnosticList) -> Value {
        let kids = e.children.filter { $0.isExpression }
        guard kids.count == 2 else { throw failure("malformed binary expression", at: e) }
        let lhs = kids[0], rhs = kids[1]
        let op = e.binaryOperator
        switch op {
        case CXBinaryOperator_Assign:
            return try assign(lhs, rhs, at: e)
        case CXBinaryOperator_Comma:
            try discard(lhs)
            if isAggregate(rhs.type) || rhs.type.canonical.kind == CXType_Void {
                try discard(rhs)
                return .constant(0)
            }
            return try rvalue(rhs)
        case CXBinaryOperator_LAnd, CXBinaryOperator_LOr:
            return try logical(e)
        case CXBinaryOperator_LT, CXBinaryOperator_GT, CXBinaryOperator_LE, CXBinaryOperator_GE,
             CXBinaryOperator_EQ, CXBinaryOperator_NE:
            let (condition, width, a, b) = try comparison(e)
            return emit { .setCondition($0, condition, width, a, b) }
        default:
            let a = try rvalue(lhs)
            let b = try rvalue(rhs)
            builder.location = e.location
            return try arithmetic(op, a, try scalar(lhs.type, at: lhs), b, try scalar(rhs.type, at: rhs),
                                  result: try scalar(e.type, at: e), at: e)
        }
    }

    /// `a OP b` where both operands already have their converted types (as libclang shows them).
    mutating func arithmetic(_ op: CXBinaryOperatorKind, _ a: Value, _ aType: Scalar, _ b: Value, _ bType: Scalar,
                             result: Scalar, at e: CXCursor) throws(DiagnosticList) -> Value {
        // Pointer arithmetic: libclang does not scale the integer (libclang-c-subset.md §1).
        switch (aType, bType) {
        case (.pointer(let size, _), .pointer):
            guard op == CXBinaryOperator_Sub else { throw failure("invalid pointer arithmetic", at: e) }
            let bytes = emit { .binary($0, .sub, .bits64, a, b) }
            return divideExactly(bytes, by: size)
        case (.pointer(let size, _), _):
            let offset = scaled(b, by: size)
            switch op {
            case CXBinaryOperator_Add:
                return emit { .binary($0, .add, .bits64, a, offset) }
            case CXBinaryOperator_Sub:
                // Adding the negated offset: the verifier refuses any subtraction from a stack
                // pointer ("subtraction from stack pointer prohibited").
                let negated: Value
                if case .constant(let c) = offset { negated = .constant(0 &- c) } else {
                    negated = emit { .negate($0, .bits64, offset) }
                }
                return emit { .binary($0, .add, .bits64, a, negated) }
            default:
                throw failure("invalid pointer arithmetic", at: e)
            }
        case (_, .pointer(let size, _)):
            let offset = scaled(a, by: size)
            return emit { .binary($0, .add, .bits64, b, offset) }
        default:
            break
        }
        let width: ALUWidth = result.size == 8 ? .bits64 : .bits32
        let signed = result.isSigned
        switch op {
        // Signed overflow is undefined in C, so a signed result computed exactly in 64 bits from
        // normalized operands is already normalized whenever the program is defined; unsigned
        // results wrap, which ALU32 does for free.
        case CXBinaryOperator_Add where signed: return emit { .binary($0, .add, .bits64, a, b) }
        case CXBinaryOperator_Sub where signed: return emit { .binary($0, .sub, .bits64, a, b) }
        case CXBinaryOperator_Mul where signed: return emit { .binary($0, .mul, .bits64, a, b) }
        case CXBinaryOperator_Add: return emit { .binary($0, .add, width, a, b) }
        case CXBinaryOperator_Sub: return emit { .binary($0, .sub, width, a, b) }
        case CXBinaryOperator_Mul: return emit { .binary($0, .mul, width, a, b) }
        case CXBinaryOperator_Shl where !signed: return emit { .binary($0, .shl, width, a, b) }
        case CXBinaryOperator_Shl: return fit(emit { .binary($0, .shl, width, a, b) }, to: result)
        // Normalized operands make these exact in 64 bits, with nothing to re-normalize.
        case CXBinaryOperator_Div: return emit { .binary($0, signed ? .sdiv : .udiv, .bits64, a, b) }
        case CXBinaryOperator_Rem: return emit { .binary($0, signed ? .smod : .umod, .bits64, a, b) }
        case CXBinaryOperator_Shr: return emit { .binary($0, signed ? .ashr : .lshr, .bits64, a, b) }
        // Bitwise operations keep normalized operands normalized; for unsigned int the 32-bit form
        // is the same and takes a 32-bit immediate (`w1 &= -8` rather than an ld_imm64 mask).
        case CXBinaryOperator_And: return emit { .binary($0, .and, signed ? .bits64 : width, a, b) }
        case CXBinaryOperator_Or: return emit { .binary($0, .or, signed ? .bits64 : width, a, b) }
        case CXBinaryOperator_Xor: return emit { .binary($0, .xor, signed ? .bits64 : width, a, b) }
        default: throw failure("unsupported binary operator", at: e)
        }
    }

    private mutating func scaled(_ index: Value, by size: Int) -> Value {
        if size == 1 { return index }
        if case .constant(let c) = index { return .constant(c &* Int64(size)) }
        return emit { .binary($0, .mul, .bits64, index, .constant(Int64(size))) }
    }

    private mutating func divideExactly(_ value: Value, by size: Int) -> Value {
        if size == 1 { return value }
        if size & (size - 1) == 0 {
            return emit { .binary($0, .ashr, .bits64, value, .constant(Int64(size.trailingZeroBitCount))) }
        }
        return emit { .binary($0, .sdiv, .bits64, value, .constant(Int64(size))) }
    }

    /// The condition, width and operands of a relational or equality expression. Operands of a
    /// 32-bit type compare as 32-bit values (JMP32): normalized, they order the same either way,
    /// and the 32-bit form lets the extension of a loaded `int` go away.
    mutating func comparison(_ e: CXCursor) throws(DiagnosticList) -> (Condition, ALUWidth, Value, Value) {
        let kids = e.children.filter { $0.isExpression }
        if isWide(kids[0].type) {
            let (condition, value) = try wideComparison(e)
            return (condition, .bits64, value, .constant(0))
        }
        let a = try rvalue(kids[0])
        let b = try rvalue(kids[1])
        builder.location = e.location
        let operandType = try scalar(kids[0].type, at: kids[0])
        let width: ALUWidth = operandType.size == 4 ? .bits32 : .bits64
        return (relation(e.binaryOperator, signed: operandType.isSigned), width, a, b)
    }

    /// The condition a relational or equality operator tests.
    func relation(_ op: CXBinaryOperatorKind, signed: Bool) -> Condition {
        switch op {
        case CXBinaryOperator_LT: return signed ? .slt : .ult
        case CXBinaryOperator_GT: return signed ? .sgt : .ugt
        case CXBinaryOperator_LE: return signed ? .sle : .ule
        case CXBinaryOperator_GE: return signed ? .sge : .uge
        case CXBinaryOperator_EQ: return .eq
        default: return .ne
        }
    }

    /// A value that is non-zero exactly when the scalar expression `e` is true.
    mutating func truthValue(_ e: CXCursor) throws(DiagnosticList) -> Value {
        if isWide(e.type) { return truth(of: try wideRvalue(e)) }
        return try rvalue(e)
    }

    private mutating func logical(_ e: CXCursor) throws(DiagnosticList) -> Value {
        let result = temp()
        let isTrue = builder.makeBlock(), isFalse = builder.makeBlock(), done = builder.makeBlock()
        try branch(on: e, then: isTrue, else: isFalse)
        builder.position(at: isTrue)
        builder.emit(.copy(result, .constant(1)))
        builder.terminate(.jump(done))
        builder.position(at: isFalse)
        builder.emit(.copy(result, .constant(0)))
        builder.fallThrough(to: done)
        return .temp(result)
    }

    private mutating func conditional(_ e: CXCursor) throws(DiagnosticList) -> Value {
        let kids = e.children.filter { $0.isExpression }
        guard kids.count == 3 else { throw failure("malformed conditional expression", at: e) }
        let isVoid = e.type.canonical.kind == CXType_Void || isAggregate(e.type)
        let result = temp()
        let thenBlock = builder.makeBlock(), elseBlock = builder.makeBlock(), done = builder.makeBlock()
        try branch(on: kids[0], then: thenBlock, else: elseBlock)
        for (block, arm) in [(thenBlock, kids[1]), (elseBlock, kids[2])] {
            builder.position(at: block)
            if isVoid {
                try discard(arm)
            } else {
                let v = try rvalue(arm)
                builder.emit(.copy(result, v))
            }
            builder.fallThrough(to: done)
        }
        builder.position(at: done)
        return isVoid ? .constant(0) : .temp(result)
    }

    private mutating func elvis(common: CXCursor, otherwise: CXCursor, type: CXType, at e: CXCursor) throws(DiagnosticList) -> Value {
        let result = temp()
        let v = try rvalue(common)
        let to = try scalar(type, at: e)
        builder.emit(.copy(result, convert(v, from: try scalar(common.type, at: common), to: to, at: e)))
        let other = builder.makeBlock(), done = builder.makeBlock()
        builder.terminate(.branch(.ne, .bits64, v, .constant(0), then: done, else: other))
        builder.position(at: other)
        let w = try rvalue(otherwise)
        builder.emit(.copy(result, w))
        builder.fallThrough(to: done)
        return .temp(result)
    }

    // MARK: - Assignment

    private mutating func assign(_ lhs: CXCursor, _ rhs: CXCursor, at e: CXCursor) throws(DiagnosticList) -> Value {
        if isAggregate(lhs.type) {
            let source = try aggregateAddress(rhs)
            guard case .memory(let destination, let destinationSpace) = try lvalue(lhs) else {
                throw failure("aggregate in a register", at: lhs)
            }
            builder.location = e.location
            let size = lhs.type.size ?? 0
            builder.emit(.copyMemory(destination: destination, source: source.address, size: size,
                                     alignment: min(lhs.type.alignment ?? 1, rhs.type.alignment ?? 1, 8),
                                     destinationSpace: destinationSpace, sourceSpace: source.space))
            return .constant(0)
        }
        let s = try scalar(lhs.type, at: lhs)
        let place = try lvalue(lhs)
        let value = try rvalue(rhs)
        builder.location = e.location
        store(value, to: place, scalar: s, flags: accessFlags(of: lhs))
        return value
    }

    private mutating func compoundAssign(_ e: CXCursor) throws(DiagnosticList) -> Value {
        let kids = e.children.filter { $0.isExpression }
        guard kids.count == 2 else { throw failure("malformed compound assignment", at: e) }
        let lhs = kids[0], rhs = kids[1]
        let op = FunctionLowering.arithmeticOperator(of: e.binaryOperator)
        if isWide(rhs.type) && op != CXBinaryOperator_Shl && op != CXBinaryOperator_Shr {
            return try wideCompoundAssign(e).low
        }
        let lhsType = try scalar(lhs.type, at: lhs)
        let rhsType = try scalar(rhs.type, at: rhs)
        if lhs.type.canonical.kind == CXType_Atomic {
            let operations: [CXBinaryOperatorKind: String] = [
                CXBinaryOperator_AddAssign: "add", CXBinaryOperator_SubAssign: "sub", CXBinaryOperator_AndAssign: "and",
                CXBinaryOperator_OrAssign: "or", CXBinaryOperator_XorAssign: "xor",
            ]
            return try updateAtomicObject(lhs, operations[e.binaryOperator], try rvalue(rhs), from: rhsType,
                                          givesNewValue: true, at: e)
        }
        let place = try lvalue(lhs)
        let b = try rvalue(rhs)
        builder.location = e.location
        let flags = accessFlags(of: lhs)
        let old = load(place, scalar: lhsType, flags: flags)
        let new: Value
        if case .pointer = lhsType {
            new = try arithmetic(op, old, lhsType, b, rhsType, result: lhsType, at: e)
        } else {
            // The hidden computation type: shifts use the promoted left operand, the rest the common type.
            let isShift = op == CXBinaryOperator_Shl || op == CXBinaryOperator_Shr
            let computation = isShift ? promoted(lhsType) : commonType(lhsType, rhsType)
            let a = convert(old, from: lhsType, to: computation, at: e)
            let c = isShift ? b : convert(b, from: rhsType, to: computation, at: e)
            let raw = try arithmetic(op, a, computation, c, isShift ? rhsType : computation, result: computation, at: e)
            new = convert(raw, from: computation, to: lhsType, at: e)
        }
        store(new, to: place, scalar: lhsType, flags: flags)
        return new
    }

    /// The operator a compound assignment applies (`+` for `+=`).
    static func arithmeticOperator(of compound: CXBinaryOperatorKind) -> CXBinaryOperatorKind {
        switch compound {
        case CXBinaryOperator_MulAssign: return CXBinaryOperator_Mul
        case CXBinaryOperator_DivAssign: return CXBinaryOperator_Div
        case CXBinaryOperator_RemAssign: return CXBinaryOperator_Rem
        case CXBinaryOperator_AddAssign: return CXBinaryOperator_Add
        case CXBinaryOperator_SubAssign: return CXBinaryOperator_Sub
        case CXBinaryOperator_ShlAssign: return CXBinaryOperator_Shl
        case CXBinaryOperator_ShrAssign: return CXBinaryOperator_Shr
        case CXBinaryOperator_AndAssign: return CXBinaryOperator_And
        case CXBinaryOperator_XorAssign: return CXBinaryOperator_Xor
        default: return CXBinaryOperator_Or
        }
    }

    // MARK: - Lvalues

    /// Where an lvalue expression lives.
    mutating func lvalue(_ e: CXCursor) throws(DiagnosticList) -> LValue {
        builder.location = e.location
        switch e.kind {
        case CXCursor_ParenExpr:
            return try lvalue(onlyChild(e))
        case CXCursor_DeclRefExpr:
            return try variable(e)
        case CXCursor_UnaryOperator where e.unaryOperator == CXUnaryOperator_Deref:
            let operand = try onlyChild(e)
            let pointer = register(try rvalue(operand))
            return .memory(.temp(pointer, offset: 0), addressSpace: e.type.addressSpace)
        case CXCursor_ArraySubscriptExpr, CXCursor_MemberRefExpr:
            // A chain of one pointer index alone (`p[1]`) designates no member to relocate.
            if let access = preservedAccess(e), access.path.count > 1 { return try preservedPlace(access, at: e) }
            return e.kind == CXCursor_MemberRefExpr ? try memberPlace(e) : try subscriptPlace(e)
        case CXCursor_StringLiteral:
            var bytes = stringLiteralBytes(e)
            bytes += [UInt8](repeating: 0, count: max(1, (e.type.size ?? 0) - bytes.count))
            let symbol = module.stringLiteral(bytes, type: e.type, location: e.location)
            let base = emit { .symbolAddress($0, symbol: symbol, offset: 0) }
            return .memory(.temp(register(base), offset: 0), addressSpace: 0)
        case CXCursor_CompoundLiteralExpr:
            return try compoundLiteral(e)
        case CXCursor_UnexposedExpr:
            let kids = e.children.filter { $0.isExpression }
            if kids.count == 1, sameUnqualified(kids[0].type, e.type) { return try lvalue(kids[0]) }
            throw failure("expression is not assignable", at: e)
        default:
            throw failure("'\(sourceText(e))' does not designate an object in memory", at: e)
        }
    }

    private mutating func variable(_ e: CXCursor) throws(DiagnosticList) -> LValue {
        let declaration = e.referenced
        if let local = locals[CursorKey(declaration)] { return local }
        guard declaration.kind == CXCursor_VarDecl, clang_Cursor_hasVarDeclGlobalStorage(declaration) != 0 else {
            throw failure("use of '\(e.spelling)' that is not a variable", at: e)
        }
        if module.helperNumber(declaration) != nil {
            throw failure("helper '\(e.spelling)' used as a value: BPF can only call it", at: e)
        }
        guard let symbol = module.globalSymbol(for: declaration) else {
            throw failure("use of undefined global '\(e.spelling)'", at: e)
        }
        builder.location = e.location
        let base = emit { .symbolAddress($0, symbol: symbol, offset: 0) }
        return .memory(.temp(register(base), offset: 0), addressSpace: declaration.type.addressSpace)
    }

    private mutating func subscriptPlace(_ e: CXCursor) throws(DiagnosticList) -> LValue {
        let kids = e.children.filter { $0.isExpression }
        guard kids.count == 2 else { throw failure("malformed subscript", at: e) }
        // `i[a]` is `a[i]`; the base is a pointer, or an array parameter that libclang shows as an array.
        let indexFirst: Bool
        if case .scalar(.integer) = module.types.classify(kids[0].type) { indexFirst = true } else { indexFirst = false }
        let (base, index) = indexFirst ? (kids[1], kids[0]) : (kids[0], kids[1])
        let elementSize = e.type.size ?? 1
        let space = e.type.addressSpace
        // An index into an array in memory keeps the array's place, so that a constant index folds
        // into the access's offset: `ctx->args[1]` must stay one load at ctx + 8, since the
        // verifier refuses a context pointer that was moved.
        let start: Address
        if let array = decayedArray(base), case .memory(let address, _) = try lvalue(array) {
            start = address
        } else {
            start = .temp(register(try rvalue(base)), offset: 0)
        }
        let i = try rvalue(index)
        builder.location = e.location
        // A constant index folds into the access's offset when it fits; one far past the end (clang
        // warns) is plain address arithmetic, wrapping as the machine's does.
        if case .constant(let c) = i, case (let offset, false) = c.multipliedReportingOverflow(by: Int64(elementSize)),
           let small = Int32(exactly: offset) {
            return .memory(start.advanced(by: Int(small)), addressSpace: space)
        }
        let offset = scaled(i, by: elementSize)
        let pointer = addressValue(start)
        let address = emit { .binary($0, .add, .bits64, pointer, offset) }
        return .memory(.temp(register(address), offset: 0), addressSpace: space)
    }

    /// The array expression `e` converts to a pointer, when it is an array object (not an array
    /// parameter, which holds a pointer).
    func decayedArray(_ e: CXCursor) -> CXCursor? {
        guard e.kind == CXCursor_UnexposedExpr, let array = e.children.last(where: { $0.isExpression }) else { return nil }
        let kind = array.type.canonical.kind
        guard kind == CXType_ConstantArray || kind == CXType_IncompleteArray else { return nil }
        var reference = array
        while reference.kind == CXCursor_ParenExpr, let inner = reference.children.first { reference = inner }
        if reference.kind == CXCursor_DeclRefExpr && reference.referenced.kind == CXCursor_ParmDecl { return nil }
        return array
    }

    private mutating func memberPlace(_ e: CXCursor) throws(DiagnosticList) -> LValue {
        let field = e.referenced
        guard let base = e.children.first(where: { $0.isExpression }) else {
            throw failure("malformed member access", at: e)
        }
        let baseType = base.type.canonical
        let isArrow = baseType.kind == CXType_Pointer
        let recordType = isArrow ? baseType.pointee.canonical : baseType
        // libclang leaves out some of the member expressions that step into anonymous structs and
        // unions, so the field is looked up through them, from the record the base really has.
        guard let bits = recordType.bitOffset(of: field) else {
            throw failure("cannot find member '\(field.spelling)'", at: e)
        }
        let space = e.type.addressSpace
        let record: Address
        if isArrow {
            record = .temp(register(try rvalue(base)), offset: 0)
        } else {
            record = try aggregateAddress(base).address
        }
        if clang_Cursor_isBitField(field) != 0 {
            guard let bitfield = Bitfield(field: field, recordBitOffset: bits, base: record, addressSpace: space,
                                          isSigned: try scalar(field.type, at: e).isSigned) else {
                throw failure("bitfield '\(field.spelling)' straddles its storage unit (packed struct): not supported",
                              at: e)
            }
            return .bitfield(bitfield)
        }
        return .memory(record.advanced(by: bits / 8), addressSpace: space)
    }

    /// The memory holding an aggregate-valued expression.
    mutating func aggregateAddress(_ e: CXCursor) throws(DiagnosticList) -> (address: Address, space: Int) {
        switch e.kind {
        case CXCursor_UnexposedExpr, CXCursor_ParenExpr:
            return try aggregateAddress(onlyChild(e))
        case CXCursor_CallExpr:
            guard case .aggregate(let size, let alignment) = module.types.classify(e.type) else {
                throw failure("malformed call", at: e)
            }
            let slot = builder.makeSlot(size: size, alignment: min(alignment, 8), name: "(returned struct)")
            _ = try call(e, returningInto: slot)
            return (.slot(slot, offset: 0), 0)
        case CXCursor_BinaryOperator where e.binaryOperator == CXBinaryOperator_Assign:
            _ = try binary(e)
            let kids = e.children.filter { $0.isExpression }
            return try aggregateAddress(kids[0])
        case CXCursor_BinaryOperator where e.binaryOperator == CXBinaryOperator_Comma:
            let kids = e.children.filter { $0.isExpression }
            try discard(kids[0])
            return try aggregateAddress(kids[1])
        case CXCursor_StmtExpr:
            return try withStatementExpression(e) { this, last throws(DiagnosticList) in
                guard let last, last.isExpression else { throw this.failure("statement expression has no value", at: e) }
                return try this.aggregateAddress(last)
            }
        case CXCursor_ConditionalOperator:
            return try aggregateConditional(e)
        default:
            guard case .memory(let address, let space) = try lvalue(e) else {
                throw failure("aggregate in a register", at: e)
            }
            return (address, space)
        }
    }

    /// `c ? s1 : s2` of struct or union type: the chosen arm is copied into a stack temporary,
    /// since the arms may live in different places (or address spaces).
    private mutating func aggregateConditional(_ e: CXCursor) throws(DiagnosticList) -> (address: Address, space: Int) {
        let kids = e.children.filter { $0.isExpression }
        guard kids.count == 3, case .aggregate(let size, let alignment) = module.types.classify(e.type) else {
            throw failure("malformed conditional expression", at: e)
        }
        let slot = builder.makeSlot(size: size, alignment: min(alignment, 8), name: "(conditional)")
        let thenBlock = builder.makeBlock(), elseBlock = builder.makeBlock(), done = builder.makeBlock()
        try branch(on: kids[0], then: thenBlock, else: elseBlock)
        for (block, arm) in [(thenBlock, kids[1]), (elseBlock, kids[2])] {
            builder.position(at: block)
            let source = try aggregateAddress(arm)
            builder.location = arm.location
            builder.emit(.copyMemory(destination: .slot(slot, offset: 0), source: source.address, size: size,
                                     alignment: min(alignment, 8), destinationSpace: 0, sourceSpace: source.space))
            builder.fallThrough(to: done)
        }
        builder.position(at: done)
        return (.slot(slot, offset: 0), 0)
    }

    private mutating func compoundLiteral(_ e: CXCursor) throws(DiagnosticList) -> LValue {
        guard let list = e.children.last(where: { $0.isExpression }) else {
            throw failure("malformed compound literal", at: e)
        }
        // A compound literal is an object, even a scalar one: `&(__u32){0}` is a common key for
        // bpf_map_lookup_elem. Load forwarding keeps a scalar one whose address is not taken in
        // a register.
        let storage: LValue
        switch module.types.classify(e.type) {
        case .scalar(let s):
            let slot = builder.makeSlot(size: s.size, alignment: s.size, name: "(compound literal)")
            storage = .memory(.slot(slot, offset: 0), addressSpace: 0)
        case .aggregate(let size, let alignment):
            let slot = builder.makeSlot(size: size, alignment: min(alignment, 8), name: "(compound literal)")
            storage = .memory(.slot(slot, offset: 0), addressSpace: 0)
        case .wide:
            let slot = builder.makeSlot(size: 16, alignment: 8, name: "(compound literal)")
            storage = .memory(.slot(slot, offset: 0), addressSpace: 0)
        default:
            throw failure("unsupported compound literal", at: e)
        }
        try initialize(storage, type: e.type, with: list)
        return storage
    }

    // MARK: - Calls

    /// Builtins that compute a value from their arguments (and the strings they point to) and
    /// nothing else, so that clang may fold a call of them with constant arguments
    /// (`bpf_htons(0x1234)`, `__builtin_strcmp("<=", "==")` in bpf_experimental.h's bpf_cmp_likely).
    static let pureBuiltins: Set<String> = [
        "__builtin_bswap16", "__builtin_bswap32", "__builtin_bswap64", "__builtin_constant_p", "__builtin_expect",
        "__builtin_strcmp",
    ]

    /// What the call `e` names: a function, or a variable holding a helper's address.
    func calledDeclaration(_ e: CXCursor) -> CXCursor? {
        guard var callee = e.children.first(where: { $0.isExpression }) else { return nil }
        while (callee.kind == CXCursor_UnexposedExpr || callee.kind == CXCursor_ParenExpr),
              let inner = callee.children.last(where: { $0.isExpression }) {
            callee = inner
        }
        return callee.referenced
    }

    /// A call; one returning a struct writes it into `returnSlot` (the callee's hidden first argument).
    mutating func call(_ e: CXCursor, returningInto returnSlot: SlotID? = nil) throws(DiagnosticList) -> Value {
        let kids = e.children.filter { $0.isExpression }
        guard let declaration = calledDeclaration(e) else { throw failure("malformed call", at: e) }
        let arguments = Array(kids.dropFirst())
        let name = declaration.spelling
        if declaration.kind == CXCursor_FunctionDecl, name.hasPrefix("__builtin_") {
            return try builtin(name, arguments, at: e)
        }
        if declaration.kind == CXCursor_FunctionDecl, name.hasPrefix("__sync_") {
            return try syncBuiltin(name, arguments, at: e)
        }
        let target = try callee(declaration, at: e)
        // A static function's calls are inlined where a BPF call cannot carry them (the
        // inlining pass reports one that stays); other calls are BPF calls, or kernel ones.
        let isStatic = clang_getCursorLinkage(declaration) == CXLinkage_Internal
        var values: [Value] = []
        if let returnSlot {
            guard isStatic, case .function = target else {
                let returned = isWide(e.type) ? "a 128-bit integer" : "a struct by value"
                throw failure("call to '\(name)' returns \(returned): not supported on BPF", at: e)
            }
            values.append(emit { .slotAddress($0, returnSlot, offset: 0) })
        }
        var calleeType = declaration.type.canonical
        if calleeType.kind == CXType_Pointer { calleeType = calleeType.pointee.canonical }
        let fixedCount = calleeType.isVariadic ? calleeType.argumentTypes.count : arguments.count
        for (index, argument) in arguments.enumerated() {
            // A variadic `int` is read in its low 32 bits: bpf_trace_printk formats `%d` from
            // them, as printf does. Zero-extended, it costs nothing where its upper bits are
            // already zero, where sign-extended it would cost two shifts.
            if index >= fixedCount, case .integer(size: 4, isSigned: true) = try scalar(argument.type, at: argument) {
                let value = try rvalue(argument)
                if case .constant(let c) = value {
                    values.append(.constant(c & 0xffff_ffff))
                } else {
                    values.append(emit { .zeroExtend($0, value, fromBits: 32) })
                }
                continue
            }
            if isWide(argument.type) {
                // As clang passes it: the low half, then the high half, in two registers.
                guard case .function = target else {
                    throw failure("128-bit integer argument to '\(name)': helpers and kernel functions take 64-bit registers",
                                  at: argument)
                }
                let value = try wideRvalue(argument)
                values += [value.low, value.high]
                continue
            }
            guard case .aggregate(let size, let alignment) = module.types.classify(argument.type) else {
                values.append(try rvalue(argument))
                continue
            }
            guard isStatic, case .function = target else {
                throw failure("struct argument passed by value to '\(name)': not supported on BPF; pass a pointer",
                              at: argument)
            }
            values += try structArgument(argument, size: size, alignment: min(alignment, 8))
        }
        if values.count > 5 && !(isStatic && target == .function(name)) {
            throw failure("call to '\(name)' passes \(values.count) arguments: BPF passes at most 5, in r1-r5", at: e)
        }
        builder.location = e.location
        let returnsVoid = e.type.canonical.kind == CXType_Void || returnSlot != nil
        if returnsVoid {
            builder.emit(.call(nil, target, values))
            return .constant(0)
        }
        let result = emit { .call($0, target, values) }
        // A callee may leave garbage above a narrow return type: a helper, a kfunc, and a BPF
        // function too (ours compute an `int` result in 32 bits, as clang's do). `_Bool` comes
        // back as 0 or 1 from a BPF function.
        let returned = try scalar(e.type, at: e)
        if case .function = target, case .bool = returned { return result }
        return fit(result, to: returned)
    }

    /// The registers a struct argument travels in (see `StructPassing`): its bytes, eight to a
    /// register, each loaded in pieces its alignment allows; or, too large for that, the address of
    /// a copy the callee may change as its own.
    private mutating func structArgument(_ argument: CXCursor, size: Int, alignment: Int) throws(DiagnosticList) -> [Value] {
        let source = try aggregateAddress(argument)
        builder.location = argument.location
        guard let registers = StructPassing.registers(size: size) else {
            let copy = builder.makeSlot(size: size, alignment: alignment, name: "(struct argument)")
            builder.emit(.copyMemory(destination: .slot(copy, offset: 0), source: source.address, size: size,
                                     alignment: alignment, destinationSpace: 0, sourceSpace: source.space))
            return [emit { .slotAddress($0, copy, offset: 0) }]
        }
        return (0..<registers).map { register in
            let start = register * 8
            var value: Value = .constant(0)
            for (offset, piece) in pieces(size: min(8, size - start), alignment: alignment) {
                let loaded = emit { .load($0, source.address.advanced(by: start + offset), piece, addressSpace: source.space) }
                let placed = offset == 0 ? loaded : emit { .binary($0, .shl, .bits64, loaded, .constant(Int64(offset * 8))) }
                value = value == .constant(0) ? placed : emit { .binary($0, .or, .bits64, value, placed) }
            }
            return value
        }
    }

    /// What a call of `declaration` (a function, or a variable holding a helper's address) calls.
    mutating func callee(_ declaration: CXCursor, at e: CXCursor) throws(DiagnosticList) -> Callee {
        let name = declaration.spelling
        guard declaration.kind == CXCursor_FunctionDecl else {
            if let helper = module.helperNumber(declaration) { return .helper(helper) }
            throw failure("call through a function pointer: BPF has no indirect calls", at: e)
        }
        module.calledFunctions[self.declaration.spelling, default: []].insert(name)
        if !clang_getCursorDefinition(declaration).isNull { return .function(name) }
        if module.isKernelFunction(declaration) {
            module.useExtern(declaration, kind: .function, section: ".ksyms")
            return .kfunc(name)
        }
        throw failure("call to '\(name)', which is declared but not defined: a BPF object cannot call external functions (declare kernel functions with __ksym)",
                      at: e)
    }

    /// `memmove`: the ranges may overlap, which `copyMemory` (memcpy) does not allow. Copying
    /// piece by piece upwards is right when the destination starts at or below the source, and
    /// downwards otherwise; each piece is loaded whole before it is stored, so its width does not matter.
    /// Both directions are in the program: four instructions per piece, checked before expanding,
    /// as aggregate lowering checks a copy.
    private mutating func moveMemory(_ destination: Temp, _ source: Temp, size: Int, destinationSpace: Int,
                                     sourceSpace: Int, at e: CXCursor) throws(DiagnosticList) {
        if let problem = expansionProblem("moving", size: size, alignment: 1, instructionsPerPiece: 4) {
            throw failure(problem, at: e)
        }
        let ascending = pieces(size: size, alignment: 1)
        guard !ascending.isEmpty else { return }
        let upwards = builder.makeBlock(), downwards = builder.makeBlock(), done = builder.makeBlock()
        builder.terminate(.branch(.ule, .bits64, .temp(destination), .temp(source), then: upwards, else: downwards))
        for (block, order) in [(upwards, ascending), (downwards, ascending.reversed())] {
            builder.position(at: block)
            let value = builder.makeTemp()
            for (offset, piece) in order {
                builder.emit(.load(value, .temp(source, offset: offset), piece, addressSpace: sourceSpace))
                builder.emit(.store(.temp(destination, offset: offset), .temp(value), piece, addressSpace: destinationSpace))
            }
            builder.terminate(.jump(done))
        }
        builder.position(at: done)
    }

    private mutating func builtin(_ name: String, _ arguments: [CXCursor], at e: CXCursor) throws(DiagnosticList) -> Value {
        switch name {
        case "__builtin_constant_p":
            // Whether the argument folds to a constant, which is what the compiler knows here.
            guard let first = arguments.first else { throw failure("malformed \(name)", at: e) }
            return .constant(foldedConstant(first) != nil ? 1 : 0)
        case "__builtin_bswap16", "__builtin_bswap32", "__builtin_bswap64":
            guard arguments.count == 1, let bits = Int(name.dropFirst("__builtin_bswap".count)) else {
                throw failure("malformed \(name)", at: e)
            }
            let value = try rvalue(arguments[0])
            builder.location = e.location
            if case .constant(let c) = value { return .constant(byteSwapped(c, bits: bits)) }
            return emit { .byteSwap($0, value, bits: bits) }
        case "__builtin_expect", "__builtin_expect_with_probability":
            guard let first = arguments.first else { throw failure("malformed \(name)", at: e) }
            return try rvalue(first)
        case "__builtin_memset", "__builtin_memcpy", "__builtin_memmove":
            guard arguments.count == 3, let size = arguments[2].integerConstant else {
                throw failure("\(name) needs a constant size on BPF", at: e)
            }
            let destination = register(try rvalue(arguments[0]))
            let destinationSpace = arguments[0].type.pointee.addressSpace
            builder.location = e.location
            if name == "__builtin_memset" {
                guard let byte = arguments[1].integerConstant else {
                    throw failure("__builtin_memset needs a constant fill byte on BPF", at: e)
                }
                builder.emit(.setMemory(.temp(destination, offset: 0), byte: UInt8(truncatingIfNeeded: byte),
                                        size: Int(size), alignment: 1, addressSpace: destinationSpace))
            } else if name == "__builtin_memcpy" {
                let source = register(try rvalue(arguments[1]))
                builder.emit(.copyMemory(destination: .temp(destination, offset: 0), source: .temp(source, offset: 0),
                                         size: Int(size), alignment: 1, destinationSpace: destinationSpace,
                                         sourceSpace: arguments[1].type.pointee.addressSpace))
            } else {
                let source = register(try rvalue(arguments[1]))
                try moveMemory(destination, source, size: Int(size), destinationSpace: destinationSpace,
                               sourceSpace: arguments[1].type.pointee.addressSpace, at: e)
            }
            return .temp(destination)
        case "__builtin_strcmp":
            // Reached only when clang could not fold it.
            throw failure("__builtin_strcmp compares strings known only at run time: BPF has no string library, "
                          + "so both arguments must be string literals", at: e)
        default:
            if let value = try coreBuiltin(name, arguments, at: e) { return value }
            throw failure("builtin '\(name)' is not supported on BPF", at: e)
        }
    }
}
