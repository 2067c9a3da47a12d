import BPFDiagnostics
import BPFIR
import CClang

/// How a value of a C type lives in a 64-bit register, which is all expression lowering needs.
///
/// Integers are kept normalized: sign-extended when signed, zero-extended when unsigned, so a
/// 64-bit comparison is right for every integer type.
enum Scalar: Equatable {
    case integer(size: Int, isSigned: Bool)
    /// `_Bool`: 0 or 1, stored in one byte.
    case bool
    /// `elementSize` scales pointer arithmetic (1 for `void *`, as GNU C does).
    case pointer(elementSize: Int, addressSpace: Int)

    var size: Int {
        switch self {
        case .integer(let size, _): return size
        case .bool: return 1
        case .pointer: return 8
        }
    }

    var isSigned: Bool {
        switch self {
        case .integer(_, let isSigned): return isSigned
        case .bool, .pointer: return false
        }
    }

    var memorySize: MemorySize {
        switch size {
        case 1: return .byte
        case 2: return .half
        case 4: return .word
        default: return .double
        }
    }
}

/// What kind of C type a CXType is, after looking through typedefs and qualifiers.
enum TypeClass {
    case scalar(Scalar)
    case void
    /// struct, union or array: lives in memory, copied with copyMemory.
    case aggregate(size: Int, alignment: Int)
    case function
    /// `__int128` or `unsigned __int128`: 16 bytes in memory, two 64-bit halves in registers
    /// (`WideIntegerLowering.swift`).
    case wide(isSigned: Bool)
    /// Something BPF cannot express; the text names the construct for the diagnostic.
    case unsupported(String)
}

/// Maps libclang types to `TypeClass` (for lowering) and to `TypeTable` entries (for BTF).
struct TypeLowering {
    var table = TypeTable()
    /// Records already in the table, by USR, so recursive structs terminate.
    private var records: [String: TypeID] = [:]

    func classify(_ type: CXType) -> TypeClass {
        let t = type.canonical
        switch t.kind {
        case CXType_Void:
            return .void
        case CXType_Bool:
            return .scalar(.bool)
        case CXType_Char_S, CXType_SChar, CXType_Short, CXType_Int, CXType_Long, CXType_LongLong, CXType_WChar:
            return .scalar(.integer(size: t.size ?? 8, isSigned: true))
        case CXType_Char_U, CXType_UChar, CXType_UShort, CXType_UInt, CXType_ULong, CXType_ULongLong,
             CXType_Char16, CXType_Char32:
            return .scalar(.integer(size: t.size ?? 8, isSigned: false))
        case CXType_Enum:
            return classify(clang_getEnumDeclIntegerType(t.declaration))
        case CXType_Atomic:
            // `_Atomic T` holds a T; how it is accessed is the accesses' business (AccessFlags).
            let value = clang_Type_getValueType(t)
            switch classify(value) {
            case .aggregate, .wide:
                return .unsupported("_Atomic struct, array or 128-bit integer '\(type.spelling)': BPF has no atomic access wider than 8 bytes")
            case .scalar, .void, .function, .unsupported:
                return classify(value)
            }
        case CXType_Pointer:
            let pointee = t.pointee
            let elementSize: Int
            switch pointee.canonical.kind {
            case CXType_Void, CXType_FunctionProto, CXType_FunctionNoProto: elementSize = 1
            default: elementSize = pointee.size ?? 1
            }
            return .scalar(.pointer(elementSize: elementSize, addressSpace: pointee.addressSpace))
        case CXType_Record, CXType_ConstantArray, CXType_IncompleteArray:
            guard let size = t.size, let alignment = t.alignment else {
                return .unsupported("incomplete type '\(type.spelling)'")
            }
            return .aggregate(size: size, alignment: alignment)
        case CXType_FunctionProto, CXType_FunctionNoProto:
            return .function
        case CXType_Float, CXType_Double, CXType_LongDouble, CXType_Half, CXType_Float16, CXType_Float128,
             CXType_BFloat16, CXType_Ibm128:
            return .unsupported("floating point type '\(type.spelling)': BPF has no floating-point instructions")
        case CXType_Int128:
            return .wide(isSigned: true)
        case CXType_UInt128:
            return .wide(isSigned: false)
        case CXType_Complex:
            return .unsupported("complex type '\(type.spelling)'")
        case CXType_VariableArray, CXType_DependentSizedArray:
            return .unsupported("variable-length array '\(type.spelling)': BPF stack frames have a fixed size")
        default:
            return .unsupported("type '\(type.spelling)'")
        }
    }

