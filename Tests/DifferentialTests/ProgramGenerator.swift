// Random C programs in the subset swiftbpfcc compiles, for differential testing against `cc`.
//
// A program is deterministic from its seed. It has globals of every integer type (scalars,
// arrays, structs with bit-fields, a const table), small static helpers with 0-5 arguments, and
// `long long fuzz_main(void)`, which computes with all of them and folds every value it computed
// into a checksum. `fuzz_prog`, a syscall program, stores that checksum through its context.
//
// The programs have no undefined behaviour, by construction:
// - every expression carries its type and an interval of its possible values (`CIntegers.swift`);
//   signed arithmetic that could overflow gets its operands narrowed by casts first, divisors are
//   made non-zero (and not -1 when the dividend can be MIN), shift counts are masked to the width
//   and left shifts of possibly negative values go through the unsigned type;
// - array indices are masked with `& (count - 1)`; every local is initialized where declared;
// - a full expression modifies at most one variable, a local whose address is never taken, and
//   reads it nowhere else; helpers called inside expressions never write globals.
// What C leaves implementation-defined (conversions to a narrower signed type, right shifts of
// negative values) is used freely: cc and the BPF target agree on it, and it is where bugs hide.

/// SplitMix64: small, deterministic.
struct RandomSource {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    mutating func pick<T>(_ values: [T]) -> T { values[below(values.count)] }
    mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
}

/// A generated expression: its text (fully parenthesized), C type and possible values.
struct Expr {
    var text: String
    var type: IntType
    var range: ValueRange
    /// `(a, b)`: gcc 12 with UBSan crashes on a cast of one to _Bool (an internal compiler error
    /// in gimplify_expr) when both operands are constant, so such a cast compares with 0 first.
    var isComma = false
}

/// A struct type of the program.
struct StructType {
    struct Field {
        var name: String
        var type: IntType
        /// Non-nil for a bit-field.
        var bitWidth: Int?

        /// What the field can hold.
        var range: ValueRange {
            guard let width = bitWidth else { return type.range }
            return type.isSigned ? ValueRange(-(Int128(1) << (width - 1)), (Int128(1) << (width - 1)) - 1)
                : ValueRange(0, (Int128(1) << width) - 1)
        }

        /// The type a read has: a bit-field narrower than int promotes to int (C11 6.3.1.1).
        var readType: IntType { bitWidth == nil ? type : .int }
    }

    var name: String
    var fields: [Field]
}

/// A variable of the program.
struct Variable {
    enum Shape {
        case scalar(IntType)
        case array(IntType, count: Int)
        case structure(Int)
        /// `T *p = &pointee`.
        case pointer(IntType, pointee: String)
        /// `struct S *p = &pointee`.
        case structPointer(Int, pointee: String)
    }

    var name: String
    var shape: Shape
    var isGlobal: Bool
    /// Loop counters and const globals.
    var isReadOnly = false
    /// A pointer to it exists, so it cannot be the one variable a full expression modifies.
    var isAddressTaken = false
    /// Narrower than the type's range, for loop counters.
    var knownRange: ValueRange?

    /// Which variable an access through this one touches, for the sequencing rules.
    var identity: String {
        switch shape {
        case .scalar, .array, .structure: return name
        case .pointer(_, let pointee), .structPointer(_, let pointee): return pointee
        }
    }
}

/// Something an assignment can store to, or a read can load from.
struct LValue {
    var text: String
    /// The type of a read, before promotion.
    var readType: IntType
    /// What the object can hold.
    var range: ValueRange
    var identity: String
}

/// A static helper function.
struct Helper {
    var name: String
    var returnType: IntType
    var parameters: [IntType]
    /// Writes globals: only called as a statement of its own, never inside an expression.
    var writesGlobals: Bool
}

/// What an expression being generated may do.
struct ExprContext {
    /// Variables it must not read: the one it modifies.
    var avoid: Set<String> = []
    /// The local it may modify, once; nil when it must be free of side effects.
    var sideEffect: Variable?
}

/// Generates one program from a seed.
struct ProgramGenerator {
    private var random: RandomSource
    private var structs: [StructType] = []
    private var globals: [Variable] = []
    private var helpers: [Helper] = []
    private var locals: [Variable] = []
    private var lines: [String] = []
    private var indent = 1
    private var loopDepth = 0
    private var nameCount = 0
    private var mayWriteGlobals = true

