// The on-disk layout of `.BTF` and `.BTF.ext` (include/uapi/linux/btf.h, Documentation/bpf/btf.rst,
// and libbpf's btf.h for .BTF.ext). Only the encoder and decoder use these numbers.

/// Numbers of the BTF wire format.
public enum BTFWire {
    public static let magic: UInt16 = 0xEB9F
    public static let version: UInt8 = 1
    /// `struct btf_header`: magic, version, flags, hdr_len, type_off, type_len, str_off, str_len.
    public static let headerLength: UInt32 = 24
    /// `struct btf_ext_header` with func_info, line_info and core_relo parts.
    public static let extHeaderLength: UInt32 = 32
    public static let funcInfoRecordSize: UInt32 = 8
    public static let lineInfoRecordSize: UInt32 = 16
    /// `struct bpf_core_relo`: insn_off, type_id, access_str_off, kind.
    public static let coreRelocationRecordSize: UInt32 = 16

    /// `info` bits 24-28.
    public enum Kind: UInt32 {
        case int = 1, pointer = 2, array = 3, structure = 4, union = 5, enumeration = 6, forward = 7
        case typedef = 8, volatile = 9, const = 10, restrict = 11, function = 12, functionProto = 13
        case variable = 14, dataSection = 15, float = 16, declTag = 17, typeTag = 18, enumeration64 = 19
    }

    // BTF_KIND_INT encoding bits (bits 24-27 of the trailing u32).
    public static let intSigned: UInt32 = 1 << 0
    public static let intChar: UInt32 = 1 << 1
    public static let intBool: UInt32 = 1 << 2

    /// line_info packs `line << 10 | column`.
    public static let lineShift: UInt32 = 10
}