    /// The class of a value of this type: an array used as a value is a pointer to its first
    /// element. libclang shows an array parameter (`int x[4]`) with its type as written, where C
    /// adjusted it to a pointer, so its uses look like arrays that are values.
    func classifyAsValue(_ type: CXType) -> TypeClass {
        let t = type.canonical
        guard t.kind == CXType_ConstantArray || t.kind == CXType_IncompleteArray else { return classify(type) }
        let element = t.elementType
        return .scalar(.pointer(elementSize: element.size ?? 1, addressSpace: element.addressSpace))
    }

    /// The table entry for a type, keeping typedef names and qualifiers as BTF wants them.
    mutating func typeID(_ type: CXType) -> TypeID {
        if type.isConst || type.isVolatile {
            let unqualified = clang_getUnqualifiedType(type)
            var id = typeID(unqualified)
            if type.isVolatile { id = table.intern(.volatile(id)) }
            if type.isConst { id = table.intern(.const(id)) }
            return id
        }
        switch type.kind {
        case CXType_Elaborated:
            return typeID(clang_Type_getNamedType(type))
        case CXType_Atomic:
            // BTF has no atomic qualifier; clang describes `_Atomic T` as T.
            return typeID(clang_Type_getValueType(type))
        case CXType_Attributed:
            return typeID(clang_Type_getModifiedType(type))
        case CXType_Typedef:
            let declaration = type.declaration
            let underlying = clang_getTypedefDeclUnderlyingType(declaration)
            return table.intern(.typedef(name: declaration.spelling, type: typeID(underlying)))
        case CXType_Pointer:
            let pointee = type.pointee
            return table.intern(.pointer(pointee: typeID(pointee), addressSpace: pointee.addressSpace))
        case CXType_ConstantArray:
            return table.intern(.array(element: typeID(type.elementType), count: Int(type.arraySize)))
        case CXType_IncompleteArray:
            return table.intern(.array(element: typeID(type.elementType), count: 0))
        case CXType_Record:
            return recordID(type)
        case CXType_Enum:
            return enumID(type)
        case CXType_FunctionProto, CXType_FunctionNoProto:
            let parameters = type.argumentTypes.map { CType.Parameter(name: "", type: typeID($0)) }
            return table.intern(.function(returnType: typeID(type.resultType), parameters: parameters,
                                          isVariadic: type.isVariadic))
        case CXType_Unexposed:
            let canonical = type.canonical
            return canonical.kind == CXType_Unexposed ? table.intern(.void) : typeID(canonical)
        default:
            return builtinID(type.canonical)
        }
    }

    /// A function type with the parameter names of its declaration, for FUNC_PROTO.
    mutating func functionTypeID(_ declaration: CXCursor) -> TypeID {
        let type = declaration.type
        let count = max(0, Int(clang_Cursor_getNumArguments(declaration)))
        let parameters = (0..<count).map { i -> CType.Parameter in
            let parameter = clang_Cursor_getArgument(declaration, UInt32(i))
            let type = parameter.type
            let canonical = type.canonical
            guard canonical.kind == CXType_ConstantArray || canonical.kind == CXType_IncompleteArray else {
                return CType.Parameter(name: parameter.spelling, type: typeID(type))
            }
            // An array parameter is a pointer (see classifyAsValue), and BTF says so, as clang's does.
            let element = canonical.elementType
            return CType.Parameter(name: parameter.spelling, type: table.intern(.pointer(
                pointee: typeID(element), addressSpace: element.addressSpace)))
        }
        return table.intern(.function(returnType: typeID(type.resultType), parameters: parameters,
                                      isVariadic: type.isVariadic))
    }

