import BPFDiagnostics
import BPFIR
import CClang

// CO-RE in the frontend: which accesses the loader relocates, and the BPF builtins that ask for
// relocated values, as clang-19 decides them (CGExpr's preserve_*_access_index intrinsics, which
// LLVM's BPFAbstractMemberAccess merges into one relocation per chain).
//
// An access is preserved when it reads a member of a struct or union marked
// `preserve_access_index` (written on the record, or applied by `#pragma clang attribute push` as
// vmlinux.h does; a record nested in a marked one is marked too), an element at a constant index
// of an array member of such a record, or an element at a constant index of a pointer variable
// to such a record (`p[1].f`); inside `__builtin_preserve_access_index(...)` and the argument of
// `__builtin_preserve_field_info`, every member access and constant index is. Consecutive
// preserved accesses form one chain rooted at the pointer (or object) they start from: its byte
// offset is one relocated value added to the root, which code generation folds into the loads
// and stores through it. A variable index or a pointer load ends a chain; what follows is plain.

/// A chain of preserved accesses, from its root to the object it designates.
struct PreservedAccess {
    enum Root {
        /// The chain starts at the object a pointer points to (`p->f`, `p[1].f`).
        case pointer(CXCursor)
        /// The chain starts at an object that no preserved access reaches (`local.f`, `(*p).f`).
        case object(CXCursor)
    }

    var root: Root
    /// The root object's type as written (a typedef stays one), without qualifiers.
    var rootType: CXType
    /// The access string: the index into the root pointer, then member and array indices.
    var path: [Int]
    /// The bit offset of the designated object from the root pointer.
    var bitOffset: Int
    /// The member designated, nil when the chain ends with an array element.
    var field: CXCursor?
}

extension ModuleLowering {
    /// Whether `record` (a struct or union declaration) is marked `preserve_access_index`,
    /// directly or through the record it is nested in (clang marks nested records and members too).
    func preservesAccessIndex(_ record: CXCursor) -> Bool {
        let definition = clang_getCursorDefinition(record)
        let declaration = definition.isNull ? record : definition
        let key = CursorKey(declaration)
        if let known = preservedRecords[key] { return known }
        // The attribute's first token is its name, also when a macro or a pragma supplied it.
        var preserves = declaration.children.contains { child in
            child.kind == CXCursor_UnexposedAttr && child.tokens(in: unit).first == "preserve_access_index"
        }
        let parent = clang_getCursorLexicalParent(declaration)
        if !preserves, parent.kind == CXCursor_StructDecl || parent.kind == CXCursor_UnionDecl {
            preserves = preservesAccessIndex(parent)
        }
        preservedRecords[key] = preserves
        return preserves
    }
}

extension FunctionLowering {
    // MARK: - Preserved accesses

    /// The preserved access chain that the lvalue `e` ends, if `e` is a preserved access.
    func preservedAccess(_ e: CXCursor) -> PreservedAccess? {
        switch e.kind {
        case CXCursor_ParenExpr:
            return e.children.last(where: { $0.isExpression }).flatMap(preservedAccess)
        case CXCursor_MemberRefExpr:
            return preservedMember(e)
        case CXCursor_ArraySubscriptExpr:
            return preservedElement(e)
        default:
            return nil
        }
    }

    private func preservedMember(_ e: CXCursor) -> PreservedAccess? {
        let field = e.referenced
        guard let base = e.children.first(where: { $0.isExpression }) else { return nil }
        let baseType = base.type.canonical
        let isArrow = baseType.kind == CXType_Pointer
        let record = isArrow ? baseType.pointee.canonical : baseType
        guard record.kind == CXType_Record,
              inPreservedRegion || module.preservesAccessIndex(record.declaration),
              let route = record.memberRoute(to: field), let bits = record.bitOffset(of: field) else { return nil }
        if !isArrow, var chain = preservedAccess(base) {
            chain.path += route
            chain.bitOffset += bits
            chain.field = field
            return chain
        }
        let rootType = clang_getUnqualifiedType(typeAsWritten(isArrow ? pointeeAsWritten(base.type) : base.type, in: base))
        return PreservedAccess(root: isArrow ? .pointer(base) : .object(base), rootType: rootType, path: [0] + route,
                               bitOffset: bits, field: field)
    }

