import BTF

/// What a CO-RE relocation asks of the target kernel's BTF (`enum bpf_core_relo_kind` in
/// include/uapi/linux/bpf.h), by the number `.BTF.ext` stores.
public enum CORERelocationKind: UInt32, Sendable, Hashable, CaseIterable {
    case fieldByteOffset = 0
    case fieldByteSize = 1
    case fieldExists = 2
    case fieldSigned = 3
    case fieldLShiftU64 = 4
    case fieldRShiftU64 = 5
    case typeIDLocal = 6
    case typeIDTarget = 7
    case typeExists = 8
    case typeSize = 9
    case enumValueExists = 10
    case enumValue = 11
    case typeMatches = 12

    /// libbpf's short name for the kind, as llvm-objdump and libbpf's logs print it.
    public var spelling: String {
        switch self {
        case .fieldByteOffset: "byte_off"
        case .fieldByteSize: "byte_sz"
        case .fieldExists: "field_exists"
        case .fieldSigned: "signed"
        case .fieldLShiftU64: "lshift_u64"
        case .fieldRShiftU64: "rshift_u64"
        case .typeIDLocal: "local_type_id"
        case .typeIDTarget: "target_type_id"
        case .typeExists: "type_exists"
        case .typeSize: "type_size"
        case .enumValueExists: "enumval_exists"
        case .enumValue: "enumval_value"
        case .typeMatches: "type_matches"
        }
    }
}

/// A `.BTF.ext` core_relo record (`struct bpf_core_relo`): the instruction whose immediate or
/// offset the loader rewrites for the running kernel, the object's BTF type the access starts
/// from, and the access string (`0:1:2`: an index into the root pointer, then member or element
/// indices; a single `0` for type relocations; the enumerator's index for enum relocations).
public struct CORERelocation: Sendable, Hashable {
    /// Instruction slot within the code section.
    public var instructionIndex: Int
    public var type: BTFTypeID
    public var accessString: String
    public var kind: CORERelocationKind

    public init(instructionIndex: Int, type: BTFTypeID, accessString: String, kind: CORERelocationKind) {
        self.instructionIndex = instructionIndex
        self.type = type
        self.accessString = accessString
        self.kind = kind
    }
}