    private mutating func builtinID(_ type: CXType) -> TypeID {
        switch classify(type) {
        case .void:
            return table.intern(.void)
        case .scalar(.bool):
            return table.intern(.integer(name: "_Bool", size: 1, isSigned: false))
        case .scalar(.integer(let size, let isSigned)):
            return table.intern(.integer(name: type.spelling, size: size, isSigned: isSigned))
        case .wide(let isSigned):
            // An INT of 16 bytes named `__int128` or `unsigned __int128`, as clang's.
            return table.intern(.integer(name: type.spelling, size: 16, isSigned: isSigned))
        case .scalar(.pointer), .aggregate, .function, .unsupported:
            // Floating point and other types never reach BTF: lowering rejects them first.
            return table.intern(.integer(name: type.spelling, size: type.size ?? 0, isSigned: true))
        }
    }

    private mutating func recordID(_ type: CXType) -> TypeID {
        let declaration = clang_getCanonicalCursor(type.declaration)
        var usr = clang_getCursorUSR(declaration).consume()
        if clang_Cursor_isAnonymous(declaration) != 0 {
            // Two anonymous unions of one struct (the kernel's `struct page`) may share a USR.
            let location = declaration.location
            usr += "@\(location.file):\(location.line):\(location.column)"
        }
        if let id = records[usr] { return id }
        let isUnion = declaration.kind == CXCursor_UnionDecl
        let name = clang_Cursor_isAnonymous(declaration) != 0 ? "" : declaration.spelling
        guard let size = type.size, let alignment = type.alignment else {
            let id = table.intern(.forward(name: name, isUnion: isUnion))
            records[usr] = id
            return id
        }
        let id = table.reserve(.forward(name: name, isUnion: isUnion))
        records[usr] = id
        var fields: [CType.Field] = []
        // Anonymous struct and union members included, unnamed bit-fields (padding) not, as in
        // clang's BTF; CO-RE access strings count members so.
        for child in type.canonical.members {
            let bitWidth = clang_Cursor_isBitField(child) != 0 ? Int(clang_getFieldDeclBitWidth(child)) : 0
            // An anonymous member's field is spelled after its type; BTF leaves it unnamed.
            let isAnonymous = clang_Cursor_isAnonymousRecordDecl(child.type.canonical.declaration) != 0
            fields.append(CType.Field(name: isAnonymous ? "" : child.spelling, type: typeID(child.type),
                                      bitOffset: Int(clang_Cursor_getOffsetOfField(child)), bitWidth: bitWidth))
        }
        let record: CType = isUnion
            ? .union(name: name, size: size, align: alignment, fields: fields)
            : .structure(name: name, size: size, align: alignment, fields: fields)
        table.define(id, as: record)
        return id
    }

    private mutating func enumID(_ type: CXType) -> TypeID {
        let declaration = type.declaration
        let integer = clang_getEnumDeclIntegerType(declaration)
        let isSigned: Bool
        if case .scalar(let s) = classify(integer) { isSigned = s.isSigned } else { isSigned = true }
        let values = declaration.children.filter { $0.kind == CXCursor_EnumConstantDecl }.map {
            CType.Enumerator(name: $0.spelling,
                             value: isSigned ? clang_getEnumConstantDeclValue($0)
                                             : Int64(bitPattern: clang_getEnumConstantDeclUnsignedValue($0)))
        }
        let name = clang_Cursor_isAnonymous(declaration) != 0 ? "" : declaration.spelling
        return table.intern(.enumeration(name: name, size: integer.size ?? 4, isSigned: isSigned, values: values))
    }
}
