// Random C programs in the subset swiftbpfcc compiles, for differential testing against `cc`.
//
// A program is deterministic from its seed. It has globals of every integer type (scalars,
// arrays, const tables, narrow and wide strings, structs whose flexible array member the
// initializer sizes), struct types with bit-fields of every width, unnamed bit-fields, arrays and
// nested structs and unions (named or anonymous), initialized positionally (braces elided or not)
// or by designators that override each other; small static helpers with 0-5 arguments; and
// `long long fuzz_main(void)`, which computes with all of them and folds every value it computed
// into a checksum. Statements include overlapping `__builtin_memmove`s, loops over const tables
// (to their end or to their first zero) and loops guarded by libbpf's `can_loop` shape;
// expressions include statement expressions whose value is a labelled last statement and reads
// of wide string literals through pointer casts. `fuzz_prog`, a syscall program, stores the
// checksum through its context.
//
// The programs have no undefined behaviour, by construction:
// - every expression carries its type and an interval of its possible values (`CIntegers.swift`);
//   signed arithmetic that could overflow gets its operands narrowed by casts first, divisors are
//   made non-zero (and not -1 when the dividend can be MIN), shift counts are masked to the width
//   and left shifts of possibly negative values go through the unsigned type;
// - array indices are masked with `& (count - 1)`; every local is initialized where declared;
// - union members all have one size and no _Bool, so any member reads defined bytes whatever was
//   stored; bytes are only moved inside structs without _Bool members, bit-fields or padding
//   (a local's padding holds what the stack held);
// - initializer elements of locals have no side effects (their order is unspecified);
// - a full expression modifies at most one variable, a local whose address is never taken, and
//   reads it nowhere else; helpers called inside expressions never write globals.
// What C leaves implementation-defined (conversions to a narrower signed type, right shifts of
// negative values) is used freely: cc and the BPF target agree on it, and it is where bugs hide.

import IRTestSupport

/// A generated expression: its text (fully parenthesized), C type and possible values.
struct Expr {
    var text: String
    var type: IntType
    var range: ValueRange
    /// `(a, b)`: gcc 12 with UBSan crashes on a cast of one to _Bool (an internal compiler error
    /// in gimplify_expr) when both operands are constant, so such a cast compares with 0 first.
    var isComma = false
}

/// A struct type of the program: scalars, bit-fields (unnamed ones too), arrays, and nested
/// structs and unions, named or anonymous, one level deep.
struct StructType {
    /// One scalar the struct holds, named by its member path (`f3`, `f4.f5`, `f6[1]`, or `f8`
    /// inside an anonymous member).
    struct Field {
        var name: String
        var type: IntType
        /// Non-nil for a bit-field.
        var bitWidth: Int?
        /// Inside a union: positional initializers may not reach it.
        var inUnion = false

        /// What the field can hold.
        var range: ValueRange {
            guard let width = bitWidth else { return type.range }
            if type == .bool { return ValueRange(0, 1) }
            return type.isSigned ? ValueRange(-(Int128(1) << (width - 1)), (Int128(1) << (width - 1)) - 1)
                : ValueRange(0, (Int128(1) << width) - 1)
        }

        /// gcc gives a bit-field at least as wide as int but narrower than its type a type of
        /// that exact width (`unsigned long : 40` adds modulo 2^40); clang uses the declared
        /// type. Such a field is read through a cast to its declared type, where both agree, and
        /// only ever assigned as a whole.
        var isBitPrecise: Bool { bitWidth.map { $0 >= 32 && $0 < type.bits } ?? false }

        /// The type a read has: a bit-field narrower than int promotes to int (C11 6.3.1.1).
        var readType: IntType {
            guard let width = bitWidth, width < 32 else { return type }
            return .int
        }
    }

    /// A member as declared.
    indirect enum Member {
        case scalar(Field)
        /// An unnamed bit-field: layout only; initializers skip it.
        case padding(IntType, width: Int)
        case array(name: String, IntType, count: Int)
        /// A nested struct or union; nil name: an anonymous member.
        case record(name: String?, Record)
    }

