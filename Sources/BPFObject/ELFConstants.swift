// ELF numbers the writer and the reader share (System V gABI, and Documentation/bpf/llvm_reloc.rst
// for the BPF relocation types).

/// Numbers of the ELF64 format as used by BPF relocatable objects.
public enum ELF {
    public static let headerSize = 64
    public static let sectionHeaderSize = 64
    public static let symbolSize = 24
    public static let relSize = 16

    public static let classELF64: UInt8 = 2
    public static let dataLittleEndian: UInt8 = 1
    public static let typeRelocatable: UInt16 = 1
    public static let machineBPF: UInt16 = 247

    // Section types.
    public static let shtNull: UInt32 = 0
    public static let shtProgbits: UInt32 = 1
    public static let shtSymtab: UInt32 = 2
    public static let shtStrtab: UInt32 = 3
    public static let shtNobits: UInt32 = 8
    public static let shtRel: UInt32 = 9
    public static let shtLLVMAddrsig: UInt32 = 0x6fff4c03

    // Section flags.
    public static let shfWrite: UInt64 = 0x1
    public static let shfAlloc: UInt64 = 0x2
    public static let shfExecinstr: UInt64 = 0x4
    public static let shfMerge: UInt64 = 0x10
    public static let shfStrings: UInt64 = 0x20
    public static let shfInfoLink: UInt64 = 0x40

    // Symbol bindings and types.
    public static let stbLocal: UInt8 = 0
    public static let stbGlobal: UInt8 = 1
    public static let stbWeak: UInt8 = 2
    public static let sttNotype: UInt8 = 0
    public static let sttObject: UInt8 = 1
    public static let sttFunc: UInt8 = 2
    public static let sttSection: UInt8 = 3
    public static let sttFile: UInt8 = 4
    public static let stvDefault: UInt8 = 0
    public static let stvInternal: UInt8 = 1
    public static let stvHidden: UInt8 = 2
    public static let shnUndef: UInt16 = 0
    public static let shnAbs: UInt16 = 0xfff1

    // BPF relocation types.
    public static let rBPF64_64: UInt32 = 1
    public static let rBPF64Abs64: UInt32 = 2
    public static let rBPF64Abs32: UInt32 = 3
    public static let rBPF64NoDyld32: UInt32 = 4
    public static let rBPF64_32: UInt32 = 10
}
