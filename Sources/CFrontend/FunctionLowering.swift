import BPFDiagnostics
import BPFIR
import CClang

/// Where a C object lives while its function runs.
enum LValue {
    /// A local whose address is never taken: a virtual register.
    case register(Temp)
    /// A 128-bit local whose address is never taken: its low and high halves in two registers.
    case registerPair(low: Temp, high: Temp)
    /// Memory: a stack slot, a global, or wherever a pointer points. `addressSpace` 1 is the arena.
    case memory(Address, addressSpace: Int)
    /// Some bits of the storage unit at an address: a bitfield member.
    case bitfield(Bitfield)
}

/// Where a bitfield lives: `width` bits starting `shift` bits into a little-endian storage unit.
struct Bitfield {
    var address: Address
    var addressSpace: Int
    var unit: MemorySize
    var shift: Int
    var width: Int
    var isSigned: Bool

    /// The low `width` bits set; computed unsigned, since a 63-bit mask overflows Int64's `1 << 63 - 1`.
    var mask: Int64 { width >= 64 ? -1 : Int64(bitPattern: (UInt64(1) << UInt64(width)) - 1) }

    /// The bitfield of `field` (a FieldDecl) in a record at `base`, or nil when it straddles its
    /// storage unit (only packed structs do that).
    init?(field: CXCursor, recordBitOffset: Int, base: Address, addressSpace: Int, isSigned: Bool) {
        let unitBytes = field.type.size ?? 4
        let unitBits = unitBytes * 8
        let unitStart = recordBitOffset / unitBits * unitBytes
        let shift = recordBitOffset % unitBits
        let width = Int(clang_getFieldDeclBitWidth(field))
        guard shift + width <= unitBits, let unit = MemorySize(rawValue: unitBytes) else { return nil }
        self.address = base.advanced(by: unitStart)
        self.addressSpace = addressSpace
        self.unit = unit
        self.shift = shift
        self.width = width
        self.isSigned = isSigned
    }
}

/// How a struct argument travels in a BPF-to-BPF call, as clang-19 passes it: up to 16 bytes in
/// one or two registers holding its bytes in memory order; a larger one cannot be passed.
enum StructPassing {
    static let largest = 16

    /// The registers a struct of `size` bytes takes, or nil when it is too large to pass.
    static func registers(size: Int) -> Int? {
        size <= largest ? max(1, (size + 7) / 8) : nil
    }
}

/// Where a `break` or `continue` jumps, and the number of cleanups active there: leaving a scope
/// runs the cleanups declared in it.
struct JumpTarget {
    var block: BlockID
    var cleanupDepth: Int
}

/// A local declared with `__attribute__((cleanup(f)))`: `f(&local)` runs whenever its scope ends,
/// by falling off its end, `break`, `continue`, `return` or `goto` (libbpf's `bpf_for` destroys
/// its iterator so; the verifier insists on it).
struct Cleanup {
    var variable: CXCursor
    var function: CXCursor
    /// The statement whose end ends the local's scope: a compound statement or a `for`.
    var scope: CXCursor
}

/// Answers about the expressions of one function, by cursor: shared by the copies of a
/// `FunctionLowering` (a class, so that non-mutating lookups can remember what they found).
final class ExpressionFacts {
    var readsVariable: [CursorKey: Bool] = [:]
    var hasSideEffects: [CursorKey: Bool] = [:]
}

