import BPFDiagnostics
import BPFIR
import CClang

/// Decodes a string literal's bytes from libclang's re-escaped spelling (adjacent pieces already
/// joined), without the terminating NUL.
///
/// Wide literals (`L"…"`, `u"…"`, `U"…"`) have code units of 4, 2 and 4 bytes, stored little-endian;
/// the width comes from the literal's element type. libclang spells a code unit that is not
/// printable ASCII as an octal or hex escape (its value, taken as is), and a character beyond
/// 0xff as `\u`/`\U` (a code point, encoded here as UTF-8, UTF-16 or UTF-32 for the width).
func stringLiteralBytes(_ cursor: CXCursor) -> [UInt8] {
    stringLiteralBytes(spelling: cursor.spelling, width: max(1, cursor.type.canonical.elementType.size ?? 1))
}

/// Decodes the bytes of a string literal spelled `spelling` (one token, or libclang's joined
/// spelling) with code units of `width` bytes.
func stringLiteralBytes(spelling: String, width: Int) -> [UInt8] {
    let unitMask: UInt32 = width >= 4 ? .max : (1 << (8 * UInt32(width))) - 1
    let spelling = Array(spelling.utf8)
    guard let first = spelling.firstIndex(of: UInt8(ascii: "\"")),
          let last = spelling.lastIndex(of: UInt8(ascii: "\"")), first < last else { return [] }
    let body = spelling[(first + 1)..<last]
    var units: [UInt32] = []
    func appendCodePoint(_ codePoint: UInt32) {
        guard let scalar = Unicode.Scalar(codePoint) else { return units.append(codePoint & unitMask) }
        switch width {
        case 1: units += UTF8.encode(scalar).map { $0.map(UInt32.init) } ?? []
        case 2: units += UTF16.encode(scalar).map { $0.map(UInt32.init) } ?? []
        default: units.append(codePoint)
        }
    }
    var i = body.startIndex
    func isOctal(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "7") }
    func hexValue(_ c: UInt8) -> UInt32? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(c - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt32(c - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt32(c - UInt8(ascii: "A") + 10)
        default: return nil
        }
    }
    /// Up to `limit` hex digits at `i`.
    func hexDigits(limit: Int) -> UInt32 {
        var value: UInt32 = 0
        var digits = 0
        while digits < limit, i < body.endIndex, let h = hexValue(body[i]) {
            value = value &<< 4 | h
            i += 1
            digits += 1
        }
        return value
    }
    while i < body.endIndex {
        let c = body[i]
        i += 1
        guard c == UInt8(ascii: "\\"), i < body.endIndex else {
            units.append(UInt32(c))
            continue
        }
        let e = body[i]
        i += 1
        switch e {
        case UInt8(ascii: "n"): units.append(10)
        case UInt8(ascii: "t"): units.append(9)
        case UInt8(ascii: "r"): units.append(13)
        case UInt8(ascii: "a"): units.append(7)
        case UInt8(ascii: "b"): units.append(8)
        case UInt8(ascii: "f"): units.append(12)
        case UInt8(ascii: "v"): units.append(11)
        case UInt8(ascii: "e"): units.append(27)
        case UInt8(ascii: "x"): units.append(hexDigits(limit: .max) & unitMask)
        case UInt8(ascii: "u"): appendCodePoint(hexDigits(limit: 4))
        case UInt8(ascii: "U"): appendCodePoint(hexDigits(limit: 8))
        case _ where isOctal(e):
            var value = UInt32(e - UInt8(ascii: "0"))
            var digits = 1
            while digits < 3, i < body.endIndex, isOctal(body[i]) {
                value = value * 8 + UInt32(body[i] - UInt8(ascii: "0"))
                i += 1
                digits += 1
            }
            units.append(value & unitMask)
        default:
            units.append(UInt32(e))  // \\ \" \' \?
        }
    }
    return units.flatMap { unit in (0..<width).map { UInt8(truncatingIfNeeded: unit >> (8 * UInt32($0))) } }
}

