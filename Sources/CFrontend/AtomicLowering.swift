import BPFDiagnostics
import BPFIR
import CClang

// GCC's atomic builtins, as BPF_ATOMIC instructions: `__sync_*` (calls libclang names with the
// operand size, `__sync_fetch_and_add_8`) and `__atomic_*` (an AtomicExpr, which libclang shows as
// an unexposed expression: the builtin's name is its first token; its children are the pointer,
// the memory order, then the operands). BPF's atomic read-modify-write instructions are fully
// ordered; an atomic load or store with an order stronger than relaxed is BPF's load_acquire or
// store_release at -mcpu=v4 (AccessFlags.isOrdered), a plain access at v3. Only 4- and 8-byte
// objects have atomic read-modify-write instructions.

extension FunctionLowering {
    /// `__sync_fetch_and_add_8(p, v)` and the rest of the family; `name` is the callee's.
    mutating func syncBuiltin(_ name: String, _ arguments: [CXCursor], at e: CXCursor) throws(DiagnosticList) -> Value {
        // The name ends in the operand size: `_4` or `_8` (1 and 2 have no BPF instruction).
        let operation = name.lastIndex(of: "_").map { String(name[..<$0]) } ?? name
        guard let pointer = arguments.first else { throw failure("malformed \(name)", at: e) }
        let access = try atomicAccess(pointer, builtin: operation, widths: [4, 8], at: e)
        func operand(_ index: Int) throws(DiagnosticList) -> Value {
            guard index < arguments.count else { throw failure("malformed \(operation)", at: e) }
            return try atomicOperand(arguments[index], for: access)
        }
        if let arithmetic = ArithmeticBuiltin(operation) {
            return try arithmetic.lower(access, try operand(1), in: &self, at: e)
        }
        switch operation {
        case "__sync_val_compare_and_swap":
            return compareExchange(access, expected: try operand(1), desired: try operand(2))
        case "__sync_bool_compare_and_swap":
            let expected = try operand(1)
            let old = compareExchange(access, expected: expected, desired: try operand(2))
            return emit { .setCondition($0, .eq, access.width, old, expected) }
        case "__sync_lock_test_and_set":
            return exchange(access, try operand(1))
        case "__sync_lock_release":
            builder.emit(.store(access.address, .constant(0), access.size, addressSpace: access.space))
            return .constant(0)
        default:
            throw failure("'\(operation)' is not supported on BPF: its atomic instructions add, and, or, xor, exchange and compare-and-exchange",
                          at: e)
        }
    }

    /// The name of the `__atomic_*` builtin an unexposed expression is, if it is one.
    func atomicBuiltinName(_ e: CXCursor) -> String? {
        guard e.kind == CXCursor_UnexposedExpr, e.children.filter(\.isExpression).count >= 2,
              let first = spelledHead(e).first?.text, first.hasPrefix("__atomic_") else { return nil }
        return first
    }

    /// `__atomic_fetch_add(p, v, order)` and the rest of the family. The children are the pointer,
    /// the memory order, then the operands in clang's order (for compare-exchange: expected, the
    /// failure order, desired, weak).
    mutating func atomicBuiltin(_ name: String, _ e: CXCursor) throws(DiagnosticList) -> Value {
        let kids = e.children.filter(\.isExpression)
        // Loads and stores of any width are single instructions; read-modify-write needs 4 or 8 bytes.
        let isLoadOrStore = ["__atomic_load_n", "__atomic_load", "__atomic_store_n", "__atomic_store"].contains(name)
        let access = try atomicAccess(kids[0], builtin: name, widths: isLoadOrStore ? [1, 2, 4, 8] : [4, 8], at: e)
        func child(_ index: Int) throws(DiagnosticList) -> CXCursor {
            guard index < kids.count else { throw failure("malformed \(name)", at: e) }
            return kids[index]
        }
        /// An operand given by value.
        func operand(_ index: Int) throws(DiagnosticList) -> Value { try atomicOperand(try child(index), for: access) }
        /// An operand given through a pointer (`__atomic_store(p, &v, order)`).
        func pointed(_ index: Int) throws(DiagnosticList) -> Address {
            .temp(register(try rvalue(try child(index))), offset: 0)
        }
        func loadedThrough(_ index: Int) throws(DiagnosticList) -> Value {
            let address = try pointed(index)
            return emit { .load($0, address, access.size, addressSpace: 0) }
        }
        if let arithmetic = ArithmeticBuiltin(name) {
            return try arithmetic.lower(access, try operand(2), in: &self, at: e)
        }
        switch name {
        case "__atomic_exchange_n":
            return exchange(access, try operand(2))
        case "__atomic_exchange":
            let old = exchange(access, try loadedThrough(2))
            builder.emit(.store(try pointed(3), old, access.size, addressSpace: 0))
            return .constant(0)
        case "__atomic_compare_exchange_n", "__atomic_compare_exchange":
            let expectedAddress = try pointed(2)
            let desired = name.hasSuffix("_n") ? try operand(4) : try loadedThrough(4)
            let expected = emit { .load($0, expectedAddress, access.size, addressSpace: 0) }
            let old = compareExchange(access, expected: expected, desired: desired)
            let succeeded = emit { .setCondition($0, .eq, access.width, old, expected) }
            // On failure C writes the value found back into *expected.
            let failed = builder.makeBlock(), done = builder.makeBlock()
            builder.terminate(.branch(.ne, .bits64, succeeded, .constant(0), then: done, else: failed))
            builder.position(at: failed)
            builder.emit(.store(expectedAddress, old, access.size, addressSpace: 0))
            builder.fallThrough(to: done)
            return succeeded
        case "__atomic_load_n":
            let flags = AccessFlags.atomic(order: try child(1).integerConstant)
            return access.extended(emit { .load($0, access.address, access.size, addressSpace: access.space, flags) },
                                   in: &self)
        case "__atomic_load":
            let flags = AccessFlags.atomic(order: try child(1).integerConstant)
            let value = emit { .load($0, access.address, access.size, addressSpace: access.space, flags) }
            builder.emit(.store(try pointed(2), value, access.size, addressSpace: 0))
            return .constant(0)
        case "__atomic_store_n":
            builder.emit(.store(access.address, try operand(2), access.size, addressSpace: access.space,
                                .atomic(order: try child(1).integerConstant)))
            return .constant(0)
        case "__atomic_store":
            builder.emit(.store(access.address, try loadedThrough(2), access.size, addressSpace: access.space,
                                .atomic(order: try child(1).integerConstant)))
            return .constant(0)
        default:
            throw failure("'\(name)' is not supported on BPF", at: e)
        }
    }

