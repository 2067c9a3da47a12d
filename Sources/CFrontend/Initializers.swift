import BPFDiagnostics
import BPFIR
import CClang

/// Decodes a string literal's bytes from libclang's re-escaped spelling (adjacent pieces already
/// joined), without the terminating NUL.
func stringLiteralBytes(_ cursor: CXCursor) -> [UInt8] {
    let spelling = Array(cursor.spelling.utf8)
    guard let first = spelling.firstIndex(of: UInt8(ascii: "\"")),
          let last = spelling.lastIndex(of: UInt8(ascii: "\"")), first < last else { return [] }
    let body = spelling[(first + 1)..<last]
    var bytes: [UInt8] = []
    var i = body.startIndex
    func isOctal(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "7") }
    func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
    while i < body.endIndex {
        let c = body[i]
        i += 1
        guard c == UInt8(ascii: "\\"), i < body.endIndex else {
            bytes.append(c)
            continue
        }
        let e = body[i]
        i += 1
        switch e {
        case UInt8(ascii: "n"): bytes.append(10)
        case UInt8(ascii: "t"): bytes.append(9)
        case UInt8(ascii: "r"): bytes.append(13)
        case UInt8(ascii: "a"): bytes.append(7)
        case UInt8(ascii: "b"): bytes.append(8)
        case UInt8(ascii: "f"): bytes.append(12)
        case UInt8(ascii: "v"): bytes.append(11)
        case UInt8(ascii: "e"): bytes.append(27)
        case UInt8(ascii: "x"):
            var value: UInt8 = 0
            while i < body.endIndex, let h = hexValue(body[i]) {
                value = value &* 16 &+ h
                i += 1
            }
            bytes.append(value)
        case _ where isOctal(e):
            var value = e - UInt8(ascii: "0")
            var digits = 1
            while digits < 3, i < body.endIndex, isOctal(body[i]) {
                value = value &* 8 &+ (body[i] - UInt8(ascii: "0"))
                i += 1
                digits += 1
            }
            bytes.append(value)
        default:
            bytes.append(e)  // \\ \" \' \?
        }
    }
    return bytes
}

/// Lays a constant initializer out as the bytes of a global (or of a local's stack image).
///
/// Follows C's rules for brace elision only as far as libclang shows it: libclang gives the
/// initializer list as written, so positional elements fill fields and array elements in order,
/// and designators (`.f = `, `[i] = `) move the position.
struct InitializerWriter {
    unowned let module: ModuleLowering

    func write(_ e: CXCursor, type: CXType, into bytes: inout [UInt8], at offset: Int) throws(DiagnosticList) {
        let canonical = type.canonical
        if e.kind == CXCursor_InitListExpr {
            try writeList(e, type: canonical, into: &bytes, at: offset)
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
            try write(inner, type: type, into: &bytes, at: offset)
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
        var v = UInt64(bitPattern: value)
        if case .bool = scalar { v = value != 0 ? 1 : 0 }
        for i in 0..<scalar.size {
            bytes[offset + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))
        }
    }

    private func writeList(_ list: CXCursor, type: CXType, into bytes: inout [UInt8], at offset: Int) throws(DiagnosticList) {
        let elements = list.children.filter { $0.isExpression }
        switch type.kind {
        case CXType_ConstantArray, CXType_IncompleteArray:
            let elementType = type.elementType
            let elementSize = elementType.size ?? 0
            var index = 0
            for element in elements {
                var value = element
                if isDesignator(element) {
                    let (designated, position) = try designate(element, type: type, at: offset)
                    value = designated.value
                    try write(value, type: designated.type, into: &bytes, at: designated.offset)
                    index = position + 1
                    continue
                }
                try write(value, type: elementType, into: &bytes, at: offset + index * elementSize)
                index += 1
            }
        case CXType_Record:
            let fields = fieldsOf(type)
            let isUnion = type.declaration.kind == CXCursor_UnionDecl
            var index = 0
            for element in elements {
                if isDesignator(element) {
                    let (designated, position) = try designate(element, type: type, at: offset)
                    try write(designated.value, type: designated.type, into: &bytes, at: designated.offset)
                    index = position + 1
                    continue
                }
                guard index < fields.count, !(isUnion && index > 0) else { break }
                let field = fields[index]
                try checkNotBitfield(field, at: element.location)
                try write(element, type: field.type, into: &bytes,
                          at: offset + Int(clang_Cursor_getOffsetOfField(field)) / 8)
                index += 1
            }
        default:
            // `int x = { 5 };`: braces around a scalar.
            if let first = elements.first {
                try write(first, type: type, into: &bytes, at: offset)
            }
        }
    }

    private func fieldsOf(_ type: CXType) -> [CXCursor] {
        clang_getCursorDefinition(type.canonical.declaration).children.filter { $0.kind == CXCursor_FieldDecl }
    }

    private func checkNotBitfield(_ field: CXCursor, at location: SourceLocation) throws(DiagnosticList) {
        if clang_Cursor_isBitField(field) != 0 {
            throw DiagnosticList([.error("initializing bitfield '\(field.spelling)' is not supported yet", at: location)])
        }
    }

    /// A designator is an UnexposedExpr of type void: designator parts, then the value.
    private func isDesignator(_ e: CXCursor) -> Bool {
        e.kind == CXCursor_UnexposedExpr && e.type.kind == CXType_Void && e.children.count >= 2
    }

    private struct Designated {
        var value: CXCursor
        var type: CXType
        var offset: Int
    }

    /// Follows `.a.b[2] = v` from the aggregate `type` at `offset`; also returns the position of the
    /// first part within the aggregate, where positional initialization resumes.
    private func designate(_ e: CXCursor, type: CXType, at offset: Int) throws(DiagnosticList) -> (Designated, Int) {
        let parts = e.children
        guard let value = parts.last else {
            throw DiagnosticList([.error("malformed designated initializer", at: e.location)])
        }
        var current = type.canonical
        var at = offset
        var firstPosition = 0
        for (i, part) in parts.dropLast().enumerated() {
            var position = 0
            if part.kind == CXCursor_MemberRef {
                let field = part.referenced
                try checkNotBitfield(field, at: part.location)
                let fields = fieldsOf(current)
                position = fields.firstIndex(where: { $0.equals(field) }) ?? 0
                let bits = clang_Type_getOffsetOf(current, part.spelling)
                at += Int(max(0, bits)) / 8
                current = field.type.canonical
            } else if let index = part.integerConstant {
                position = Int(index)
                current = current.elementType.canonical
                at += Int(index) * (current.size ?? 0)
            } else {
                throw DiagnosticList([.error("unsupported designator", at: part.location)])
            }
            if i == 0 { firstPosition = position }
        }
        return (Designated(value: value, type: current, offset: at), firstPosition)
    }
}
