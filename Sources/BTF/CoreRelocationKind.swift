/// What a CO-RE relocation asks of the target kernel's BTF (`enum bpf_core_relo_kind` in
/// include/uapi/linux/bpf.h), by the number `.BTF.ext` stores.
public enum CoreRelocationKind: UInt32, Hashable, Sendable {
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
}