    // MARK: - The instructions

    /// `__sync_fetch_and_OP`/`__atomic_fetch_OP`: the old value. BPF has no atomic subtract:
    /// adding the negated operand is the same in two's complement.
    fileprivate mutating func fetch(_ op: String, _ access: AtomicAccess, _ value: Value, at e: CXCursor)
        throws(DiagnosticList) -> Value
    {
        let (atomicOperator, operand) = try atomicOperation(op, value, at: e)
        let old = emit { .atomic($0, atomicOperator, access.address, operand, access.size, addressSpace: access.space) }
        return access.extended(old, in: &self)
    }

    /// `__sync_OP_and_fetch`/`__atomic_OP_fetch`: the new value, computed again from the old one.
    fileprivate mutating func fetchThenApply(_ op: String, _ access: AtomicAccess, _ value: Value, at e: CXCursor)
        throws(DiagnosticList) -> Value
    {
        let (atomicOperator, operand) = try atomicOperation(op, value, at: e)
        let old = emit { .atomic($0, atomicOperator, access.address, operand, access.size, addressSpace: access.space) }
        let binary: BinaryOperator
        switch atomicOperator {
        case .add: binary = .add
        case .or: binary = .or
        case .and: binary = .and
        case .xor: binary = .xor
        case .exchange: preconditionFailure("exchange has no operation to apply again")
        }
        let new = emit { .binary($0, binary, access.width, old, operand) }
        return access.extended(new, in: &self)
    }

    private mutating func exchange(_ access: AtomicAccess, _ value: Value) -> Value {
        let old = emit { .atomic($0, .exchange, access.address, value, access.size, addressSpace: access.space) }
        return access.extended(old, in: &self)
    }

    private mutating func compareExchange(_ access: AtomicAccess, expected: Value, desired: Value) -> Value {
        let old = emit {
            .compareExchange($0, access.address, expected: expected, desired: desired, access.size,
                             addressSpace: access.space)
        }
        return access.extended(old, in: &self)
    }

    private mutating func atomicOperation(_ op: String, _ value: Value, at e: CXCursor)
        throws(DiagnosticList) -> (AtomicOperator, Value)
    {
        switch op {
        case "add": return (.add, value)
        case "sub":
            if case .constant(let c) = value { return (.add, .constant(0 &- c)) }
            return (.add, emit { .negate($0, .bits64, value) })
        case "or": return (.or, value)
        case "and": return (.and, value)
        case "xor": return (.xor, value)
        default:
            throw failure("atomic \(op) is not supported on BPF: its atomic instructions add, and, or, xor, exchange and compare-and-exchange",
                          at: e)
        }
    }

    // MARK: - Operands