    struct Record {
        var isUnion: Bool
        var members: [Member]
    }

    var name: String
    var record: Record
    /// Every scalar the struct holds.
    var fields: [Field]
    /// `sizeof`, for a struct without padding or bit-fields: the only structs whose bytes may be
    /// moved around, since a local's padding holds whatever the stack held before.
    var packedSize: Int?
    /// A _Bool member: bytes moved into it could make a value C does not define.
    var hasBool: Bool
}

/// A string literal and the code units it stores, its terminator not included.
struct StringLiteral {
    var text: String
    var units: [Int128]
    /// The type of one unit: `char`, or what an array initialized by the wide literal holds.
    var unitType: IntType
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
    /// Every element of a const array, for loops that stop at a zero.
    var tableValues: [Int128]?

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
    /// A bit-field of gcc's exact-width kind (`StructType.Field.isBitPrecise`): read through a
    /// cast, written only by plain assignment.
    var isBitPrecise = false

    /// The text that reads it.
    var readText: String { isBitPrecise ? "((\(readType.spelling))\(text))" : text }
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
    /// How many more expression nodes the line being generated may get: array indices and
    /// statement expressions nest expressions whose depth does not shrink, and gcc takes
    /// minutes over lines of tens of kilobytes.
    private var expressionBudget = ProgramGenerator.expressionsPerLine
    private static let expressionsPerLine = 60

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
            let type = structType(name: "S\(s)")
            structs.append(type)
            out += ["struct \(type.name) {"] + declaration(type.record, indent: 1) + ["};"]
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

    // MARK: - Struct types

    private mutating func structType(name: String) -> StructType {
        var fieldCount = 0
        func fresh() -> String {
            fieldCount += 1
            return "f\(fieldCount)"
        }
        var members: [StructType.Member] = []
        for _ in 0..<2 + random.below(4) {
            switch random.below(100) {
            case 0..<40: members.append(.scalar(.init(name: fresh(), type: random.pick(IntType.allCases))))
            case 40..<62: members.append(.scalar(bitField(name: fresh())))
            case 62..<67:
                let type = random.pick(IntType.allCases.filter { $0 != .bool })
                members.append(.padding(type, width: random.below(type.bits + 1)))
            case 67..<77: members.append(.array(name: fresh(), random.pick(IntType.allCases), count: 2 + random.below(2)))
            case 77..<88:
                let inner = (0..<1 + random.below(3)).map { _ in
                    StructType.Member.scalar(random.chance(40) ? bitField(name: fresh())
                        : .init(name: fresh(), type: random.pick(IntType.allCases)))
                }
                members.append(.record(name: random.chance(50) ? fresh() : nil, .init(isUnion: false, members: inner)))
            default:
                // Members of one size and no _Bool: whatever member was stored, every other one reads
                // back defined bytes.
                let bits = random.pick([8, 16, 32, 64])
                let whole = IntType.allCases.filter { $0.bits == bits && $0 != .bool }
                let half = IntType.allCases.filter { $0.bits == bits / 2 && $0 != .bool }
                var inner: [StructType.Member] = []
                for _ in 0..<2 + random.below(2) {
                    switch random.below(3) {
                    case 1 where bits >= 16:
                        let halves = StructType.Record(isUnion: false, members: [
                            .scalar(.init(name: fresh(), type: random.pick(half))),
                            .scalar(.init(name: fresh(), type: random.pick(half)))])
                        inner.append(.record(name: random.chance(50) ? fresh() : nil, halves))
                    case 2 where bits >= 16:
                        inner.append(.array(name: fresh(), .unsignedChar, count: bits / 8))
                    default:
                        inner.append(.scalar(.init(name: fresh(), type: random.pick(whole))))
                    }
                }
                members.append(.record(name: random.chance(50) ? fresh() : nil, .init(isUnion: true, members: inner)))
            }
        }
        if case .padding = members[0] { members.swapAt(0, members.count - 1) }
        if case .padding = members[0] { members[0] = .scalar(.init(name: fresh(), type: .int)) }
        let record = StructType.Record(isUnion: false, members: members)
        let fields = leaves(record, prefix: "", inUnion: false)
        return StructType(name: name, record: record, fields: fields, packedSize: layoutWithoutPadding(record)?.size,
                          hasBool: fields.contains { $0.type == .bool })
    }

