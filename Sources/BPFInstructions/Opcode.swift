/// Opcode bit fields, from Documentation/bpf/standardization/instruction-set.rst.
///
///     ALU/JMP:    op:4 | source:1 | class:3     (source: 0 = K immediate, 1 = X register)
///     LD/ST:      mode:3 | size:2 | class:3
public enum Opcode {
    // Classes.
    public static let classLD: UInt8 = 0x00
    public static let classLDX: UInt8 = 0x01
    public static let classST: UInt8 = 0x02
    public static let classSTX: UInt8 = 0x03
    public static let classALU: UInt8 = 0x04
    public static let classJMP: UInt8 = 0x05
    public static let classJMP32: UInt8 = 0x06
    public static let classALU64: UInt8 = 0x07

    // Source operand.
    public static let sourceK: UInt8 = 0x00
    public static let sourceX: UInt8 = 0x08

    // ALU operations.
    public static let add: UInt8 = 0x00
    public static let sub: UInt8 = 0x10
    public static let mul: UInt8 = 0x20
    public static let div: UInt8 = 0x30
    public static let or: UInt8 = 0x40
    public static let and: UInt8 = 0x50
    public static let lsh: UInt8 = 0x60
    public static let rsh: UInt8 = 0x70
    public static let neg: UInt8 = 0x80
    public static let mod: UInt8 = 0x90
    public static let xor: UInt8 = 0xa0
    public static let mov: UInt8 = 0xb0
    public static let arsh: UInt8 = 0xc0
    public static let end: UInt8 = 0xd0

    // Jump operations.
    public static let ja: UInt8 = 0x00
    public static let jeq: UInt8 = 0x10
    public static let jgt: UInt8 = 0x20
    public static let jge: UInt8 = 0x30
    public static let jset: UInt8 = 0x40
    public static let jne: UInt8 = 0x50
    public static let jsgt: UInt8 = 0x60
    public static let jsge: UInt8 = 0x70
    public static let call: UInt8 = 0x80
    public static let exit: UInt8 = 0x90
    public static let jlt: UInt8 = 0xa0
    public static let jle: UInt8 = 0xb0
    public static let jslt: UInt8 = 0xc0
    public static let jsle: UInt8 = 0xd0
    public static let jcond: UInt8 = 0xe0

    // Memory sizes and modes.
    public static let sizeW: UInt8 = 0x00
    public static let sizeH: UInt8 = 0x08
    public static let sizeB: UInt8 = 0x10
    public static let sizeDW: UInt8 = 0x18
    public static let modeIMM: UInt8 = 0x00
    public static let modeMEM: UInt8 = 0x60
    public static let modeMEMSX: UInt8 = 0x80
    public static let modeATOMIC: UInt8 = 0xc0

    /// `ld_imm64`: BPF_LD | BPF_IMM | BPF_DW.
    public static let ldImm64: UInt8 = 0x18

    // `src` values of ld_imm64 (include/uapi/linux/bpf.h).
    public static let pseudoMapFD: UInt8 = 1
    public static let pseudoMapValue: UInt8 = 2
    /// The imm is a vmlinux BTF id of a VAR or FUNC (a `__ksym`); the kernel puts its address.
    public static let pseudoBTFID: UInt8 = 3
    // `src` values of call.
    public static let pseudoCall: UInt8 = 1
    public static let pseudoKfuncCall: UInt8 = 2

    /// `off` of a `mov` that is an addr_space_cast (BPF_ADDR_SPACE_CAST).
    public static let addrSpaceCastOffset: Int16 = 1
    /// `src` of a JCOND jump that is a may_goto (BPF_MAY_GOTO).
    public static let mayGoto: UInt8 = 0

    public static func classOf(_ opcode: UInt8) -> UInt8 { opcode & 0x07 }
}