    init(seed: UInt64) {
        random = RandomSource(state: seed &* 0x2545_f491_4f6c_dd1d)
    }

    /// The C source of the program.
    mutating func generate() -> String {
        var out = ["// Generated by DifferentialTests; no undefined behaviour by construction.",
                   "#pragma clang diagnostic ignored \"-Weverything\"",
                   "#ifdef __bpf__",
                   "#define SEC(name) __attribute__((section(name), used))",
                   "#else",
                   "#define SEC(name)",
                   "#endif",
                   ""]
        for s in 0..<1 + random.below(2) {
            var fields: [StructType.Field] = []
            for f in 0..<2 + random.below(4) {
                if random.chance(30) {
                    let type = random.pick([IntType.int, .unsignedInt, .unsignedChar, .short, .unsignedShort])
                    let width = 1 + random.below(min(type.bits, 31) - 1)
                    fields.append(.init(name: "f\(f)", type: type, bitWidth: width))
                } else {
                    fields.append(.init(name: "f\(f)", type: random.pick(IntType.allCases), bitWidth: nil))
                }
            }
            let type = StructType(name: "S\(s)", fields: fields)
            structs.append(type)
            out.append("struct \(type.name) {")
            for field in fields {
                out.append("\t\(field.type.spelling) \(field.name)\(field.bitWidth.map { " : \($0)" } ?? "");")
            }
            out.append("};")
        }
        out.append("")
        out += generateGlobals()
        out.append("")
        for _ in 0..<random.below(4) {
            out += generateHelper()
            out.append("")
        }
        out += generateMain()
        out += ["", "SEC(\"syscall\") int fuzz_prog(unsigned long long *ctx)", "{",
                "\t*ctx = (unsigned long long)fuzz_main();", "\treturn 0;", "}", ""]
        return out.joined(separator: "\n")
    }

    // MARK: - Declarations

    private mutating func freshName(_ prefix: String) -> String {
        nameCount += 1
        return "\(prefix)\(nameCount)"
    }

    private mutating func generateGlobals() -> [String] {
        var out: [String] = []
        for _ in 0..<3 + random.below(6) {
            let type = random.pick(IntType.allCases)
            let name = freshName("g")
            globals.append(Variable(name: name, shape: .scalar(type), isGlobal: true))
            out.append(random.chance(20) ? "static \(type.spelling) \(name);"
                : "static \(type.spelling) \(name) = \(constant().text);")
        }
        for _ in 0..<random.below(3) {
            let type = random.pick(IntType.allCases)
            let count = random.pick([2, 4, 8])
            let name = freshName("ga")
            let isConst = random.chance(25)
            var variable = Variable(name: name, shape: .array(type, count: count), isGlobal: true)
            variable.isReadOnly = isConst
            globals.append(variable)
            let values = (0..<(isConst ? count : random.below(count + 1))).map { _ in constant().text }
            out.append("static \(isConst ? "const " : "")\(type.spelling) \(name)[\(count)]"
                       + (values.isEmpty ? ";" : " = {\(values.joined(separator: ", "))};"))
        }
        for _ in 0..<random.below(3) {
            let index = random.below(structs.count)
            let name = freshName("gs")
            globals.append(Variable(name: name, shape: .structure(index), isGlobal: true))
            out.append("static struct \(structs[index].name) \(name)\(structInitializer(index));")
        }
        return out
    }

    /// ` = {...}` with positional or designated members, or nothing (zero).
    private mutating func structInitializer(_ index: Int) -> String {
        let fields = structs[index].fields
        switch random.below(3) {
        case 0: return ""
        case 1: return " = {" + (0..<1 + random.below(fields.count)).map { _ in constant().text }.joined(separator: ", ") + "}"
        default:
            let chosen = fields.filter { _ in random.chance(50) }
            if chosen.isEmpty { return "" }
            return " = {" + chosen.map { ".\($0.name) = \(constant().text)" }.joined(separator: ", ") + "}"
        }
    }