    /// A bit-field of any type and any width the type allows.
    private mutating func bitField(name: String) -> StructType.Field {
        let type = random.pick(IntType.allCases)
        if type == .bool { return .init(name: name, type: type, bitWidth: 1) }
        return .init(name: name, type: type, bitWidth: 1 + random.below(type.bits))
    }

    private func leaves(_ record: StructType.Record, prefix: String, inUnion: Bool) -> [StructType.Field] {
        var out: [StructType.Field] = []
        for member in record.members {
            switch member {
            case .scalar(var field):
                field.name = prefix + field.name
                field.inUnion = inUnion
                out.append(field)
            case .padding:
                break
            case .array(let name, let type, let count):
                out += (0..<count).map { StructType.Field(name: "\(prefix)\(name)[\($0)]", type: type, inUnion: inUnion) }
            case .record(let name, let inner):
                out += leaves(inner, prefix: prefix + (name.map { "\($0)." } ?? ""), inUnion: inUnion || record.isUnion)
            }
        }
        return out
    }

    /// The size and alignment of `record` when it has no padding and no bit-fields (every member
    /// aligned to its size, x86-64's and BPF's rule); nil otherwise.
    private func layoutWithoutPadding(_ record: StructType.Record) -> (size: Int, alignment: Int)? {
        var size = 0, alignment = 1
        for member in record.members {
            let layout: (size: Int, alignment: Int)
            switch member {
            case .scalar(let field):
                guard field.bitWidth == nil else { return nil }
                layout = (field.type.bits / 8, field.type.bits / 8)
            case .padding:
                return nil
            case .array(_, let type, let count):
                layout = (type.bits / 8 * count, type.bits / 8)
            case .record(_, let inner):
                guard let inner = layoutWithoutPadding(inner) else { return nil }
                layout = inner
            }
            alignment = max(alignment, layout.alignment)
            if record.isUnion {
                guard size == 0 || size == layout.size else { return nil }
                size = layout.size
            } else {
                guard size % layout.alignment == 0 else { return nil }
                size += layout.size
            }
        }
        return size % alignment == 0 ? (size, alignment) : nil
    }

    private func declaration(_ record: StructType.Record, indent: Int) -> [String] {
        let tabs = String(repeating: "\t", count: indent)
        var out: [String] = []
        for member in record.members {
            switch member {
            case .scalar(let field):
                out.append(tabs + "\(field.type.spelling) \(field.name)\(field.bitWidth.map { " : \($0)" } ?? "");")
            case .padding(let type, let width):
                out.append(tabs + "\(type.spelling) : \(width);")
            case .array(let name, let type, let count):
                out.append(tabs + "\(type.spelling) \(name)[\(count)];")
            case .record(let name, let inner):
                out.append(tabs + (inner.isUnion ? "union {" : "struct {"))
                out += declaration(inner, indent: indent + 1)
                out.append(tabs + "}\(name.map { " \($0)" } ?? "");")
            }
        }
        return out
    }

    // MARK: - Initializers

    /// An initializer element: a constant for a global, sometimes an expression without side
    /// effects for a local (the order in which a list's elements are evaluated is unspecified).
    private mutating func initializerValue(global: Bool) -> String {
        if global || random.chance(70) { return constant().text }
        var context = ExprContext()
        return expression(2, &context).text
    }

    /// ` = {...}` for a struct: positional (braces around sub-aggregates or elided), designated
    /// (overriding earlier designators, whole sub-objects and single members alike), or nothing.
    private mutating func structInitializer(_ index: Int, global: Bool) -> String {
        let record = structs[index].record
        switch random.below(4) {
        case 0: return ""
        case 1: return " = {\(positional(record, global: global).joined(separator: ", "))}"
        default: return " = {\(designated(record, global: global).joined(separator: ", "))}"
        }
    }