/// Lowers one function definition: parameters, locals, statements and expressions.
///
/// Expressions are lowered in `ExprLowering.swift`, statements in `StmtLowering.swift`; this file
/// holds the per-function state and the storage decisions for locals.
struct FunctionLowering {
    unowned let module: ModuleLowering
    let declaration: CXCursor
    var builder = IRBuilder()
    /// Storage of every parameter and local, by declaration.
    var locals: [CursorKey: LValue] = [:]
    /// Locals that must live in memory: their address is taken, or they are aggregates or volatile.
    var addressTaken: Set<CursorKey> = []
    var labels: [CursorKey: BlockID] = [:]
    /// Innermost last: where `break` and `continue` go, and how many cleanups stay active there.
    var breakTargets: [JumpTarget] = []
    var continueTargets: [JumpTarget] = []
    /// Locals with `__attribute__((cleanup(f)))` whose scope is being lowered, innermost last.
    var cleanups: [Cleanup] = []
    /// Case and default labels of the switches being lowered, innermost last.
    var caseBlocks: [[CursorKey: BlockID]] = []
    /// Compound statements being lowered, innermost last: where `__label__` names are looked up.
    var scopes: [CXCursor] = []
    var returnsValue = false
    /// Inside `__builtin_preserve_access_index(...)` (or the field of `__builtin_preserve_field_info`):
    /// every member access and constant index is relocated (CO-RE), whatever its record.
    var inPreservedRegion = false
    /// A function returning a struct writes it where this hidden first parameter points: the
    /// caller's temporary.
    var returnSlot: Temp?
    /// The function's asm statements as clang prints them, read at its first asm statement.
    var printedAsmStatements: [CursorKey: [AsmToken]]?
    var diagnostics: [Diagnostic] = []
    /// What `foldedConstant` found out about subexpressions, kept for their own questions.
    let expressionFacts = ExpressionFacts()

    init(module: ModuleLowering, declaration: CXCursor) {
        self.module = module
        self.declaration = declaration
    }

    var unit: CXTranslationUnit { module.unit }

    func failure(_ message: String, at cursor: CXCursor) -> DiagnosticList {
        DiagnosticList([.error(message, at: cursor.location)])
    }

    /// The C text of a construct, shortened, to name it in a message as the programmer wrote it.
    func sourceText(_ cursor: CXCursor) -> String {
        let text = cursor.tokens(in: unit).joined(separator: " ")
        return text.count <= 40 ? text : text.prefix(37) + "..."
    }