    /// Declares the locals of a function at its top, each initialized.
    private mutating func declareLocals(_ count: Int) {
        for _ in 0..<count {
            let type = random.pick(IntType.allCases)
            let name = freshName("v")
            var context = ExprContext()
            let initial = random.chance(50) ? constant() : expression(2, &context)
            line("\(type.spelling) \(name) = \(initial.text);")
            locals.append(Variable(name: name, shape: .scalar(type), isGlobal: false))
        }
        if random.chance(50) {
            let type = random.pick(IntType.allCases)
            let count = random.pick([2, 4, 8])
            let name = freshName("a")
            let values = (0..<1 + random.below(count)).map { _ in constant().text }
            line("\(type.spelling) \(name)[\(count)] = {\(values.joined(separator: ", "))};")
            locals.append(Variable(name: name, shape: .array(type, count: count), isGlobal: false))
        }
        if random.chance(50) {
            let index = random.below(structs.count)
            let name = freshName("s")
            var initializer = structInitializer(index)
            if initializer.isEmpty { initializer = " = {0}" }
            line("struct \(structs[index].name) \(name)\(initializer);")
            locals.append(Variable(name: name, shape: .structure(index), isGlobal: false))
            if random.chance(50) {
                let pointer = freshName("p")
                line("struct \(structs[index].name) *\(pointer) = &\(name);")
                locals[locals.count - 1].isAddressTaken = true
                locals.append(Variable(name: pointer, shape: .structPointer(index, pointee: name), isGlobal: false))
            }
        }
        let scalars = locals.indices.filter {
            if case .scalar = locals[$0].shape, !locals[$0].isReadOnly { return true }
            return false
        }
        if !scalars.isEmpty && random.chance(60) {
            let target = random.pick(scalars)
            guard case .scalar(let type) = locals[target].shape else { return }
            let pointer = freshName("p")
            line("\(type.spelling) *\(pointer) = &\(locals[target].name);")
            locals[target].isAddressTaken = true
            locals.append(Variable(name: pointer, shape: .pointer(type, pointee: locals[target].name), isGlobal: false))
        }
    }

    private mutating func generateHelper() -> [String] {
        let name = freshName("h")
        let returnType = random.pick(IntType.allCases)
        let parameters = (0..<random.below(6)).map { _ in random.pick(IntType.allCases) }
        let writesGlobals = random.chance(40)
        // Helpers call no helpers: the kernel limits the stack of a whole call chain to 512 bytes.
        let callable = helpers
        helpers = []
        defer { helpers = callable + [Helper(name: name, returnType: returnType, parameters: parameters,
                                             writesGlobals: writesGlobals)] }
        locals = []
        lines = []
        indent = 1
        mayWriteGlobals = writesGlobals
        var signature: [String] = []
        for type in parameters {
            let parameter = freshName("x")
            signature.append("\(type.spelling) \(parameter)")
            locals.append(Variable(name: parameter, shape: .scalar(type), isGlobal: false))
        }
        line("unsigned long long h = \(random.next() >> 1)ULL;")
        declareLocals(random.below(3))
        for _ in 0..<2 + random.below(5) { statement(depth: 2) }
        var context = ExprContext()
        line("return (\(returnType.spelling))(h + (unsigned long long)\(expression(3, &context).text));")
        let parameterList = signature.isEmpty ? "void" : signature.joined(separator: ", ")
        return ["static \(returnType.spelling) \(name)(\(parameterList))", "{"] + lines + ["}"]
    }

    private mutating func generateMain() -> [String] {
        locals = []
        lines = []
        indent = 1
        mayWriteGlobals = true
        line("unsigned long long h = 14695981039346656037ULL;")
        declareLocals(3 + random.below(5))
        for _ in 0..<5 + random.below(10) { statement(depth: 3) }
        for variable in locals + globals {
            for read in objectReads(variable) { mix(read) }
        }
        line("return (long long)h;")
        return ["long long fuzz_main(void)", "{"] + lines + ["}"]
    }

    /// Every scalar a variable holds, as expressions, for the checksum.
    private func objectReads(_ variable: Variable) -> [String] {
        switch variable.shape {
        case .scalar: return [variable.name]
        case .array(_, let count): return (0..<count).map { "\(variable.name)[\($0)]" }
        case .structure(let index): return structs[index].fields.map { "\(variable.name).\($0.name)" }
        case .pointer, .structPointer: return []
        }
    }

    private mutating func line(_ text: String) {
        lines.append(String(repeating: "\t", count: indent) + text)
    }

    private mutating func mix(_ value: String) {
        line("h = (h ^ (unsigned long long)(\(value))) * 1099511628211ULL;")
    }