/// One place an initializer element goes: a byte offset and type, or a bitfield.
struct InitializerTarget {
    var offset: Int
    var type: CXType
    /// The member, when the target is a bitfield (`offset` is then the record's start).
    var bitfield: (field: CXCursor, bitOffset: Int)?
}

func isDesignator(_ e: CXCursor) -> Bool {
    e.kind == CXCursor_UnexposedExpr && e.type.kind == CXType_Void && e.children.count >= 2
}

/// A braced list or string literal without the parentheses and other wrappers of its own type
/// that libclang may put around it (`char s[] = ("abc")`). Anything else is left as it is,
/// conversions included: a literal that decays to a `char *` field is a pointer, not bytes.
fileprivate func unwrapped(_ e: CXCursor) -> CXCursor {
    var inner = e
    while inner.kind == CXCursor_UnexposedExpr || inner.kind == CXCursor_ParenExpr,
          let child = inner.children.last(where: { $0.isExpression }),
          clang_equalTypes(child.type.canonical, inner.type.canonical) != 0 {
        inner = child
    }
    return inner.kind == CXCursor_InitListExpr || inner.kind == CXCursor_StringLiteral ? inner : e
}

/// What a braced initializer sets, after C's rules (C11 6.7.9) have been applied to the list as
/// written: positional elements fill subobjects in order, descending into sub-aggregates whose
/// braces were left out; a designator moves to the subobject it names; a later initializer of a
/// subobject overrides an earlier one, a braced list replacing the whole subobject (so
/// `{ .in.b = 5, .in = { .c = 7 } }` leaves `in.b` zero); a union keeps only the member
/// initialized last. Subobjects nothing sets are zero.
private indirect enum Initialization {
    /// A scalar's value, a string literal for a character array, or an expression of the
    /// subobject's own struct or union type.
    case expression(CXCursor)
    /// The initialized subobjects of an aggregate, by element or field index.
    case aggregate([Int: Initialization])
}

/// One subobject of an aggregate: its type and where it lies in the aggregate.
private struct Subobject {
    var type: CXType
    var offset: Int
    var bitfield: (field: CXCursor, bitOffset: Int)?
}

/// The aggregates initializers walk into: arrays (by index) and records (by field, anonymous
/// members included; unnamed bit-fields such as `unsigned : 0` are padding, not members).
private enum AggregateShape {
    /// `count` is nil for an array of unknown size: a flexible array member.
    case array(element: CXType, count: Int?)
    case record(fields: [CXCursor], isUnion: Bool)

    init?(_ type: CXType) {
        let canonical = type.canonical
        switch canonical.kind {
        case CXType_ConstantArray: self = .array(element: canonical.elementType, count: Int(canonical.arraySize))
        case CXType_IncompleteArray: self = .array(element: canonical.elementType, count: nil)
        case CXType_Record:
            self = .record(fields: canonical.members, isUnion: canonical.declaration.kind == CXCursor_UnionDecl)
        default: return nil
        }
    }

    /// How many subobjects positional initialization visits; nil when unbounded.
    var positions: Int? {
        switch self {
        case .array(_, let count): return count
        case .record(let fields, let isUnion): return isUnion ? min(fields.count, 1) : fields.count
        }
    }

    func subobject(_ index: Int) -> Subobject {
        switch self {
        case .array(let element, _):
            return Subobject(type: element, offset: index * (element.size ?? 0))
        case .record(let fields, _):
            let field = fields[index]
            let bits = Int(clang_Cursor_getOffsetOfField(field))
            if clang_Cursor_isBitField(field) != 0 {
                return Subobject(type: field.type, offset: 0, bitfield: (field, bits))
            }
            return Subobject(type: field.type, offset: bits / 8)
        }
    }

    var isUnion: Bool {
        if case .record(_, true) = self { return true }
        return false
    }
}

