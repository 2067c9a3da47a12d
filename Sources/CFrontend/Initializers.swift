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
    let width = max(1, cursor.type.canonical.elementType.size ?? 1)
    let unitMask: UInt32 = width >= 4 ? .max : (1 << (8 * UInt32(width))) - 1
    let spelling = Array(cursor.spelling.utf8)
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

/// The fields of a record type, in declaration order.
func recordFields(_ type: CXType) -> [CXCursor] {
    clang_getCursorDefinition(type.canonical.declaration).children.filter { $0.kind == CXCursor_FieldDecl }
}

func isDesignator(_ e: CXCursor) -> Bool {
    e.kind == CXCursor_UnexposedExpr && e.type.kind == CXType_Void && e.children.count >= 2
}

/// Walks an initializer list element by element, following C's positional order and designators
/// (`.f = `, `[i] = `, `[2].y = `), and hands each value with its target to `visit`.
///
/// libclang gives the list as written, so positional elements fill fields and array elements in
/// order, and a designator moves the position to the element it names.
func forEachInitializer(_ list: CXCursor, type: CXType, at offset: Int,
                        _ visit: (CXCursor, InitializerTarget) throws(DiagnosticList) -> Void) throws(DiagnosticList) {
    let canonical = type.canonical
    let elements = list.children.filter { $0.isExpression }
    let isArray = canonical.kind == CXType_ConstantArray || canonical.kind == CXType_IncompleteArray
    let isRecord = canonical.kind == CXType_Record
    let fields = isRecord ? recordFields(canonical) : []
    let isUnion = isRecord && canonical.declaration.kind == CXCursor_UnionDecl
    var position = 0
    for element in elements {
        if isDesignator(element) {
            let (target, first) = try designate(element, type: canonical, at: offset)
            guard let value = element.children.last else { continue }
            try visit(value, target)
            position = first + 1
            continue
        }
        if isArray {
            let elementType = canonical.elementType
            try visit(element, InitializerTarget(offset: offset + position * (elementType.size ?? 0), type: elementType))
        } else if isRecord {
            guard position < fields.count, !(isUnion && position > 0) else { break }
            try visit(element, fieldTarget(fields[position], in: canonical, at: offset))
        } else {
            // `int x = { 5 };`: braces around a scalar.
            try visit(element, InitializerTarget(offset: offset, type: type))
            return
        }
        position += 1
    }
}

private func fieldTarget(_ field: CXCursor, in record: CXType, at offset: Int) -> InitializerTarget {
    let bits = Int(clang_Cursor_getOffsetOfField(field))
    if clang_Cursor_isBitField(field) != 0 {
        return InitializerTarget(offset: offset, type: field.type, bitfield: (field, bits))
    }
    return InitializerTarget(offset: offset + bits / 8, type: field.type)
}

/// Follows `.a.b[2]` from the aggregate `type` at `offset`; also returns the position of the first
/// part within the aggregate, where positional initialization resumes.
private func designate(_ e: CXCursor, type: CXType, at offset: Int) throws(DiagnosticList) -> (InitializerTarget, Int) {
    var target = InitializerTarget(offset: offset, type: type)
    var firstPosition = 0
    for (i, part) in e.children.dropLast().enumerated() {
        let current = target.type.canonical
        var position = 0
        if part.kind == CXCursor_MemberRef {
            let field = part.referenced
            position = recordFields(current).firstIndex(where: { $0.equals(field) }) ?? 0
            target = fieldTarget(field, in: current, at: target.offset)
        } else if let index = part.integerConstant {
            position = Int(index)
            let elementType = current.elementType
            target = InitializerTarget(offset: target.offset + Int(index) * (elementType.size ?? 0), type: elementType)
        } else {
            throw DiagnosticList([.error("unsupported designator", at: part.location)])
        }
        if i == 0 { firstPosition = position }
    }
    return (target, firstPosition)
}

/// Lays a constant initializer out as the bytes of a global.
struct InitializerWriter {
    unowned let module: ModuleLowering

    func write(_ e: CXCursor, type: CXType, into bytes: inout [UInt8], at offset: Int) throws(DiagnosticList) {
        try write(e, InitializerTarget(offset: offset, type: type), into: &bytes)
    }

    private func write(_ e: CXCursor, _ target: InitializerTarget, into bytes: inout [UInt8]) throws(DiagnosticList) {
        let type = target.type
        let canonical = type.canonical
        let offset = target.offset
        if e.kind == CXCursor_InitListExpr {
            try forEachInitializer(e, type: type, at: offset) { value, inner throws(DiagnosticList) in
                try write(value, inner, into: &bytes)
            }
            return
        }
        if e.kind == CXCursor_StringLiteral,
           canonical.kind == CXType_ConstantArray || canonical.kind == CXType_IncompleteArray {
            let literal = stringLiteralBytes(e)
            let size = type.size ?? literal.count + 1
            for (i, byte) in literal.prefix(size).enumerated() { bytes[offset + i] = byte }
            return
        }
        if (e.kind == CXCursor_UnexposedExpr || e.kind == CXCursor_ParenExpr),
           let inner = e.children.last(where: { $0.isExpression }),
           inner.kind == CXCursor_InitListExpr || inner.kind == CXCursor_StringLiteral {
            try write(inner, target, into: &bytes)
            return
        }
        guard case .scalar(let scalar) = module.types.classify(canonical) else {
            throw DiagnosticList([.error("unsupported initializer for type '\(type.spelling)'", at: e.location)])
        }
        guard let value = e.integerConstant else {
            if case .pointer = scalar {
                throw DiagnosticList([.error(
                    "global initializer takes an address: BPF global data cannot hold pointers the loader would have to relocate",
                    at: e.location)])
            }
            throw DiagnosticList([.error("initializer element is not a compile-time constant", at: e.location)])
        }
        if let (field, bitOffset) = target.bitfield {
            let width = Int(clang_getFieldDeclBitWidth(field))
            for bit in 0..<width where (UInt64(bitPattern: value) >> UInt64(bit)) & 1 == 1 {
                let at = offset * 8 + bitOffset + bit
                bytes[at / 8] |= UInt8(1) << UInt8(at % 8)
            }
            return
        }
        var v = UInt64(bitPattern: value)
        if case .bool = scalar { v = value != 0 ? 1 : 0 }
        for i in 0..<scalar.size {
            bytes[offset + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))
        }
    }
}
