import BPFDiagnostics
import CClang

// Thin Swift views over libclang's C API: cursors, types, tokens. Everything here is a direct
// question to libclang; the lowering files decide what the answers mean. The guards against the
// three calls that crash libclang 19 (libclang-c-subset.md §0) live here, once.

extension CXString {
    /// Takes ownership of the libclang string and frees it.
    func consume() -> String {
        defer { clang_disposeString(self) }
        guard let c = clang_getCString(self) else { return "" }
        return String(cString: c)
    }
}

/// Collects a cursor's children; clang_visitChildren needs a C callback, so the state travels in a box.
private final class ChildList {
    var cursors: [CXCursor] = []
}

extension CXCursor {
    var kind: CXCursorKind { clang_getCursorKind(self) }
    var spelling: String { clang_getCursorSpelling(self).consume() }
    var type: CXType { clang_getCursorType(self) }
    var referenced: CXCursor { clang_getCursorReferenced(self) }
    var isNull: Bool { clang_Cursor_isNull(self) != 0 }

    var children: [CXCursor] {
        let list = ChildList()
        clang_visitChildren(self, { child, _, data in
            guard let data else { return CXChildVisit_Break }
            Unmanaged<ChildList>.fromOpaque(data).takeUnretainedValue().cursors.append(child)
            return CXChildVisit_Continue
        }, Unmanaged.passUnretained(list).toOpaque())
        return list.cursors
    }

    /// Where the user wrote it: for code produced by a macro, the macro's use site.
    var location: SourceLocation {
        clang_getCursorLocation(self).expansion
    }

    func equals(_ other: CXCursor) -> Bool { clang_equalCursors(self, other) != 0 }
    var hash: UInt32 { clang_hashCursor(self) }

    var isExpression: Bool { clang_isExpression(kind) != 0 }
    var isDeclaration: Bool { clang_isDeclaration(kind) != 0 }
    var isAttribute: Bool { clang_isAttribute(kind) != 0 }

    var unaryOperator: CXUnaryOperatorKind { clang_getCursorUnaryOperatorKind(self) }
    var binaryOperator: CXBinaryOperatorKind { clang_getCursorBinaryOperatorKind(self) }

    /// Declarations only: the declaration as C text, with attributes written out even when they
    /// came from a macro (`__attribute__((section("syscall")))`).
    var prettyPrinted: String {
        let policy = clang_getCursorPrintingPolicy(self)
        defer { clang_PrintingPolicy_dispose(policy) }
        clang_PrintingPolicy_setProperty(policy, CXPrintingPolicy_TerseOutput, 1)
        return clang_getCursorPrettyPrinted(self, policy).consume()
    }

    /// A function definition as C text, body included, printed from clang's AST: macros are
    /// expanded and adjacent string literals are one literal.
    var printedDefinition: String {
        let policy = clang_getCursorPrintingPolicy(self)
        defer { clang_PrintingPolicy_dispose(policy) }
        return clang_getCursorPrettyPrinted(self, policy).consume()
    }

    /// The tokens of the cursor's extent, mapped to the use site when the cursor comes from a macro.
    func tokens(in unit: CXTranslationUnit) -> [String] {
        let extent = clang_getCursorExtent(self)
        var tokens: UnsafeMutablePointer<CXToken>?
        var count: UInt32 = 0
        clang_tokenize(unit, extent, &tokens, &count)
        guard let tokens else { return [] }
        defer { clang_disposeTokens(unit, tokens, count) }
        return (0..<Int(count)).map { clang_getTokenSpelling(unit, tokens[$0]).consume() }
    }

    /// A scalar constant, when clang can fold the expression. Never called on an InitListExpr
    /// (which crashes libclang 19); callers pass expressions of scalar type.
    var integerConstant: Int64? {
        guard kind != CXCursor_InitListExpr, isExpression || kind == CXCursor_VarDecl else { return nil }
        guard let result = clang_Cursor_Evaluate(self) else { return pointerConstant }
        defer { clang_EvalResult_dispose(result) }
        guard clang_EvalResult_getKind(result) == CXEval_Int else { return pointerConstant }
        if clang_EvalResult_isUnsignedInt(result) != 0 {
            return Int64(bitPattern: UInt64(clang_EvalResult_getAsUnsigned(result)))
        }
        return Int64(clang_EvalResult_getAsLongLong(result))
    }