    // MARK: - Statements

    private mutating func statement(depth: Int) {
        let roll = random.below(100)
        switch roll {
        case 0..<28: assignment()
        case 28..<42: compoundAssignment()
        case 42..<48: incrementStatement()
        case 48..<58:
            var context = sideEffectContext()
            mix(expression(3, &context).text)
        case 58..<68 where depth > 0: ifStatement(depth: depth)
        case 68..<78 where depth > 0 && loopDepth < 2: loop(depth: depth)
        case 78..<84 where depth > 0: switchStatement(depth: depth)
        case 84..<90: callStatement()
        case 90..<94 where loopDepth > 0:
            var context = ExprContext()
            line("if (\(expression(2, &context).text)) \(random.chance(50) ? "break" : "continue");")
        case 94..<97: structCopy()
        default: assignment()
        }
    }

    /// A context that may modify one local scalar whose address is never taken.
    private mutating func sideEffectContext() -> ExprContext {
        let candidates = locals.filter {
            if case .scalar = $0.shape, !$0.isReadOnly, !$0.isAddressTaken { return true }
            return false
        }
        guard !candidates.isEmpty, random.chance(45) else { return ExprContext() }
        let chosen = random.pick(candidates)
        return ExprContext(avoid: [chosen.name], sideEffect: chosen)
    }

    private mutating func assignment() {
        var context = sideEffectContext()
        guard let target = lvalue(&context, forWrite: true) else { return }
        let value = expression(3, &context)
        line("\(target.text) = \(value.text);")
    }

    private mutating func compoundAssignment() {
        var context = sideEffectContext()
        guard let target = lvalue(&context, forWrite: true) else { return }
        line(compound(target, &context) + ";")
    }

    /// `target op= value`, with an operator and operand for which C defines it.
    private mutating func compound(_ target: LValue, _ context: inout ExprContext) -> String {
        let op = random.pick(BinaryOp.compound)
        let promoted = target.readType.promoted
        var value: Expr
        switch op {
        case .shl, .shr:
            value = shiftCount(width: promoted.bits, &context)
        case .div, .mod:
            // The target may hold MIN: the divisor stays positive.
            value = random.chance(50) ? literal(Int128(1 + random.below(20))) : maskedPlusOne(&context)
        case .add, .sub, .mul, .and, .or, .xor, .lt, .le, .gt, .ge, .eq, .ne, .logicalAnd, .logicalOr:
            value = expression(3, &context)
        }
        let left = (target.readType, target.range)
        if binaryResult(op, left, (value.type, value.range)) == nil {
            value = narrowed(value, for: commonType(target.readType, value.type))
        }
        if binaryResult(op, left, (value.type, value.range)) == nil {
            return "\(target.text) ^= \(value.text)"
        }
        return "\(target.text) \(op.spelling)= \(value.text)"
    }

    /// Whether `++`/`--` on an object of this kind is defined for every value it can hold.
    private func incrementIsSafe(_ target: LValue) -> Bool {
        !target.readType.promoted.isSigned || target.range.within(ValueRange(Int128(Int32.min) + 1, Int128(Int32.max) - 1))
    }

    private mutating func incrementStatement() {
        var context = ExprContext()
        guard let target = lvalue(&context, forWrite: true), incrementIsSafe(target) else { return }
        line(random.pick(["\(target.text)++;", "\(target.text)--;", "++\(target.text);", "--\(target.text);"]))
    }

    private mutating func ifStatement(depth: Int) {
        var context = sideEffectContext()
        line("if (\(expression(3, &context).text)) {")
        block(depth: depth - 1)
        if random.chance(50) {
            line("} else {")
            block(depth: depth - 1)
        }
        line("}")
    }

    private mutating func block(depth: Int) {
        indent += 1
        for _ in 0..<1 + random.below(3) { statement(depth: depth) }
        indent -= 1
    }