    private func preservedElement(_ e: CXCursor) -> PreservedAccess? {
        let kids = e.children.filter { $0.isExpression }
        guard kids.count == 2 else { return nil }
        let indexFirst: Bool
        if case .scalar(.integer) = module.types.classify(kids[0].type) { indexFirst = true } else { indexFirst = false }
        let (base, index) = indexFirst ? (kids[1], kids[0]) : (kids[0], kids[1])
        guard let i = foldedConstant(index), let elementSize = e.type.size else { return nil }
        if let array = decayedArray(base) {
            guard var chain = preservedAccess(array) else { return nil }
            chain.path.append(Int(i))
            chain.bitOffset += Int(i) * elementSize * 8
            chain.field = nil
            return chain
        }
        // An index into a pointer starts a chain when a member access follows (clang's
        // IsPreserveAIArrayBase: a pointer variable to a marked record).
        let pointee = base.type.canonical.pointee
        guard pointee.canonical.kind == CXType_Record, inPreservedRegion || isPreservedPointerVariable(base) else {
            return nil
        }
        // Here clang names the record itself, whatever typedef the pointer was declared with.
        return PreservedAccess(root: .pointer(base), rootType: clang_getUnqualifiedType(pointee.canonical),
                               path: [Int(i)], bitOffset: Int(i) * elementSize * 8, field: nil)
    }

    /// What a pointer type points to, with the typedef names it was written with (`s_t` of
    /// `s_t *`): CO-RE relocations name the root type as written.
    private func pointeeAsWritten(_ type: CXType) -> CXType {
        var type = type
        while true {
            switch type.kind {
            case CXType_Pointer: return type.pointee
            case CXType_Typedef: type = clang_getTypedefDeclUnderlyingType(type.declaration)
            case CXType_Elaborated: type = clang_Type_getNamedType(type)
            case CXType_Attributed: type = clang_Type_getModifiedType(type)
            default: return type.canonical.pointee
            }
        }
    }

    /// `type`, or the type its `typeof(T)` names when `type` is one, which libclang leaves
    /// unexposed (bpf_core_read.h writes `*(typeof(type) *)0` and `((typeof(type) *)0)->field`):
    /// found as the type a cast in `e` refers to, so that a typedef stays one, as clang keeps it.
    private func typeAsWritten(_ type: CXType, in e: CXCursor) -> CXType {
        guard type.kind == CXType_Unexposed else { return type }
        var pending = [e]
        while let cursor = pending.popLast() {
            if cursor.kind == CXCursor_TypeRef {
                let named = cursor.referenced.type
                if clang_equalTypes(named.canonical, type.canonical) != 0 { return named }
            }
            pending += cursor.children
        }
        return type
    }

    /// A variable (or parameter) that points to a record marked `preserve_access_index`.
    private func isPreservedPointerVariable(_ e: CXCursor) -> Bool {
        var reference = e
        while reference.kind == CXCursor_UnexposedExpr || reference.kind == CXCursor_ParenExpr,
              let inner = reference.children.last(where: { $0.isExpression }) {
            reference = inner
        }
        let declaration = reference.referenced
        guard reference.kind == CXCursor_DeclRefExpr,
              declaration.kind == CXCursor_VarDecl || declaration.kind == CXCursor_ParmDecl else { return false }
        let pointee = declaration.type.canonical.pointee.canonical
        return pointee.kind == CXType_Record && module.preservesAccessIndex(pointee.declaration)
    }

    /// The place a preserved access chain designates: the root plus the relocated byte offset of
    /// the chain's end (for a bit-field, of the storage unit libbpf would load).
    mutating func preservedPlace(_ access: PreservedAccess, at e: CXCursor) throws(DiagnosticList) -> LValue {
        let root: Temp
        switch access.root {
        case .pointer(let pointer):
            root = register(try rvalue(pointer))
        case .object(let object):
            root = register(addressValue(try aggregateAddress(object).address))
        }
        builder.location = e.location
        let relocation = CoreRelocation(kind: .fieldByteOffset, type: module.types.typeID(access.rootType),
                                        accessPath: access.path)
        let offset = emit { .coreValue($0, relocation) }
        let address = Address.temp(register(emit { .binary($0, .add, .bits64, .temp(root), offset) }), offset: 0)
        let space = e.type.addressSpace
        guard let field = access.field, clang_Cursor_isBitField(field) != 0 else {
            return .memory(address, addressSpace: space)
        }
        guard var bitfield = Bitfield(field: field, recordBitOffset: access.bitOffset, base: address,
                                      addressSpace: space, isSigned: try scalar(field.type, at: e).isSigned) else {
            throw failure("bitfield '\(field.spelling)' straddles its storage unit (packed struct): not supported", at: e)
        }
        // The relocated offset is the storage unit's (libbpf's), so the unit starts at the address.
        bitfield.address = address
        return .bitfield(bitfield)
    }