    mutating func lower() throws(DiagnosticList) -> Function {
        let name = declaration.spelling
        let location = declaration.location
        let type = declaration.type
        builder.location = location
        if type.isVariadic {
            throw failure("variadic function '\(name)': BPF functions take a fixed number of arguments", at: declaration)
        }
        let parameterCursors = declaration.children.filter { $0.kind == CXCursor_ParmDecl }
        // A static function is only called from this file, where every call can be inlined: what
        // a BPF call cannot pass, it may take and return. The kernel verifies a global one from
        // its BTF signature, which must be plain registers.
        let isStatic = clang_getCursorLinkage(declaration) == CXLinkage_Internal
            && module.attributes(of: declaration).section == nil
        var mustInline: String?
        var parameters: [Temp] = []
        switch module.types.classify(type.resultType) {
        case .aggregate, .wide:
            // Into the caller's memory, through a hidden first parameter; clang-19 cannot compile
            // a 128-bit return at all.
            let returned = isWide(type.resultType) ? "a 128-bit integer" : "a struct by value"
            guard isStatic else {
                throw failure("function '\(name)' returns \(returned): not supported on BPF; return it through a pointer",
                              at: declaration)
            }
            let slot = builder.makeTemp()
            returnSlot = slot
            parameters.append(slot)
            mustInline = "it returns \(returned), which a BPF function cannot"
        case .unsupported(let what):
            throw failure("function '\(name)' returns \(what)", at: declaration)
        case .void:
            returnsValue = false
        case .scalar, .function:
            returnsValue = true
        }
        guard let body = declaration.children.last(where: { $0.kind == CXCursor_CompoundStmt }) else {
            throw failure("function '\(name)' has no body", at: declaration)
        }
        findAddressTaken(body)

        let passedTypes = type.argumentTypes
        for (index, parameter) in parameterCursors.enumerated() {
            let temp = builder.makeTemp()
            parameters.append(temp)
            builder.location = parameter.location
            switch module.types.classifyAsValue(parameter.type) {
            case .aggregate(let size, _):
                guard isStatic else {
                    throw failure("parameter '\(parameter.spelling)' of '\(name)' is a struct passed by value: not supported on BPF; pass a pointer",
                                  at: parameter)
                }
                guard let registers = StructPassing.registers(size: size) else {
                    // The caller passes the address of its own copy.
                    locals[CursorKey(parameter)] = .memory(.temp(temp, offset: 0), addressSpace: 0)
                    mustInline = mustInline
                        ?? "it takes a struct of \(size) bytes by value, and a BPF call passes at most \(StructPassing.largest), in two registers"
                    continue
                }
                // As clang passes it: its bytes in one or two registers, stored back in memory here.
                let slot = builder.makeSlot(size: registers * 8, alignment: 8, name: parameter.spelling)
                for piece in 0..<registers {
                    let register = piece == 0 ? temp : builder.makeTemp()
                    if piece > 0 { parameters.append(register) }
                    builder.emit(.store(.slot(slot, offset: piece * 8), .temp(register), .double, addressSpace: 0))
                }
                locals[CursorKey(parameter)] = .memory(.slot(slot, offset: 0), addressSpace: 0)
            case .wide:
                guard isStatic else {
                    throw failure("parameter '\(parameter.spelling)' of '\(name)' is a 128-bit integer: the kernel verifies a global function from its BTF, one 64-bit register per argument",
                                  at: parameter)
                }
                // As clang passes it: the low half, then the high half, in two registers.
                let high = builder.makeTemp()
                parameters.append(high)
                let storage = try allocateLocal(parameter)
                if case .registerPair = storage {
                    locals[CursorKey(parameter)] = .registerPair(low: temp, high: high)
                } else {
                    try wideStore(WideValue(low: .temp(temp), high: .temp(high)), to: storage, flags: AccessFlags(),
                                  at: parameter)
                    locals[CursorKey(parameter)] = storage
                }
            case .unsupported(let what):
                throw failure("parameter '\(parameter.spelling)' has \(what)", at: parameter)
            case .void, .function:
                throw failure("parameter '\(parameter.spelling)' has an invalid type", at: parameter)
            case .scalar(let scalar):
                // A definition without a prototype (`int g(a) char a; {}`) receives each argument
                // promoted (C11 6.5.2.2p6), the type libclang gives the function, and converts it
                // to its parameter's type itself.
                var incoming = Value.temp(temp)
                if index < passedTypes.count, case .scalar(let passed) = module.types.classifyAsValue(passedTypes[index]) {
                    incoming = convert(incoming, from: passed, to: scalar, at: parameter)
                }
                // A caller compiled by clang passes an integer narrower than a register as it
                // computed it, the upper bits left as they are: clang's callees extend their
                // parameters, and so does this one. Inlined, the extension of an argument our
                // caller extended already folds away.
                if case .integer(let size, _) = scalar, size < 8 { incoming = fit(incoming, to: scalar) }
                if addressTaken.contains(CursorKey(parameter)) || parameter.type.mustLiveInMemory {
                    let slot = builder.makeSlot(size: scalar.size, alignment: scalar.size, name: parameter.spelling)
                    let storage = LValue.memory(.slot(slot, offset: 0), addressSpace: 0)
                    locals[CursorKey(parameter)] = storage
                    store(incoming, to: storage, scalar: scalar)
                } else {
                    locals[CursorKey(parameter)] = .register(register(incoming))
                }
            }
        }

        if parameters.count > 5 {
            guard isStatic else {
                throw failure("function '\(name)' takes \(parameters.count) argument registers: BPF passes at most 5, in r1-r5",
                              at: declaration)
            }
            mustInline = mustInline ?? "it takes \(parameters.count) argument registers, and a BPF call passes at most 5, in r1-r5"
        }

        try lowerStatement(body)
        if !diagnostics.isEmpty { throw DiagnosticList(diagnostics) }

        builder.location = location
        let finished = builder.finish(fallbackReturn: returnsValue ? .constant(0) : nil)
        let attributes = module.attributes(of: declaration)
        let linkage: Linkage = clang_getCursorLinkage(declaration) == CXLinkage_External ? .global : .static
        return Function(name: name, linkage: linkage, section: attributes.section,
                        type: module.types.functionTypeID(declaration), parameters: parameters,
                        blocks: finished.blocks, slots: finished.slots, tempCount: finished.tempCount,
                        location: location, declTags: declTags(parameterCount: parameterCursors.count),
                        symbolAttributes: attributes.symbolAttributes, mustInline: mustInline,
                        inlineHint: attributes.inlineHint)
    }