    /// A loop with a small constant trip count; its counter is read-only in the body.
    private mutating func loop(depth: Int) {
        let trips = 1 + random.below(3)
        let counter = freshName("i")
        var variable = Variable(name: counter, shape: .scalar(.int), isGlobal: false)
        variable.isReadOnly = true
        variable.knownRange = ValueRange(0, Int128(trips - 1))
        let scopeStart = locals.count
        switch random.below(3) {
        case 0:
            line("for (int \(counter) = 0; \(counter) < \(trips); \(counter)++) {")
            locals.append(variable)
            loopBody(depth: depth)
            line("}")
        case 1:
            line("{")
            indent += 1
            line("int \(counter) = \(trips);")
            line("while (\(counter) > 0) {")
            indent += 1
            line("\(counter)--;")
            indent -= 1
            locals.append(variable)
            loopBody(depth: depth)
            line("}")
            indent -= 1
            line("}")
        default:
            line("{")
            indent += 1
            line("int \(counter) = 0;")
            line("do {")
            locals.append(variable)
            loopBody(depth: depth)
            line("} while (++\(counter) < \(trips));")
            indent -= 1
            line("}")
        }
        locals.removeSubrange(scopeStart...)
    }

    private mutating func loopBody(depth: Int) {
        loopDepth += 1
        block(depth: depth - 1)
        loopDepth -= 1
    }

    private mutating func switchStatement(depth: Int) {
        var context = sideEffectContext()
        var selector = expression(3, &context)
        if random.chance(75) {
            selector = binaryResult(.and, (selector.type, selector.range), (.int, ValueRange(7, 7))).map {
                Expr(text: "(\(selector.text) & 7)", type: $0.0, range: $0.1)
            } ?? selector
        }
        line("switch (\(selector.text)) {")
        var labels = Array(0...7).filter { _ in random.chance(40) }
        if random.chance(20) { labels.append(-1) }
        for label in labels {
            line("case \(label):")
            block(depth: depth - 1)
            if random.chance(70) { line("\tbreak;") }
        }
        if random.chance(60) {
            line("default:")
            block(depth: depth - 1)
        }
        line("}")
    }

    /// A call to a helper as a statement of its own: the only place a helper that writes globals
    /// may be called, with its result stored in a local that no global write can touch.
    private mutating func callStatement() {
        guard !helpers.isEmpty else { return assignment() }
        let helper = random.pick(helpers)
        if helper.writesGlobals && !mayWriteGlobals { return }
        var context = ExprContext()
        let call = callText(helper, &context)
        let targets = locals.filter {
            if case .scalar = $0.shape, !$0.isReadOnly { return true }
            return false
        }
        if let target = targets.isEmpty ? nil : random.pick(targets), random.chance(70) {
            line("\(target.name) = \(call);")
        } else {
            line("\(call);")
        }
    }

    private mutating func callText(_ helper: Helper, _ context: inout ExprContext) -> String {
        let arguments = helper.parameters.map { _ in expression(2, &context).text }
        return "\(helper.name)(\(arguments.joined(separator: ", ")))"
    }

    /// Whole-struct assignment between two objects of one struct type.
    private mutating func structCopy() {
        let structures = (locals + globals).filter {
            if case .structure = $0.shape { return !$0.isGlobal || mayWriteGlobals }
            return false
        }
        guard let target = structures.isEmpty ? nil : random.pick(structures),
              case .structure(let index) = target.shape else { return assignment() }
        let sources = (locals + globals).filter {
            if case .structure(let other) = $0.shape { return other == index && $0.name != target.name }
            return false
        }
        guard let source = sources.isEmpty ? nil : random.pick(sources) else { return assignment() }
        line("\(target.name) = \(source.name);")
    }

    // MARK: - Expressions

    /// An object to read or write, avoiding what the context forbids; nil when there is none.
    private mutating func lvalue(_ context: inout ExprContext, forWrite: Bool) -> LValue? {
        let candidates = (locals + globals).filter { variable in
            if context.avoid.contains(variable.identity) { return false }
            if forWrite && (variable.isReadOnly || (variable.isGlobal && !mayWriteGlobals)) { return false }
            return true
        }
        guard !candidates.isEmpty else { return nil }
        let variable = random.pick(candidates)
        switch variable.shape {
        case .scalar(let type):
            return LValue(text: variable.name, readType: type, range: variable.knownRange ?? type.range,
                          identity: variable.identity)
        case .pointer(let type, _):
            return LValue(text: "(*\(variable.name))", readType: type, range: type.range, identity: variable.identity)
        case .array(let type, let count):
            let index: String
            if random.chance(40) {
                index = String(random.below(count))
            } else {
                index = "(\(expression(2, &context).text)) & \(count - 1)"
            }
            return LValue(text: "\(variable.name)[\(index)]", readType: type, range: type.range,
                          identity: variable.identity)
        case .structure(let index):
            let field = random.pick(structs[index].fields)
            return LValue(text: "\(variable.name).\(field.name)", readType: field.readType, range: field.range,
                          identity: variable.identity)
        case .structPointer(let index, _):
            let field = random.pick(structs[index].fields)
            return LValue(text: "\(variable.name)->\(field.name)", readType: field.readType, range: field.range,
                          identity: variable.identity)
        }
    }

