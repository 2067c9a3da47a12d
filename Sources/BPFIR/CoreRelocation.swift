// CO-RE ("compile once, run everywhere"): a value the loader recomputes against the running
// kernel's BTF before the program loads. The program is compiled against local type definitions
// (vmlinux.h, or a struct written by hand with `preserve_access_index`); each field offset, field
// property, type property, enumerator value or type id taken from them becomes an instruction
// holding the local value plus a `.BTF.ext` core_relo record naming the local type and the path
// to the field, which libbpf (relo_core.c) resolves by name in the kernel's types and patches
// into the instruction.

/// What a CO-RE relocation asks of the kernel's types: which value an instruction holds, and of
/// which local type and field. The local value itself is what the loader computes from the
/// object's own BTF (code generation computes it the same way, since libbpf checks it).
public struct CoreRelocation: Hashable, Sendable {
    /// `enum bpf_core_relo_kind` of libbpf and the kernel (include/uapi/linux/bpf.h).
    public enum Kind: UInt32, Hashable, Sendable {
        case fieldByteOffset = 0, fieldByteSize, fieldExists, fieldSigned, fieldLShiftU64, fieldRShiftU64
        case typeIDLocal, typeIDTarget, typeExists, typeSize
        case enumValueExists, enumValue
        case typeMatches

        /// Whether the relocation names a field by an access path (the others name a type, or an
        /// enumerator by its index).
        public var isFieldBased: Bool {
            switch self {
            case .fieldByteOffset, .fieldByteSize, .fieldExists, .fieldSigned, .fieldLShiftU64, .fieldRShiftU64:
                return true
            case .typeIDLocal, .typeIDTarget, .typeExists, .typeSize, .enumValueExists, .enumValue, .typeMatches:
                return false
            }
        }

        /// Whether the instruction holding the value is an ld_imm64, as clang emits type ids and
        /// enumerator values (which may be 64 bits wide); the rest are 32-bit immediates.
        public var isWide: Bool {
            switch self {
            case .typeIDLocal, .typeIDTarget, .enumValueExists, .enumValue:
                return true
            case .fieldByteOffset, .fieldByteSize, .fieldExists, .fieldSigned, .fieldLShiftU64, .fieldRShiftU64,
                 .typeExists, .typeSize, .typeMatches:
                return false
            }
        }
    }

    public var kind: Kind
    /// The root type: the struct or union an access path starts from (a typedef stays a typedef,
    /// qualifiers are dropped), the type asked about, or the enum.
    public var type: TypeID
    /// The access string's numbers: for a field, the index into the root pointer (0 for `p->f`,
    /// 1 for `p[1].f`), then a member index (BTF member order, anonymous members counted, unnamed
    /// bit-fields not) or an array index per step; for an enumerator, its index; else `[0]`.
    public var accessPath: [Int]

    public init(kind: Kind, type: TypeID, accessPath: [Int]) {
        self.kind = kind
        self.type = type
        self.accessPath = accessPath
    }

    /// The access string as `.BTF.ext` stores it: `0:1:2`.
    public var accessString: String { accessPath.map(String.init).joined(separator: ":") }
}

extension TypeTable {
    /// The type with typedefs, `const` and `volatile` looked through (libbpf's skip_mods_and_typedefs).
    public func resolved(_ id: TypeID) -> (id: TypeID, type: CType) {
        var id = id
        while true {
            switch self[id] {
            case .typedef(_, let inner), .const(let inner), .volatile(let inner):
                id = inner
            case .void, .integer, .pointer, .array, .structure, .union, .enumeration, .forward, .function:
                return (id, self[id])
            }
        }
    }

    /// Bytes an object of the type occupies, as libbpf's btf__resolve_size computes it from BTF;
    /// nil for void, functions and forward declarations.
    public func byteSize(of id: TypeID) -> Int? {
        switch resolved(id).type {
        case .integer(_, let size, _), .structure(_, let size, _, _), .union(_, let size, _, _),
             .enumeration(_, let size, _, _):
            return size
        case .pointer:
            return 8
        case .array(let element, let count):
            return byteSize(of: element).map { $0 * count }
        case .void, .forward, .function, .typedef, .const, .volatile:
            return nil
        }
    }