    /// A pointer made from an integer constant (`0`, `(void *)0`, `(char *)8`): libclang evaluates
    /// only integers, but such a pointer is that integer, with nothing for a loader to relocate.
    private var pointerConstant: Int64? {
        guard type.canonical.kind == CXType_Pointer,
              kind == CXCursor_UnexposedExpr || kind == CXCursor_CStyleCastExpr || kind == CXCursor_ParenExpr,
              let operand = children.last(where: { $0.isExpression }) else { return nil }
        switch operand.type.canonical.kind {
        case CXType_Pointer, CXType_Bool, CXType_Char_S, CXType_SChar, CXType_Short, CXType_Int, CXType_Long,
             CXType_LongLong, CXType_Char_U, CXType_UChar, CXType_UShort, CXType_UInt, CXType_ULong,
             CXType_ULongLong, CXType_Enum:
            return operand.integerConstant
        default:
            return nil
        }
    }
}

extension CXSourceLocation {
    var expansion: SourceLocation {
        var file: CXFile?
        var line: UInt32 = 0
        var column: UInt32 = 0
        var offset: UInt32 = 0
        clang_getExpansionLocation(self, &file, &line, &column, &offset)
        let name = file.map { clang_getFileName($0).consume() } ?? "<unknown>"
        return SourceLocation(file: name, line: Int(line), column: Int(column))
    }
}

extension CXType {
    var canonical: CXType { clang_getCanonicalType(self) }
    var spelling: String { clang_getTypeSpelling(self).consume() }
    var isValid: Bool { kind != CXType_Invalid }
    var pointee: CXType { clang_getPointeeType(self) }
    var elementType: CXType { clang_getArrayElementType(self) }
    var arraySize: Int64 { clang_getArraySize(self) }
    var isConst: Bool { clang_isConstQualifiedType(self) != 0 }
    var isVolatile: Bool { clang_isVolatileQualifiedType(self) != 0 }
    var declaration: CXCursor { clang_getTypeDeclaration(self) }
    var resultType: CXType { clang_getResultType(self) }
    /// `int f(int, ...)`. An unprototyped `int f()` is not variadic, though libclang says so: a
    /// definition `int f() { ... }` takes no arguments (C17 6.7.6.3p14), as clang compiles it.
    var isVariadic: Bool { canonical.kind == CXType_FunctionProto && clang_isFunctionTypeVariadic(self) != 0 }
    var argumentTypes: [CXType] {
        let n = clang_getNumArgTypes(self)
        guard n > 0 else { return [] }
        return (0..<UInt32(n)).map { clang_getArgType(self, $0) }
    }

    /// A record's fields in declaration order, including the unnamed ones that hold anonymous
    /// structs and unions (cursor children show those only as the nested record declaration).
    var fields: [CXCursor] {
        let list = ChildList()
        _ = clang_Type_visitFields(self, { field, data in
            guard let data else { return CXVisit_Break }
            Unmanaged<ChildList>.fromOpaque(data).takeUnretainedValue().cursors.append(field)
            return CXVisit_Continue
        }, Unmanaged.passUnretained(list).toOpaque())
        return list.cursors
    }

    /// A record's members: its fields without the unnamed bit-fields (`int : 3`), which are
    /// padding. They are what initializers visit, what BTF lists (as clang's does) and what CO-RE
    /// access strings count.
    var members: [CXCursor] {
        fields.filter { clang_Cursor_isBitField($0) == 0 || !$0.spelling.isEmpty }
    }

    /// The member indices leading to `field` in this record, through the anonymous structs and
    /// unions that hold it; nil when it is no member.
    func memberRoute(to field: CXCursor) -> [Int]? {
        for (index, candidate) in members.enumerated() {
            if candidate.equals(field) { return [index] }
            if clang_Cursor_isAnonymousRecordDecl(candidate.type.canonical.declaration) != 0,
               let rest = candidate.type.canonical.memberRoute(to: field) {
                return [index] + rest
            }
        }
        return nil
    }

    /// The bit offset of `field` in this record, also when anonymous structs and unions, at any
    /// depth, hold it.
    func bitOffset(of field: CXCursor) -> Int? {
        for candidate in fields {
            if candidate.equals(field) { return Int(clang_Cursor_getOffsetOfField(candidate)) }
            if clang_Cursor_isAnonymousRecordDecl(candidate.type.canonical.declaration) != 0,
               let inner = candidate.type.canonical.bitOffset(of: field) {
                return Int(clang_Cursor_getOffsetOfField(candidate)) + inner
            }
        }
        return nil
    }

    /// Size in bytes; nil for incomplete, dependent and builtin-function types.
    var size: Int? {
        guard isValid, canonical.kind != CXType_Unexposed else { return nil }
        let s = clang_Type_getSizeOf(self)
        return s >= 0 ? Int(s) : nil
    }

    var alignment: Int? {
        guard isValid, canonical.kind != CXType_Unexposed else { return nil }
        let a = clang_Type_getAlignOf(self)
        return a >= 0 ? Int(a) : nil
    }

    /// The address space of the type itself (1 for `__arena` objects).
    var addressSpace: Int {
        guard isValid else { return 0 }
        return Int(clang_getAddressSpace(self))
    }
}