    mutating func expression(_ depth: Int, _ context: inout ExprContext) -> Expr {
        if depth <= 0 || random.chance(20) { return leaf(&context) }
        switch random.below(100) {
        case 0..<40: return binary(depth, &context)
        case 40..<52: return unary(depth, &context)
        case 52..<62:
            let operand = expression(depth - 1, &context)
            return cast(operand, to: random.pick(IntType.allCases))
        case 62..<70:
            let condition = expression(depth - 1, &context)
            let a = expression(depth - 1, &context), b = expression(depth - 1, &context)
            let type = commonType(a.type, b.type)
            return Expr(text: "(\(condition.text) ? \(a.text) : \(b.text))", type: type,
                        range: a.range.converted(to: type).union(b.range.converted(to: type)))
        case 70..<74:
            let a = expression(depth - 1, &context), b = expression(depth - 1, &context)
            return Expr(text: "(\(a.text), \(b.text))", type: b.type, range: b.range, isComma: true)
        case 74..<84:
            return sideEffect(depth, &context) ?? binary(depth, &context)
        case 84..<90:
            let pure = helpers.filter { !$0.writesGlobals }
            guard !pure.isEmpty else { return binary(depth, &context) }
            let helper = random.pick(pure)
            return Expr(text: callText(helper, &context), type: helper.returnType, range: helper.returnType.range)
        default:
            return leaf(&context)
        }
    }

    private mutating func leaf(_ context: inout ExprContext) -> Expr {
        if random.chance(30) { return constant() }
        guard let read = lvalue(&context, forWrite: false) else { return constant() }
        return Expr(text: read.text, type: read.readType, range: read.range)
    }

    /// The one modification of the context's variable, as an expression.
    private mutating func sideEffect(_ depth: Int, _ context: inout ExprContext) -> Expr? {
        guard let variable = context.sideEffect, case .scalar(let type) = variable.shape else { return nil }
        context.sideEffect = nil
        let target = LValue(text: variable.name, readType: type, range: type.range, identity: variable.name)
        switch random.below(3) {
        case 0:
            let value = expression(depth - 1, &context)
            return Expr(text: "(\(variable.name) = \(value.text))", type: type, range: value.range.converted(to: type))
        case 1:
            return Expr(text: "(\(compound(target, &context)))", type: type, range: type.range)
        default:
            guard incrementIsSafe(target) else { return nil }
            let text = random.pick(["\(variable.name)++", "\(variable.name)--", "++\(variable.name)", "--\(variable.name)"])
            return Expr(text: "(\(text))", type: type, range: type.range)
        }
    }

    private mutating func unary(_ depth: Int, _ context: inout ExprContext) -> Expr {
        var operand = expression(depth - 1, &context)
        let type = operand.type.promoted
        switch random.below(4) {
        case 0:
            if type.isSigned {
                if !ValueRange(-operand.range.hi, -operand.range.lo).within(type.range) {
                    operand = narrowed(operand, for: type)
                }
                return Expr(text: "(-\(operand.text))", type: type, range: ValueRange(-operand.range.hi, -operand.range.lo))
            }
            let r = operand.range.converted(to: type), modulus = type.range.hi + 1
            let range = r.lo > 0 ? ValueRange(modulus - r.hi, modulus - r.lo) : r.hi == 0 ? r : type.range
            return Expr(text: "(-\(operand.text))", type: type, range: range)
        case 1:
            let r = operand.range.converted(to: type)
            let range = type.isSigned ? ValueRange(-r.hi - 1, -r.lo - 1) : ValueRange(type.range.hi - r.hi, type.range.hi - r.lo)
            return Expr(text: "(~\(operand.text))", type: type, range: range)
        case 2:
            return Expr(text: "(!\(operand.text))", type: .int, range: ValueRange(0, 1))
        default:
            return Expr(text: "(+\(operand.text))", type: type, range: operand.range.converted(to: type))
        }
    }