    /// The value libbpf computes for `relocation` from the BTF of these types (relo_core.c's
    /// bpf_core_calc_*_relo on the local spec), which it checks against the instruction before
    /// patching in the kernel's value; nil when the access path does not fit the types. Type id
    /// relocations hold BTF ids, which only BTF emission knows: `typeID` gives them.
    public func coreLocalValue(of relocation: CoreRelocation, typeID: (TypeID) -> Int64?) -> Int64? {
        switch relocation.kind {
        case .fieldByteOffset, .fieldByteSize, .fieldExists, .fieldSigned, .fieldLShiftU64, .fieldRShiftU64:
            return fieldValue(relocation)
        case .typeIDLocal, .typeIDTarget:
            return typeID(relocation.type)
        case .typeExists, .typeMatches:
            return 1
        case .typeSize:
            return byteSize(of: relocation.type).map(Int64.init)
        case .enumValueExists:
            return 1
        case .enumValue:
            guard case .enumeration(_, _, _, let values) = resolved(relocation.type).type,
                  let index = relocation.accessPath.first, values.indices.contains(index) else { return nil }
            return values[index].value
        }
    }

    private func fieldValue(_ relocation: CoreRelocation) -> Int64? {
        guard let first = relocation.accessPath.first, let rootSize = byteSize(of: relocation.type) else { return nil }
        var bitOffset = first * rootSize * 8
        var current = relocation.type
        var member: CType.Field?
        for index in relocation.accessPath.dropFirst() {
            switch resolved(current).type {
            case .structure(_, _, _, let fields), .union(_, _, _, let fields):
                guard fields.indices.contains(index) else { return nil }
                member = fields[index]
                bitOffset += fields[index].bitOffset
                current = fields[index].type
            case .array(let element, _):
                guard let size = byteSize(of: element) else { return nil }
                member = nil
                bitOffset += index * size * 8
                current = element
            case .void, .integer, .pointer, .enumeration, .forward, .typedef, .const, .volatile, .function:
                return nil
            }
        }
        guard let member else {
            // An array element (or the root itself): only its place and size are defined.
            switch relocation.kind {
            case .fieldExists: return 1
            case .fieldByteOffset: return Int64(bitOffset / 8)
            case .fieldByteSize: return byteSize(of: current).map(Int64.init)
            case .fieldSigned, .fieldLShiftU64, .fieldRShiftU64, .typeIDLocal, .typeIDTarget, .typeExists, .typeSize,
                 .enumValueExists, .enumValue, .typeMatches:
                return nil
            }
        }
        guard let memberSize = byteSize(of: member.type) else { return nil }
        var byteSize = memberSize
        var byteOffset = bitOffset / 8
        var bitSize = memberSize * 8
        if member.bitWidth > 0 {
            // The smallest naturally aligned unit, at least the member type's size, holding the bits.
            bitSize = member.bitWidth
            byteOffset = bitOffset / 8 / byteSize * byteSize
            while bitOffset + bitSize - byteOffset * 8 > byteSize * 8 {
                guard byteSize < 8 else { return nil }
                byteSize *= 2
                byteOffset = bitOffset / 8 / byteSize * byteSize
            }
        }
        switch relocation.kind {
        case .fieldExists: return 1
        case .fieldByteOffset: return Int64(byteOffset)
        case .fieldByteSize: return Int64(byteSize)
        case .fieldSigned: return isSigned(member.type) ? 1 : 0
        case .fieldLShiftU64: return Int64(64 - (bitOffset + bitSize - byteOffset * 8))
        case .fieldRShiftU64: return Int64(64 - bitSize)
        case .typeIDLocal, .typeIDTarget, .typeExists, .typeSize, .enumValueExists, .enumValue, .typeMatches:
            return nil
        }
    }

    /// A signed integer (`char` included, `_Bool` not) or a signed enum: what BTF's INT encoding
    /// and ENUM kind_flag say.
    private func isSigned(_ id: TypeID) -> Bool {
        switch resolved(id).type {
        case .integer(_, _, let isSigned), .enumeration(_, _, let isSigned, _):
            return isSigned
        case .void, .pointer, .array, .structure, .union, .forward, .typedef, .const, .volatile, .function:
            return false
        }
    }
}