    // MARK: - Builtins

    /// The CO-RE builtins of clang's BPF target; nil when `name` is none of them.
    mutating func coreBuiltin(_ name: String, _ arguments: [CXCursor], at e: CXCursor) throws(DiagnosticList) -> Value? {
        switch name {
        case "__builtin_preserve_access_index":
            guard arguments.count == 1 else { throw failure("\(name) takes one argument", at: e) }
            let outer = inPreservedRegion
            inPreservedRegion = true
            defer { inPreservedRegion = outer }
            if e.type.canonical.kind == CXType_Void {
                try discard(arguments[0])
                return .constant(0)
            }
            return try rvalue(arguments[0])
        case "__builtin_preserve_field_info":
            let kind = try kindArgument(name, arguments, at: e, kinds: [
                .fieldByteOffset, .fieldByteSize, .fieldExists, .fieldSigned, .fieldLShiftU64, .fieldRShiftU64,
            ])
            let outer = inPreservedRegion
            inPreservedRegion = true
            defer { inPreservedRegion = outer }
            guard let access = preservedAccess(arguments[0]), access.path.count > 1 else {
                throw failure("\(name) needs a member or array element access, such as 'p->field'", at: arguments[0])
            }
            return coreValue(kind, type: access.rootType, path: access.path, at: e)
        case "__builtin_preserve_type_info":
            let kind = try kindArgument(name, arguments, at: e, kinds: [.typeExists, .typeSize, .typeMatches])
            let type = typeAsWritten(arguments[0].type, in: arguments[0])
            return coreValue(kind, type: clang_getUnqualifiedType(type), path: [0], at: e)
        case "__builtin_btf_type_id":
            let kind = try kindArgument(name, arguments, at: e, kinds: [.typeIDLocal, .typeIDTarget])
            let type = typeAsWritten(arguments[0].type, in: arguments[0])
            return coreValue(kind, type: clang_getUnqualifiedType(type), path: [0], at: e)
        case "__builtin_preserve_enum_value":
            let kind = try kindArgument(name, arguments, at: e, kinds: [.enumValueExists, .enumValue])
            let (type, index) = try enumerator(arguments[0], builtin: name)
            return coreValue(kind, type: type, path: [index], at: e)
        default:
            return nil
        }
    }

    /// The second argument of a CO-RE builtin: a constant naming one of `kinds`, in order.
    private func kindArgument(_ name: String, _ arguments: [CXCursor], at e: CXCursor,
                              kinds: [CoreRelocation.Kind]) throws(DiagnosticList) -> CoreRelocation.Kind {
        guard arguments.count == 2 else { throw failure("\(name) takes two arguments", at: e) }
        guard let value = arguments[1].integerConstant, kinds.indices.contains(Int(value)) else {
            throw failure("the second argument of \(name) must be a constant from 0 to \(kinds.count - 1)",
                          at: arguments[1])
        }
        return kinds[Int(value)]
    }

    private mutating func coreValue(_ kind: CoreRelocation.Kind, type: CXType, path: [Int], at e: CXCursor) -> Value {
        builder.location = e.location
        let relocation = CoreRelocation(kind: kind, type: module.types.typeID(type), accessPath: path)
        return emit { .coreValue($0, relocation) }
    }

    /// `*(enum E *)ENUMERATOR`, as bpf_core_read.h writes the argument of
    /// `__builtin_preserve_enum_value`: the enum type and the enumerator's index in it.
    private func enumerator(_ argument: CXCursor, builtin: String) throws(DiagnosticList) -> (CXType, Int) {
        var reference = argument
        while let inner = reference.children.last(where: { $0.isExpression }) { reference = inner }
        let type = clang_getUnqualifiedType(typeAsWritten(argument.type, in: argument))
        let constant = reference.referenced
        guard reference.kind == CXCursor_DeclRefExpr, constant.kind == CXCursor_EnumConstantDecl,
              type.canonical.kind == CXType_Enum,
              let index = type.canonical.declaration.children
                  .filter({ $0.kind == CXCursor_EnumConstantDecl })
                  .firstIndex(where: { $0.spelling == constant.spelling })
        else {
            throw failure("\(builtin) needs '*(enum E *)ENUMERATOR' with an enumerator of enum E", at: argument)
        }
        return (type, index)
    }
}