    private func cast(_ e: Expr, to type: IntType) -> Expr {
        if e.isComma && type == .bool {
            return Expr(text: "((_Bool)(\(e.text) != 0))", type: type, range: e.range.converted(to: type))
        }
        return Expr(text: "((\(type.spelling))\(e.text))", type: type, range: e.range.converted(to: type))
    }

    /// `e` with its values cut down so that two such operands can be added, subtracted or
    /// multiplied in `type` without overflow: through short for int, through int for 64 bits.
    private func narrowed(_ e: Expr, for type: IntType) -> Expr {
        type.bits <= 32 ? cast(e, to: .short) : cast(cast(e, to: .int), to: type)
    }

    private mutating func binary(_ depth: Int, _ context: inout ExprContext) -> Expr {
        let op = random.pick(BinaryOp.allCases)
        var a = expression(depth - 1, &context)
        switch op {
        case .shl, .shr:
            if op == .shl && a.type.promoted.isSigned && (a.range.lo < 0 || random.chance(50)) {
                a = cast(a, to: a.type.promoted.unsignedCounterpart)
            }
            let count = shiftCount(width: a.type.promoted.bits, &context)
            if binaryResult(op, (a.type, a.range), (count.type, count.range)) == nil {
                a = cast(a, to: a.type.promoted.unsignedCounterpart)
            }
            return combine(op, a, count)
        case .div, .mod:
            if random.chance(30), let divisor = guardedDivisor(&context) {
                let type = commonType(a.type, divisor.type)
                if a.range.converted(to: type).contains(type.range.lo) && type.isSigned { a = narrowed(a, for: type) }
                if let (resultType, range) = binaryResult(op, (a.type, a.range), (divisor.type, divisor.range),
                                                          divisorNonZero: true) {
                    let type = commonType(resultType, .int)
                    return Expr(text: "(\(divisor.text) ? (\(a.text) \(op.spelling) \(divisor.text)) : 0)", type: type,
                                range: range.converted(to: type).union(ValueRange(0, 0)))
                }
            }
            let divisor = random.chance(40) ? literal(random.pick([1, 2, 3, 7, -1, -3, 10, 16, 255, -128, 65536, 1 << 33]))
                : maskedPlusOne(&context)
            let type = commonType(a.type, divisor.type)
            if binaryResult(op, (a.type, a.range), (divisor.type, divisor.range)) == nil, type.isSigned {
                a = narrowed(a, for: type)
            }
            return combine(op, a, divisor)
        case .add, .sub, .mul, .and, .or, .xor, .lt, .le, .gt, .ge, .eq, .ne, .logicalAnd, .logicalOr:
            var b = expression(depth - 1, &context)
            if binaryResult(op, (a.type, a.range), (b.type, b.range)) == nil {
                let type = commonType(a.type, b.type)
                (a, b) = (narrowed(a, for: type), narrowed(b, for: type))
            }
            return combine(op, a, b)
        }
    }

    /// `a op b`, which the caller has made defined.
    private func combine(_ op: BinaryOp, _ a: Expr, _ b: Expr) -> Expr {
        guard let (type, range) = binaryResult(op, (a.type, a.range), (b.type, b.range)) else {
            preconditionFailure("generator bug: \(a.text) \(op.spelling) \(b.text) can be undefined")
        }
        return Expr(text: "(\(a.text) \(op.spelling) \(b.text))", type: type, range: range)
    }

    /// A shift count in [0, width): a constant, or any expression masked.
    private mutating func shiftCount(width: Int, _ context: inout ExprContext) -> Expr {
        if random.chance(40) { return literal(Int128(random.below(width))) }
        let e = expression(2, &context)
        guard let (type, range) = binaryResult(.and, (e.type, e.range), (.int, ValueRange(Int128(width - 1), Int128(width - 1))))
        else { preconditionFailure("masking cannot be undefined") }
        return Expr(text: "(\(e.text) & \(width - 1))", type: type, range: range)
    }

    /// `((e & mask) + 1)`: a divisor in [1, mask + 1].
    private mutating func maskedPlusOne(_ context: inout ExprContext) -> Expr {
        let mask = random.pick([1, 3, 7, 15, 255])
        let e = expression(2, &context)
        let masked = combine(.and, e, literal(Int128(mask)))
        return combine(.add, masked, literal(1))
    }