/// Resolves braced initializer lists into `Initialization`s.
private struct InitializerResolver {
    /// The initialization a braced `list` gives an object of aggregate `type`.
    func resolve(_ list: CXCursor, type: CXType) throws(DiagnosticList) -> [Int: Initialization] {
        guard AggregateShape(type) != nil else {
            throw DiagnosticList([.error("braced initializer for type '\(type.spelling)'", at: list.location)])
        }
        var tree: [Int: Initialization] = [:]
        // Where the next positional element goes: indices from `type` down, deeper where braces
        // were elided. Empty once the list has gone past the aggregate's end.
        var path: [Int]? = [0]
        for element in list.children where element.isExpression {
            if isDesignator(element) {
                let parts = Array(element.children.dropLast())
                guard let value = element.children.last else { continue }
                let designated = try designatedPath(parts, in: type)
                try assign(unwrapped(value), at: designated, in: &tree, of: type)
                path = advanced(designated, in: type)
                continue
            }
            guard var at = path else { continue }  // excess elements: clang warns and drops them
            let value = unwrapped(element)
            // Brace elision: a value that cannot initialize the subobject whole goes to its first part.
            while let inner = AggregateShape(subobjectType(at, in: type)), !initializesWhole(value, subobjectType(at, in: type)) {
                guard inner.positions != 0 else { break }
                at.append(0)
            }
            try assign(value, at: at, in: &tree, of: type)
            path = advanced(at, in: type)
        }
        return tree
    }

    /// Whether `value` initializes an aggregate of `type` by itself, rather than its first part.
    private func initializesWhole(_ value: CXCursor, _ type: CXType) -> Bool {
        if value.kind == CXCursor_InitListExpr { return true }
        let canonical = type.canonical
        if value.kind == CXCursor_StringLiteral {
            return (canonical.kind == CXType_ConstantArray || canonical.kind == CXType_IncompleteArray)
                && canonical.elementType.size == value.type.canonical.elementType.size
        }
        return clang_equalTypes(clang_getUnqualifiedType(value.type.canonical), clang_getUnqualifiedType(canonical)) != 0
    }

    private func subobjectType(_ path: [Int], in type: CXType) -> CXType {
        var current = type
        for index in path {
            guard let shape = AggregateShape(current) else { return current }
            current = shape.subobject(index).type
        }
        return current
    }

    /// The position after `path` for the next positional element: the next sibling, climbing out
    /// of aggregates that are full; nil past the end of the outermost one.
    private func advanced(_ path: [Int], in type: CXType) -> [Int]? {
        var path = path
        while let last = path.popLast() {
            let parent = subobjectType(path, in: type)
            guard let shape = AggregateShape(parent) else { return nil }
            if let positions = shape.positions, last + 1 >= positions || shape.isUnion { continue }
            return path + [last + 1]
        }
        return nil
    }

    /// Follows the designator `parts` (`.a`, `[2]`, `.b.c[1]`) from `type`; a member of an
    /// anonymous struct or union is reached through the unnamed field that holds it.
    private func designatedPath(_ parts: [CXCursor], in type: CXType) throws(DiagnosticList) -> [Int] {
        var path: [Int] = []
        var current = type
        for part in parts {
            switch AggregateShape(current) {
            case .record where part.kind == CXCursor_MemberRef:
                guard let route = current.canonical.memberRoute(to: part.referenced) else {
                    throw DiagnosticList([.error("designator '.\(part.spelling)' names no member of '\(current.spelling)'",
                                                 at: part.location)])
                }
                for index in route {
                    path.append(index)
                    current = subobjectType([index], in: current)
                }
            case .array(let element, let count) where part.kind != CXCursor_MemberRef:
                // A flexible array member has no count: its bound is what a global can hold.
                let bound = count ?? ModuleLowering.mapValueLimit / max(element.size ?? 1, 1)
                guard let index = part.integerConstant, index >= 0, index < bound else {
                    throw DiagnosticList([.error("array designator is not a constant index inside the array",
                                                 at: part.location)])
                }
                path.append(Int(index))
                current = subobjectType([Int(index)], in: current)
            default:
                throw DiagnosticList([.error("unsupported designator for type '\(current.spelling)'", at: part.location)])
            }
        }
        return path
    }