    /// The `btf_decl_tag`s of the function (component -1) and of each parameter, from every
    /// declaration of the function. A declaration's own text repeats its parameters' tags; what
    /// remains after removing them is the function's.
    private func declTags(parameterCount: Int) -> [DeclTag] {
        var functionTags: [String] = []
        var parameterTags = [[String]](repeating: [], count: parameterCount)
        for each in module.declarations(of: declaration) {
            var own = Attributes(each).declTags
            let parameters = each.children.filter { $0.kind == CXCursor_ParmDecl }
            for (index, parameter) in parameters.enumerated() where index < parameterCount {
                for tag in Attributes(parameter).declTags {
                    if !parameterTags[index].contains(tag) { parameterTags[index].append(tag) }
                    if let i = own.firstIndex(of: tag) { own.remove(at: i) }
                }
            }
            functionTags += own.filter { !functionTags.contains($0) }
        }
        return functionTags.map { DeclTag(name: $0, componentIndex: -1) }
            + parameterTags.enumerated().flatMap { index, tags in tags.map { DeclTag(name: $0, componentIndex: index) } }
    }

    /// Marks locals whose address is taken (`&x`), so they get a stack slot. `sizeof` and
    /// `_Static_assert` do not evaluate their operands (bpf_cmp_likely asserts
    /// `sizeof(&(LHS))` to insist on an lvalue), so an address taken there is never used.
    private mutating func findAddressTaken(_ cursor: CXCursor) {
        for child in cursor.children where child.kind != CXCursor_UnaryExpr && child.kind != CXCursor_StaticAssert {
            if child.kind == CXCursor_UnaryOperator && child.unaryOperator == CXUnaryOperator_AddrOf,
               let operand = child.children.first {
                var target = operand
                while target.kind == CXCursor_ParenExpr, let inner = target.children.first { target = inner }
                if target.kind == CXCursor_DeclRefExpr {
                    addressTaken.insert(CursorKey(target.referenced))
                }
            }
            findAddressTaken(child)
        }
    }

    /// Storage for a new local: a register for scalars, a stack slot for the rest.
    mutating func allocateLocal(_ variable: CXCursor) throws(DiagnosticList) -> LValue {
        let type = variable.type
        builder.location = variable.location
        switch module.types.classify(type) {
        case .scalar(let scalar):
            if addressTaken.contains(CursorKey(variable)) || type.mustLiveInMemory {
                let slot = builder.makeSlot(size: scalar.size, alignment: scalar.size, name: variable.spelling)
                return .memory(.slot(slot, offset: 0), addressSpace: 0)
            }
            return .register(builder.makeTemp())
        case .aggregate(let size, let alignment):
            let slot = builder.makeSlot(size: size, alignment: min(alignment, 8), name: variable.spelling)
            return .memory(.slot(slot, offset: 0), addressSpace: 0)
        case .wide:
            if addressTaken.contains(CursorKey(variable)) || type.mustLiveInMemory {
                let slot = builder.makeSlot(size: 16, alignment: 8, name: variable.spelling)
                return .memory(.slot(slot, offset: 0), addressSpace: 0)
            }
            return .registerPair(low: builder.makeTemp(), high: builder.makeTemp())
        case .unsupported(let what):
            throw failure("local '\(variable.spelling)' has \(what)", at: variable)
        case .void, .function:
            throw failure("local '\(variable.spelling)' has an invalid type", at: variable)
        }
    }