    /// A scalar variable to test against zero before dividing by it.
    private mutating func guardedDivisor(_ context: inout ExprContext) -> Expr? {
        let scalars = (locals + globals).filter {
            if case .scalar = $0.shape { return !context.avoid.contains($0.name) }
            return false
        }
        guard let variable = scalars.isEmpty ? nil : random.pick(scalars), case .scalar(let type) = variable.shape else {
            return nil
        }
        return Expr(text: variable.name, type: type, range: variable.knownRange ?? type.range)
    }

    // MARK: - Constants

    /// A plain decimal literal of a small non-negative value, or a negated one.
    private func literal(_ value: Int128) -> Expr {
        value >= 0 ? Expr(text: "\(value)", type: literalType(value, hex: false, suffix: "") ?? .longLong,
                          range: ValueRange(value, value))
            : Expr(text: "(-\(-value))", type: literalType(-value, hex: false, suffix: "") ?? .longLong,
                   range: ValueRange(value, value))
    }

    /// An integer constant of interesting value, spelled with a random base and suffix, maybe
    /// negated or cast.
    mutating func constant() -> Expr {
        let magnitudes: [Int128] = [0, 1, 2, 3, 5, 7, 8, 15, 16, 31, 32, 63, 64, 100, 127, 128, 200, 255, 256, 1000,
                                    32767, 32768, 65535, 65536, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff, 0x1_0000_0000,
                                    0x7fff_ffff_ffff_ffff, 0x8000_0000_0000_0000, 0xffff_ffff_ffff_ffff]
        var value = random.chance(70) ? random.pick(magnitudes) : Int128(random.next() >> UInt64(random.below(64)))
        if random.chance(10) && value > 0 { value -= 1 }
        let hex = random.chance(40)
        var suffix = random.pick(["", "", "u", "l", "ul", "ll", "ull", "U", "LL"])
        if !hex && !suffix.lowercased().contains("u") && value > Int128(Int64.max) { suffix = "ull" }
        guard let type = literalType(value, hex: hex, suffix: suffix) else { return literal(0) }
        var e = Expr(text: hex ? "0x" + String(value, radix: 16) + suffix : "\(value)\(suffix)", type: type,
                     range: ValueRange(value, value))
        if random.chance(25) {
            let negated = type.isSigned ? -value : (value == 0 ? 0 : type.range.hi + 1 - value)
            e = Expr(text: "(-\(e.text))", type: type, range: ValueRange(negated, negated))
        }
        if random.chance(20) {
            let target = random.pick(IntType.allCases)
            e = Expr(text: "((\(target.spelling))\(e.text))", type: target, range: exactConversion(e.range.lo, to: target))
        }
        return e
    }
}

/// The exact value of converting `v` to `type`: modulo 2^bits, then into the signed range.
func exactConversion(_ v: Int128, to type: IntType) -> ValueRange {
    if type == .bool { return v == 0 ? ValueRange(0, 0) : ValueRange(1, 1) }
    let modulus = Int128(1) << type.bits
    var r = v % modulus
    if r < 0 { r += modulus }
    if type.isSigned && r > type.range.hi { r -= modulus }
    return ValueRange(r, r)
}

/// The type of an integer literal (C11 6.4.4.1): the first of its list that holds the value.
func literalType(_ value: Int128, hex: Bool, suffix: String) -> IntType? {
    let s = suffix.lowercased()
    let candidates: [IntType]
    switch (s, hex) {
    case ("", false): candidates = [.int, .long, .longLong]
    case ("", true): candidates = [.int, .unsignedInt, .long, .unsignedLong, .longLong, .unsignedLongLong]
    case ("u", _): candidates = [.unsignedInt, .unsignedLong, .unsignedLongLong]
    case ("l", false): candidates = [.long, .longLong]
    case ("l", true): candidates = [.long, .unsignedLong, .longLong, .unsignedLongLong]
    case ("ul", _): candidates = [.unsignedLong, .unsignedLongLong]
    case ("ll", false): candidates = [.longLong]
    case ("ll", true): candidates = [.longLong, .unsignedLongLong]
    default: candidates = [.unsignedLongLong]
    }
    return candidates.first { $0.range.contains(value) }
}