    /// The elements of a positional list for `record`, a prefix of what would set every member.
    private mutating func positional(_ record: StructType.Record, global: Bool) -> [String] {
        var out: [String] = []
        let members = record.members.filter {
            if case .padding = $0 { return false }
            return true
        }
        for member in record.isUnion ? Array(members.prefix(1)) : members {
            switch member {
            case .scalar:
                out.append(initializerValue(global: global))
            case .padding:
                break
            case .array(_, _, let count):
                let values = (0..<count).map { _ in initializerValue(global: global) }
                out += random.chance(50) ? values : ["{\(values.prefix(1 + random.below(count)).joined(separator: ", "))}"]
            case .record(_, let inner):
                if random.chance(50) {
                    out.append("{\(positional(inner, global: global).joined(separator: ", "))}")
                } else {
                    out += elided(inner, global: global)
                }
            }
        }
        return Array(out.prefix(1 + random.below(out.count)))
    }

    /// Every scalar a brace-elided sub-aggregate takes, in order.
    private mutating func elided(_ record: StructType.Record, global: Bool) -> [String] {
        var out: [String] = []
        // A union takes its first member's (the generator gives unions no unnamed bit-fields).
        for member in record.isUnion ? Array(record.members.prefix(1)) : record.members {
            switch member {
            case .scalar: out.append(initializerValue(global: global))
            case .padding: break
            case .array(_, _, let count): out += (0..<count).map { _ in initializerValue(global: global) }
            case .record(_, let inner): out += elided(inner, global: global)
            }
        }
        return out
    }

    /// Designated elements for `record`: single scalars (`.f4.f5 = 1`, `.f6[1] = 2`), whole
    /// sub-objects (`.f4 = { ... }`), some followed by positional elements that continue after
    /// the designated one. Repeats override what came before.
    private mutating func designated(_ record: StructType.Record, global: Bool) -> [String] {
        let scalars = leaves(record, prefix: "", inUnion: record.isUnion)
        let order = positionalOrder(record, prefix: "")
        let wholes = aggregates(record, prefix: "")
        var out: [String] = []
        for _ in 0..<1 + random.below(5) {
            if !wholes.isEmpty && random.chance(30) {
                let (path, member) = random.pick(wholes)
                out.append(".\(path) = {\(subobjectList(member, global: global).joined(separator: ", "))}")
                continue
            }
            let field = random.pick(scalars)
            out.append(".\(field.name) = \(initializerValue(global: global))")
            if !field.inUnion, let position = order.firstIndex(of: field.name), position + 1 < order.count, random.chance(30) {
                let more = 1 + random.below(min(3, order.count - position - 1))
                out += (0..<more).map { _ in initializerValue(global: global) }
            }
        }
        return out
    }

    /// The scalars positional elements reach, in order: a union's first member only.
    private func positionalOrder(_ record: StructType.Record, prefix: String) -> [String] {
        var out: [String] = []
        for member in record.isUnion ? Array(record.members.prefix(1)) : record.members {
            switch member {
            case .scalar(let field): out.append(prefix + field.name)
            case .padding: break
            case .array(let name, _, let count): out += (0..<count).map { "\(prefix)\(name)[\($0)]" }
            case .record(let name, let inner): out += positionalOrder(inner, prefix: prefix + (name.map { "\($0)." } ?? ""))
            }
        }
        return out
    }

    /// The named sub-aggregates a designator can name whole, by path.
    private func aggregates(_ record: StructType.Record, prefix: String) -> [(String, StructType.Member)] {
        var out: [(String, StructType.Member)] = []
        for member in record.members {
            switch member {
            case .scalar, .padding:
                break
            case .array(let name, _, _):
                out.append((prefix + name, member))
            case .record(let name, let inner):
                if let name { out.append((prefix + name, member)) }
                out += aggregates(inner, prefix: prefix + (name.map { "\($0)." } ?? ""))
            }
        }
        return out
    }