    // MARK: - Emitting

    mutating func temp() -> Temp { builder.makeTemp() }

    /// `op` into a new Temp.
    mutating func emit(_ make: (Temp) -> Operation) -> Value {
        let t = builder.makeTemp()
        builder.emit(make(t))
        return .temp(t)
    }

    /// A register holding `value` (constants are materialized).
    mutating func register(_ value: Value) -> Temp {
        switch value {
        case .temp(let t):
            return t
        case .constant:
            let t = builder.makeTemp()
            builder.emit(.copy(t, value))
            return t
        }
    }

    mutating func load(_ lvalue: LValue, scalar: Scalar, flags: AccessFlags = AccessFlags()) -> Value {
        switch lvalue {
        case .register(let t):
            return .temp(t)
        case .registerPair:
            preconditionFailure("a 128-bit local read as a 64-bit value: scalar() refuses 128-bit types first")
        case .bitfield(let field):
            let unit = emit { .load($0, field.address, field.unit, addressSpace: field.addressSpace,
                                    AccessFlags(isVolatile: flags.isVolatile)) }
            // Move the field to the top of the register, then shift it down with its sign or zeros.
            let high = emit { .binary($0, .shl, .bits64, unit, .constant(Int64(64 - field.shift - field.width))) }
            return emit { .binary($0, field.isSigned ? .ashr : .lshr, .bits64, high, .constant(Int64(64 - field.width))) }
        case .memory(let address, let space):
            let loaded = emit { .load($0, address, scalar.memorySize, addressSpace: space, flags) }
            if scalar.isSigned && scalar.size < 8 {
                return emit { .signExtend($0, loaded, fromBits: scalar.size * 8) }
            }
            return loaded
        }
    }

    mutating func store(_ value: Value, to lvalue: LValue, scalar: Scalar, flags: AccessFlags = AccessFlags()) {
        switch lvalue {
        case .register(let t):
            builder.emit(.copy(t, value))
        case .registerPair:
            preconditionFailure("a 64-bit value stored in a 128-bit local: scalar() refuses 128-bit types first")
        case .bitfield(let field):
            // A bit-field's storage unit is shared with its neighbours: untyped.
            let unitFlags = AccessFlags(isVolatile: flags.isVolatile)
            let unit = emit { .load($0, field.address, field.unit, addressSpace: field.addressSpace, unitFlags) }
            let kept = emit { .binary($0, .and, .bits64, unit, .constant(~(field.mask << Int64(field.shift)))) }
            let bits = emit { .binary($0, .and, .bits64, value, .constant(field.mask)) }
            let placed = emit { .binary($0, .shl, .bits64, bits, .constant(Int64(field.shift))) }
            let merged = emit { .binary($0, .or, .bits64, kept, placed) }
            builder.emit(.store(field.address, merged, field.unit, addressSpace: field.addressSpace, unitFlags))
        case .memory(let address, let space):
            builder.emit(.store(address, value, scalar.memorySize, addressSpace: space, flags))
        }
    }

    /// The address of a memory lvalue as a pointer value.
    mutating func addressValue(_ address: Address) -> Value {
        switch address {
        case .slot(let slot, let offset):
            return emit { .slotAddress($0, slot, offset: offset) }
        case .temp(let base, let offset):
            if offset == 0 { return .temp(base) }
            return emit { .binary($0, .add, .bits64, .temp(base), .constant(Int64(offset))) }
        }
    }
}

extension Address {
    /// The same place, `delta` bytes further.
    func advanced(by delta: Int) -> Address {
        switch self {
        case .temp(let t, let offset): return .temp(t, offset: offset + delta)
        case .slot(let s, let offset): return .slot(s, offset: offset + delta)
        }
    }
}

private extension CXType {
    /// A volatile or `_Atomic` local is accessed in memory, as written, even when its address is
    /// never taken.
    var mustLiveInMemory: Bool { isVolatile || canonical.kind == CXType_Atomic }
}