    /// Records that `value` initializes the subobject at `path` of an object of `type`.
    private func assign(_ value: CXCursor, at path: [Int], in tree: inout [Int: Initialization],
                        of type: CXType) throws(DiagnosticList) {
        guard let index = path.first, let shape = AggregateShape(type) else { return }
        // A union holds one member: initializing another forgets the previous one.
        if shape.isUnion { tree = tree.filter { $0.key == index } }
        let subobject = shape.subobject(index)
        if path.count > 1 {
            var inner: [Int: Initialization]
            switch tree[index] {
            case .aggregate(let existing): inner = existing
            case .none: inner = [:]
            case .expression(let whole):
                throw DiagnosticList([.error("initializer overrides part of a subobject initialized by an expression: not supported",
                                             at: whole.location)])
            }
            try assign(value, at: Array(path.dropFirst()), in: &inner, of: subobject.type)
            tree[index] = .aggregate(inner)
        } else if value.kind == CXCursor_InitListExpr {
            if AggregateShape(subobject.type) != nil {
                tree[index] = .aggregate(try resolve(value, type: subobject.type))
            } else if let scalar = value.children.first(where: { $0.isExpression }) {
                tree[index] = .expression(unwrapped(scalar))  // `{ 5 }` for a scalar
            } else {
                tree[index] = nil  // `{}`: zero
            }
        } else {
            tree[index] = .expression(value)
        }
    }
}

/// The values a braced initializer `list` gives an object of `type` at `offset`, each with the
/// place it goes, in increasing index order; every place not listed is zero.
func initializerElements(_ list: CXCursor, type: CXType, at offset: Int) throws(DiagnosticList)
    -> [(value: CXCursor, target: InitializerTarget)]
{
    let list = unwrapped(list)
    guard AggregateShape(type) != nil else {
        // `int x = { 5 };`: braces around a scalar.
        guard let value = list.children.first(where: { $0.isExpression }) else { return [] }
        return [(unwrapped(value), InitializerTarget(offset: offset, type: type))]
    }
    var result: [(value: CXCursor, target: InitializerTarget)] = []
    func flatten(_ tree: [Int: Initialization], type: CXType, at offset: Int) {
        guard let shape = AggregateShape(type) else { return }
        for index in tree.keys.sorted() {
            let subobject = shape.subobject(index)
            switch tree[index] {
            case .expression(let value):
                result.append((value, InitializerTarget(offset: offset + subobject.offset, type: subobject.type,
                                                        bitfield: subobject.bitfield)))
            case .aggregate(let inner):
                flatten(inner, type: subobject.type, at: offset + subobject.offset)
            case .none:
                break
            }
        }
    }
    flatten(try InitializerResolver().resolve(list, type: type), type: type, at: offset)
    return result
}

/// Lays a constant initializer out as the bytes of a global, and the addresses it takes (of a
/// function or a global, which the loader fills in) as `addresses`, their bytes left zero.
struct InitializerWriter {
    unowned let module: ModuleLowering
    private(set) var addresses: [(address: GlobalAddress, location: SourceLocation)] = []

    init(module: ModuleLowering) {
        self.module = module
    }

    mutating func write(_ e: CXCursor, type: CXType, into bytes: inout [UInt8], at offset: Int) throws(DiagnosticList) {
        try write(e, InitializerTarget(offset: offset, type: type), into: &bytes)
    }

    /// The function or global variable `e` is the address of: `&f`, `f`, `&map`, under any casts
    /// (`(void *)&prog`). Nil for anything else, an address with an offset included.
    private func addressedSymbol(_ e: CXCursor) -> String? {
        var inner = e
        while inner.kind == CXCursor_UnexposedExpr || inner.kind == CXCursor_ParenExpr || inner.kind == CXCursor_CStyleCastExpr,
              let child = inner.children.last(where: { $0.isExpression }) {
            inner = child
        }
        if inner.kind == CXCursor_UnaryOperator && inner.unaryOperator == CXUnaryOperator_AddrOf,
           let operand = inner.children.last(where: { $0.isExpression }) {
            inner = unwrappedParentheses(operand)
        }
        guard inner.kind == CXCursor_DeclRefExpr else { return nil }
        let declaration = inner.referenced
        switch declaration.kind {
        case CXCursor_FunctionDecl: return declaration.spelling
        case CXCursor_VarDecl where clang_Cursor_hasVarDeclGlobalStorage(declaration) != 0:
            return module.globalSymbol(for: declaration)
        default: return nil
        }
    }