    /// `x += v`, `x++` and the other compound assignments on an `_Atomic` object: each is one
    /// atomic read-modify-write (C11 6.5.16.2p3), which BPF has for add, sub (as the addition of
    /// the negation), and, or and xor on 4 and 8 bytes; `operation` is the builtins' name for it.
    /// Gives the new value, or the old one for a postfix `++`/`--`.
    mutating func updateAtomicObject(_ object: CXCursor, _ operation: String?, _ value: Value, from valueType: Scalar,
                                     givesNewValue: Bool, at e: CXCursor) throws(DiagnosticList) -> Value {
        let s = try scalar(object.type, at: object)
        guard let operation, case .integer = s else {
            throw failure("this compound assignment to an _Atomic object is not one atomic instruction on BPF, which has atomic add, sub, and, or and xor on integers; use a compare-and-swap loop (__atomic_compare_exchange_n)",
                          at: e)
        }
        guard s.size == 4 || s.size == 8 else {
            throw failure("_Atomic object of \(s.size) bytes: BPF's atomic instructions work on 4 and 8 bytes", at: e)
        }
        guard case .memory(let address, let space) = try lvalue(object) else {
            throw failure("_Atomic object in a register", at: e)
        }
        builder.location = e.location
        let access = AtomicAccess(address: address, scalar: s, space: space)
        let operand = convert(value, from: valueType, to: s, at: e)
        return givesNewValue ? try fetchThenApply(operation, access, operand, at: e)
                             : try fetch(operation, access, operand, at: e)
    }

    /// The object an atomic builtin works on, from its pointer operand.
    private mutating func atomicAccess(_ pointer: CXCursor, builtin: String, widths: Set<Int>, at e: CXCursor)
        throws(DiagnosticList) -> AtomicAccess
    {
        let pointee = pointer.type.canonical.pointee
        guard pointer.type.canonical.kind == CXType_Pointer, case .scalar(let scalar) = module.types.classify(pointee)
        else { throw failure("\(builtin) needs a pointer to an integer or a pointer", at: e) }
        guard widths.contains(scalar.size) else {
            throw failure("\(builtin) on a \(scalar.size)-byte object: BPF's atomic instructions work on 4 and 8 bytes",
                          at: e)
        }
        let base = register(try rvalue(pointer))
        return AtomicAccess(address: .temp(base, offset: 0), scalar: scalar, space: pointee.addressSpace)
    }

    /// An operand converted to the type of the object (`__sync_*` passes its operands unconverted).
    private mutating func atomicOperand(_ e: CXCursor, for access: AtomicAccess) throws(DiagnosticList) -> Value {
        convert(try rvalue(e), from: try scalar(e.type, at: e), to: access.scalar, at: e)
    }
}

/// The read-modify-write builtins of both families, by name: `__sync_fetch_and_add`,
/// `__sync_add_and_fetch`, `__atomic_fetch_add`, `__atomic_add_fetch` and the other operations.
private struct ArithmeticBuiltin {
    /// `add`, `sub`, `or`, `and`, `xor`, `nand`…: checked when lowered.
    var operation: String
    /// Whether the builtin gives the new value (`OP_and_fetch`, `OP_fetch`) or the old one.
    var givesNewValue: Bool

    init?(_ name: String) {
        for (prefix, suffix, givesNew) in [("__sync_fetch_and_", "", false), ("__sync_", "_and_fetch", true),
                                           ("__atomic_fetch_", "", false), ("__atomic_", "_fetch", true)]
        where name.hasPrefix(prefix) && name.hasSuffix(suffix) {
            let operation = String(name.dropFirst(prefix.count).dropLast(suffix.count))
            guard ["add", "sub", "or", "and", "xor", "nand"].contains(operation) else { continue }
            self.operation = operation
            givesNewValue = givesNew
            return
        }
        return nil
    }

    func lower(_ access: AtomicAccess, _ value: Value, in lowering: inout FunctionLowering, at e: CXCursor)
        throws(DiagnosticList) -> Value
    {
        givesNewValue ? try lowering.fetchThenApply(operation, access, value, at: e)
                      : try lowering.fetch(operation, access, value, at: e)
    }
}

/// The memory an atomic builtin reads and writes.
struct AtomicAccess {
    var address: Address
    var scalar: Scalar
    var space: Int

    var size: MemorySize { scalar.memorySize }
    var width: ALUWidth { scalar.size == 4 ? .bits32 : .bits64 }

    /// A value of the object's type as the frontend keeps it: a result narrower than 8 bytes
    /// arrives zero-extended, and a signed one is sign-extended like any loaded `int` or `short`.
    func extended(_ value: Value, in lowering: inout FunctionLowering) -> Value {
        guard scalar.isSigned && scalar.size < 8 else { return value }
        return lowering.emit { .signExtend($0, value, fromBits: scalar.size * 8) }
    }
}

private extension AccessFlags {
    /// An atomic load or store with C11 memory order `order` (`__ATOMIC_RELAXED` is 0; one that
    /// is not a constant counts as seq_cst): other CPUs write the memory at any time, so each
    /// happens as written, as a volatile one does, and any order but relaxed is an ordered access.
    static func atomic(order: Int64?) -> AccessFlags {
        AccessFlags(isVolatile: true, isOrdered: order != 0)
    }
}