    /// The elements of a braced list for a whole array or record member.
    private mutating func subobjectList(_ member: StructType.Member, global: Bool) -> [String] {
        switch member {
        case .scalar, .padding:
            return [initializerValue(global: global)]
        case .array(_, _, let count):
            if random.chance(50) {
                return (0..<1 + random.below(count)).map { _ in initializerValue(global: global) }
            }
            return (0..<1 + random.below(count)).map { _ in "[\(random.below(count))] = \(initializerValue(global: global))" }
        case .record(_, let inner):
            return random.chance(50) ? positional(inner, global: global) : designated(inner, global: global)
        }
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
            let values = (0..<(isConst ? 1 + random.below(count) : random.below(count + 1))).map { _ in constant() }
            var variable = Variable(name: name, shape: .array(type, count: count), isGlobal: true)
            variable.isReadOnly = isConst
            if isConst {
                let known = values.map { exactConversion($0.range.lo, to: type).lo }
                variable.tableValues = known + Array(repeating: 0, count: count - known.count)
            }
            globals.append(variable)
            out.append("static \(isConst ? "const " : "")\(type.spelling) \(name)[\(count)]"
                       + (values.isEmpty ? ";" : " = {\(values.map(\.text).joined(separator: ", "))};"))
        }
        for _ in 0..<random.below(3) {
            // Strings, narrow and wide, as tables: what loops that stop at a zero walk.
            let count = random.pick([2, 4, 8, 16])
            let string = stringLiteral(maxUnits: count, narrow: random.chance(40))
            let name = freshName("gw")
            let isConst = random.chance(70)
            var variable = Variable(name: name, shape: .array(string.unitType, count: count), isGlobal: true)
            variable.isReadOnly = isConst
            if isConst { variable.tableValues = string.units + Array(repeating: 0, count: count - string.units.count) }
            globals.append(variable)
            out.append("static \(isConst ? "const " : "")\(string.unitType.spelling) \(name)[\(count)] = \(string.text);")
        }
        for _ in 0..<random.below(2) {
            out += flexibleGlobal()
        }
        for _ in 0..<random.below(3) {
            let index = random.below(structs.count)
            let name = freshName("gs")
            globals.append(Variable(name: name, shape: .structure(index), isGlobal: true))
            out.append("static struct \(structs[index].name) \(name)\(structInitializer(index, global: true));")
        }
        return out
    }

    /// A global struct whose flexible array member the initializer sizes (a GNU extension), in
    /// one of the ways C allows to spell it; its header and its array become two variables.
    private mutating func flexibleGlobal() -> [String] {
        let header = random.pick(IntType.allCases), element = random.pick(IntType.allCases)
        let count = random.pick([1, 2, 4, 8])
        let name = freshName("gf")
        let values = (0..<count).map { _ in constant() }
        let list = values.map(\.text).joined(separator: ", ")
        let first = constant().text
        let initializer: String
        switch random.below(4) {
        case 0: initializer = "{\(first), {\(list)}}"
        case 1: initializer = "{\(first), \(list)}"
        case 2: initializer = "{.n = \(first), .d = {\(list)}}"
        default: initializer = "{.d = {\(list)}, .n = \(first)}"
        }
        let isConst = random.chance(30)
        var headerVariable = Variable(name: "\(name).n", shape: .scalar(header), isGlobal: true)
        var array = Variable(name: "\(name).d", shape: .array(element, count: count), isGlobal: true)
        headerVariable.isReadOnly = isConst
        array.isReadOnly = isConst
        if isConst { array.tableValues = values.map { exactConversion($0.range.lo, to: element).lo } }
        globals += [headerVariable, array]
        return ["struct F\(name) {", "\t\(header.spelling) n;", "\t\(element.spelling) d[];", "};",
                "static \(isConst ? "const " : "")struct F\(name) \(name) = \(initializer);"]
    }

    /// A string literal of at most `maxUnits` code units before its terminator: narrow, or wide
    /// (`L`, `u`, `U`), mixing plain characters, UTF-8 ones (one `u` character may take two
    /// units), universal character names, and hex and octal escapes.
    private mutating func stringLiteral(maxUnits: Int, narrow: Bool) -> StringLiteral {
        let (prefix, unitType) = narrow ? ("", IntType.char)
            : random.pick([("L", IntType.int), ("u", .unsignedShort), ("U", .unsignedInt)])
        // Escape values each kind holds (L's wchar_t is a signed int on both targets).
        let hexValues: [Int128] = narrow ? [0x41, 0x7f, 0x80, 0xff]
            : prefix == "u" ? [0x41, 0x80, 0xff, 0x100, 0xd800, 0xffff]
            : prefix == "L" ? [0x80, 0xffff, 0x10000, 0x10ffff, 0x7fffffff] : [0x80, 0x10000, 0x10ffff, 0xffffffff]
        var text = "", units: [Int128] = []
        for _ in 0..<1 + random.below(maxUnits) {
            var spelling: String
            var codePoint: Int128?
            var escaped: [Int128] = []
            switch random.below(5) {
            case 0, 1:
                // No hexadecimal or octal digits: an escape before it must not run on into it.
                let letter = random.pick(Array("ghijkmnopqrstuvwxyzGHIJKLMNOPQRSTUVWXYZ _+-*"))
                spelling = String(letter)
                codePoint = Int128(letter.unicodeScalars.first?.value ?? 0)
            case 2:
                let character = random.pick(["é", "€", "😀"])
                spelling = character
                codePoint = Int128(character.unicodeScalars.first?.value ?? 0)
            case 3:
                let (name, value) = random.pick([("\\u00e9", 0xe9), ("\\u20ac", 0x20ac), ("\\U0001f600", 0x1f600),
                                                 ("\\U0010ffff", 0x10ffff)])
                spelling = name
                codePoint = Int128(value)
            default:
                if random.chance(30) {
                    let value = random.pick([0, 7, 0o377] as [Int128])
                    spelling = "\\" + String(value, radix: 8)
                    escaped = [value]
                } else {
                    let value = random.pick(hexValues)
                    spelling = "\\x" + String(value, radix: 16)
                    escaped = [value]
                }
            }
            var piece = escaped
            if let codePoint {
                if narrow {
                    piece = String(UnicodeScalar(UInt32(codePoint)).map(Character.init) ?? " ").utf8.map { Int128($0) }
                } else if prefix == "u" && codePoint > 0xffff {
                    let offset = codePoint - 0x10000
                    piece = [0xd800 + (offset >> 10), 0xdc00 + (offset & 0x3ff)]
                } else {
                    piece = [codePoint]
                }
            }
            guard units.count + piece.count <= maxUnits else { break }
            text += spelling
            units += piece.map { exactConversion($0, to: unitType).lo }
        }
        return StringLiteral(text: "\(prefix)\"\(text)\"", units: units, unitType: unitType)
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
        // One local array at most: with the structs, more could take a frame past 512 bytes.
        if random.chance(40) {
            let type = random.pick(IntType.allCases)
            let count = random.pick([2, 4, 8])
            let name = freshName("a")
            let values = (0..<1 + random.below(count)).map { _ in constant().text }
            line("\(type.spelling) \(name)[\(count)] = {\(values.joined(separator: ", "))};")
            locals.append(Variable(name: name, shape: .array(type, count: count), isGlobal: false))
        } else if random.chance(30) {
            let count = random.pick([2, 4, 8])
            let string = stringLiteral(maxUnits: count, narrow: random.chance(30))
            let name = freshName("aw")
            line("\(string.unitType.spelling) \(name)[\(count)] = \(string.text);")
            locals.append(Variable(name: name, shape: .array(string.unitType, count: count), isGlobal: false))
        }
        if random.chance(50) {
            let index = random.below(structs.count)
            let name = freshName("s")
            var initializer = structInitializer(index, global: false)
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
        expressionBudget = ProgramGenerator.expressionsPerLine
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
        case 94..<96: structCopy()
        case 96..<98: overlappingMove()
        case 98..<100 where depth > 0 && loopDepth < 2: tableLoop(depth: depth)
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
        if target.isBitPrecise {
            line("\(target.text) = \(expression(3, &context).text);")
        } else {
            line(compound(target, &context) + ";")
        }
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
        guard let target = lvalue(&context, forWrite: true), !target.isBitPrecise, incrementIsSafe(target) else { return }
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
            if random.chance(40) {
                // libbpf's can_loop: a statement expression that may jump over `ok = 0`.
                var context = ExprContext()
                let condition = random.chance(60) ? expression(2, &context) : nil
                let canLoop = gotoOverAssignment(type: .bool, first: literal(1), second: literal(0), condition: condition)
                line("while (\(counter) > 0 && \(canLoop.text)) {")
            } else {
                line("while (\(counter) > 0) {")
            }
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

    /// `__builtin_memmove` inside one array or struct: the ranges overlap either way, or not,
    /// in whole elements or at any byte offset.
    private mutating func overlappingMove() {
        let objects = (locals + globals).filter { variable in
            if variable.isReadOnly || (variable.isGlobal && !mayWriteGlobals) { return false }
            switch variable.shape {
            case .array(_, let count): return count >= 2
            case .structure(let index): return !structs[index].hasBool && structs[index].packedSize.map { $0 >= 2 } ?? false
            case .scalar, .pointer, .structPointer: return false
            }
        }
        guard !objects.isEmpty else { return assignment() }
        let object = random.pick(objects)
        /// Where to move from and to, and how much, inside `size` units.
        func ranges(_ size: Int) -> (from: Int, to: Int, length: Int) {
            let length = 1 + random.below(size - 1)
            let from = random.below(size - length + 1)
            var to = random.below(size - length + 1)
            if to == from { to = from + 1 <= size - length ? from + 1 : from - 1 }
            return (from, to, length)
        }
        switch object.shape {
        case .array(let type, let count):
            if random.chance(50) {
                let (from, to, length) = ranges(count)
                line("__builtin_memmove(&\(object.name)[\(to)], &\(object.name)[\(from)], \(length) * sizeof \(object.name)[0]);")
            } else {
                let (from, to, length) = ranges(count * type.bits / 8)
                line("__builtin_memmove((char *)\(object.name) + \(to), (char *)\(object.name) + \(from), \(length));")
            }
        case .structure(let index):
            guard let size = structs[index].packedSize else { preconditionFailure("filtered above") }
            let (from, to, length) = ranges(size)
            line("__builtin_memmove((char *)&\(object.name) + \(to), (char *)&\(object.name) + \(from), \(length));")
        case .scalar, .pointer, .structPointer:
            preconditionFailure("filtered above")
        }
    }

    /// A loop over a const table: every element, or up to its first zero (the loop only ends
    /// for the verifier when it knows the table's bytes: .rodata, frozen).
    private mutating func tableLoop(depth: Int) {
        let tables = globals.filter { $0.tableValues != nil }
        guard let table = tables.isEmpty ? nil : random.pick(tables), let values = table.tableValues else {
            return loop(depth: depth)
        }
        let counter = freshName("i")
        var variable = Variable(name: counter, shape: .scalar(.int), isGlobal: false)
        variable.isReadOnly = true
        if let zero = values.firstIndex(of: 0), random.chance(60) {
            line("for (int \(counter) = 0; \(table.name)[\(counter)]; \(counter)++) {")
            variable.knownRange = ValueRange(0, Int128(max(zero - 1, 0)))
        } else {
            line("for (int \(counter) = 0; \(counter) < \(values.count); \(counter)++) {")
            variable.knownRange = ValueRange(0, Int128(values.count - 1))
        }
        locals.append(variable)
        indent += 1
        mix("\(table.name)[\(counter)]")
        indent -= 1
        loopBody(depth: depth)
        locals.removeLast()
        line("}")
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
                          identity: variable.identity, isBitPrecise: field.isBitPrecise)
        case .structPointer(let index, _):
            let field = random.pick(structs[index].fields)
            return LValue(text: "\(variable.name)->\(field.name)", readType: field.readType, range: field.range,
                          identity: variable.identity, isBitPrecise: field.isBitPrecise)
        }
    }

    mutating func expression(_ depth: Int, _ context: inout ExprContext) -> Expr {
        expressionBudget -= 1
        if depth <= 0 || expressionBudget <= 0 || random.chance(20) { return leaf(&context) }
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
        case 90..<94:
            return statementExpression(depth, &context)
        case 94..<97:
            return stringRead(depth, &context)
        default:
            return leaf(&context)
        }
    }

    /// A GNU statement expression whose value is that of a labelled last statement: a label on
    /// the value itself, or the shape of libbpf's `can_loop` (a goto over an assignment).
    private mutating func statementExpression(_ depth: Int, _ context: inout ExprContext) -> Expr {
        let first = expression(depth - 1, &context)
        if random.chance(30) {
            let labels = (0..<1 + random.below(2)).map { _ in freshName("L") + ": " }.joined()
            return Expr(text: "({ \(labels)\(first.text); })", type: first.type, range: first.range)
        }
        let second = expression(depth - 1, &context)
        let condition = random.chance(60) ? expression(depth - 1, &context) : nil
        return gotoOverAssignment(type: random.pick(IntType.allCases), first: first, second: second, condition: condition)
    }

    /// `({ T t = first; if (condition) goto out; goto ok; out: t = second; ok: t; })`, its labels
    /// sometimes local (`__label__`), the value sometimes after an empty labelled statement.
    private mutating func gotoOverAssignment(type: IntType, first: Expr, second: Expr, condition: Expr?) -> Expr {
        let value = freshName("t"), out = freshName("L"), ok = freshName("L")
        var text = "({ "
        if random.chance(40) { text += "__label__ \(out), \(ok); " }
        text += "\(type.spelling) \(value) = \(first.text); "
        if let condition { text += "if (\(condition.text)) goto \(out); " }
        text += "goto \(ok); \(out): \(value) = \(second.text); "
        text += random.chance(50) ? "\(ok): \(value); })" : "\(ok): ; \(value); })"
        var range = first.range.converted(to: type)
        if condition != nil { range = range.union(second.range.converted(to: type)) }
        return Expr(text: text, type: type, range: range)
    }

    /// An element of a string literal read through a pointer cast, a code unit or a byte.
    private mutating func stringRead(_ depth: Int, _ context: inout ExprContext) -> Expr {
        let string = stringLiteral(maxUnits: 7, narrow: false)
        let unitBytes = string.unitType.bits / 8
        var pointee: IntType
        var values: [Int128]
        if random.chance(25) {
            pointee = .unsignedChar
            values = (string.units + [0]).flatMap { unit in
                (0..<unitBytes).map { byte in (exactConversion(unit, to: string.unitType.unsignedCounterpart).lo >> (8 * byte)) & 0xff }
            }
        } else {
            // The unit type or its signed or unsigned counterpart: both may alias it.
            pointee = random.chance(50) ? string.unitType
                : string.unitType.isSigned ? string.unitType.unsignedCounterpart : string.unitType.signedCounterpart
            values = (string.units + [0]).map { exactConversion($0, to: pointee).lo }
        }
        let index: String
        var readable: ArraySlice<Int128>
        if random.chance(40) {
            let at = random.below(values.count)
            index = "\(at)"
            readable = values[at...at]
        } else {
            var span = 1
            while span * 2 <= values.count { span *= 2 }
            index = "(\(expression(depth - 1, &context).text)) & \(span - 1)"
            readable = values[0..<span]
        }
        let range = ValueRange(readable.min() ?? 0, readable.max() ?? 0)
        return Expr(text: "((const \(pointee.spelling) *)\(string.text))[\(index)]", type: pointee, range: range)
    }

    private mutating func leaf(_ context: inout ExprContext) -> Expr {
        if random.chance(30) { return constant() }
        guard let read = lvalue(&context, forWrite: false) else { return constant() }
        return Expr(text: read.readText, type: read.readType, range: read.range)
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