    private func unwrappedParentheses(_ e: CXCursor) -> CXCursor {
        var inner = e
        while inner.kind == CXCursor_ParenExpr, let child = inner.children.last(where: { $0.isExpression }) { inner = child }
        return inner
    }

    private mutating func write(_ e: CXCursor, _ target: InitializerTarget, into bytes: inout [UInt8]) throws(DiagnosticList) {
        let e = unwrapped(e)
        let type = target.type
        let canonical = type.canonical
        let offset = target.offset
        /// Grows `bytes` to hold `count` bytes from `offset`, for a flexible array member.
        func reserve(_ count: Int) throws(DiagnosticList) {
            let (end, overflow) = offset.addingReportingOverflow(count)
            guard !overflow, end <= ModuleLowering.mapValueLimit else {
                throw DiagnosticList([.error("initializer makes the object larger than a BPF map value can hold (\(ModuleLowering.mapValueLimit) bytes)",
                                             at: e.location)])
            }
            if bytes.count < end { bytes += [UInt8](repeating: 0, count: end - bytes.count) }
        }
        if e.kind == CXCursor_InitListExpr {
            for (value, inner) in try initializerElements(e, type: type, at: offset) {
                try write(value, inner, into: &bytes)
            }
            return
        }
        if e.kind == CXCursor_StringLiteral,
           canonical.kind == CXType_ConstantArray || canonical.kind == CXType_IncompleteArray {
            let literal = stringLiteralBytes(e)
            let size = type.size ?? literal.count + (e.type.canonical.elementType.size ?? 1)
            try reserve(size)
            for (i, byte) in literal.prefix(size).enumerated() { bytes[offset + i] = byte }
            return
        }
        if case .wide = module.types.classify(canonical) {
            guard target.bitfield == nil, let value = wideConstant(e, types: module.types, narrow: { $0.integerConstant }) else {
                throw DiagnosticList([.error("initializer element is not a compile-time constant", at: e.location)])
            }
            try reserve(16)
            for i in 0..<16 {
                bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt128(i)))
            }
            return
        }
        guard case .scalar(let scalar) = module.types.classify(canonical) else {
            throw DiagnosticList([.error("unsupported initializer for type '\(type.spelling)'", at: e.location)])
        }
        guard let value = e.integerConstant else {
            if case .pointer = scalar {
                guard scalar.size == 8, target.bitfield == nil, let symbol = addressedSymbol(e) else {
                    throw DiagnosticList([.error(
                        "global initializer takes an address: BPF global data cannot hold pointers the loader would have to relocate",
                        at: e.location)])
                }
                try reserve(8)
                addresses.append((GlobalAddress(offset: offset, symbol: symbol), e.location))
                return
            }
            throw DiagnosticList([.error("initializer element is not a compile-time constant", at: e.location)])
        }
        if let (field, bitOffset) = target.bitfield {
            let width = Int(clang_getFieldDeclBitWidth(field))
            try reserve((bitOffset + width + 7) / 8)
            for bit in 0..<width where (UInt64(bitPattern: value) >> UInt64(bit)) & 1 == 1 {
                let at = offset * 8 + bitOffset + bit
                bytes[at / 8] |= UInt8(1) << UInt8(at % 8)
            }
            return
        }
        var v = UInt64(bitPattern: value)
        if case .bool = scalar { v = value != 0 ? 1 : 0 }
        try reserve(scalar.size)
        for i in 0..<scalar.size {
            bytes[offset + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))
        }
    }
}
