import BPFInstructions
import BTF

/// Symbol binding, as ELF's STB_LOCAL / STB_GLOBAL / STB_WEAK.
public enum SymbolBinding: Sendable, Hashable {
    case local, global, weak
}

/// A BPF object before it becomes ELF bytes, or after an ELF file was read: the one model shared
/// by the compiler's emitter, the ELF writer, the ELF reader and the loader.
///
/// It holds what libbpf and the kernel care about (code, data, symbols, relocations, BTF) and
/// nothing of ELF's own bookkeeping (section indices, string tables), which the writer derives.
public struct ObjectFile: Sendable {
    /// Program sections (`syscall`, ...) and `.text` with the sub-programs, in file order.
    public var codeSections: [CodeSection]
    /// `.data`, `.bss`, `.rodata*`, `.maps`, `.addr_space.1`, `license`, in file order.
    public var dataSections: [DataSection]
    /// Undefined symbols referenced by relocations (kfuncs, kernel variables, kconfig values), in
    /// first-use order.
    public var externs: [ExternSymbol]
    /// Contents of `.BTF`; nil writes no `.BTF` and no `.BTF.ext`.
    public var btf: BTFSpec?

    public init(codeSections: [CodeSection] = [], dataSections: [DataSection] = [],
                externs: [ExternSymbol] = [], btf: BTFSpec? = nil) {
        self.codeSections = codeSections
        self.dataSections = dataSections
        self.externs = externs
        self.btf = btf
    }
}

/// An executable section: instructions plus the functions defined in it.
public struct CodeSection: Sendable {
    public var name: String
    public var instructions: [Instruction]
    public var functions: [FunctionSymbol]
    public var relocations: [CodeRelocation]
    /// `.BTF.ext` line_info records for this section, sorted by instruction.
    public var lines: [LineRecord]
    /// `.BTF.ext` core_relo records for this section, in file order.
    public var coreRelocations: [CoreRelocationRecord]

    public init(name: String, instructions: [Instruction] = [], functions: [FunctionSymbol] = [],
                relocations: [CodeRelocation] = [], lines: [LineRecord] = [], coreRelocations: [CoreRelocationRecord] = []) {
        self.name = name
        self.instructions = instructions
        self.functions = functions
        self.relocations = relocations
        self.lines = lines
        self.coreRelocations = coreRelocations
    }
}

/// A function symbol (STT_FUNC). Offsets and sizes count instruction slots, not bytes.
public struct FunctionSymbol: Sendable, Hashable {
    public var name: String
    public var firstInstruction: Int
    public var instructionCount: Int
    public var binding: SymbolBinding
    /// STV_HIDDEN: libbpf verifies a hidden global function as static.
    public var isHidden: Bool
    /// The BTF FUNC that `.BTF.ext` func_info names for this function; nil emits no record.
    public var btfFunction: BTFTypeID?

    public init(name: String, firstInstruction: Int, instructionCount: Int, binding: SymbolBinding,
                isHidden: Bool = false, btfFunction: BTFTypeID? = nil) {
        self.name = name
        self.isHidden = isHidden
        self.firstInstruction = firstInstruction
        self.instructionCount = instructionCount
        self.binding = binding
        self.btfFunction = btfFunction
    }
}

/// A relocation in a code section (a REL entry in `.rel<section>`).
///
/// The symbol is named: a function, a data object (`.data`, `.maps`, ...), or an extern. A
/// section name (`.text`, `.data`, ...) stands for that section's STT_SECTION symbol, clang's way
/// of referring to static functions and variables; the offset then sits in the instruction (the
/// ld_imm64 imm in bytes, or the call imm as in `call` = offset/8 - 1). The writer chooses ELF relocation type from the instruction: R_BPF_64_64 on `ld_imm64`,
/// R_BPF_64_32 on `call`.
public struct CodeRelocation: Sendable, Hashable {
    public var instructionIndex: Int
    public var symbol: String

    public init(instructionIndex: Int, symbol: String) {
        self.instructionIndex = instructionIndex
        self.symbol = symbol
    }
}

/// A line_info record: which source line an instruction came from.
public struct LineRecord: Sendable, Hashable {
    public var instructionIndex: Int
    public var file: String
    public var line: Int
    public var column: Int
    /// The text of the source line, shown by `llvm-objdump -S`, `bpftool` and verifier logs.
    public var sourceText: String

    public init(instructionIndex: Int, file: String, line: Int, column: Int, sourceText: String) {
        self.instructionIndex = instructionIndex
        self.file = file
        self.line = line
        self.column = column
        self.sourceText = sourceText
    }
}

/// A data section. `.bss` (and anything else all zero that is not `.addr_space.1`) is NOBITS.
public struct DataSection: Sendable {
    public var name: String
    public var bytes: [UInt8]
    /// SHT_NOBITS: no bytes in the file, `bytes` is all zero.
    public var isZeroFill: Bool
    public var alignment: Int
    public var symbols: [DataSymbol]
    /// Addresses the data holds: `.maps` initializers naming programs (a prog_array's slots)
    /// or maps (a map-in-map's slots), `.struct_ops` members naming programs.
    public var relocations: [DataRelocation]

    public init(name: String, bytes: [UInt8], isZeroFill: Bool = false, alignment: Int = 8,
                symbols: [DataSymbol] = [], relocations: [DataRelocation] = []) {
        self.name = name
        self.bytes = bytes
        self.isZeroFill = isZeroFill
        self.alignment = alignment
        self.symbols = symbols
        self.relocations = relocations
    }
}

/// A 64-bit address in a data section (R_BPF_64_ABS64 in `.rel<section>`): the bytes at
/// `offset` become the address of `symbol`, a function or a data object, plus the addend the
/// bytes already hold (zero in what compilers write for BPF).
public struct DataRelocation: Sendable, Hashable {
    public var offset: Int
    public var symbol: String

    public init(offset: Int, symbol: String) {
        self.offset = offset
        self.symbol = symbol
    }
}

/// A data object (STT_OBJECT): a global variable or a map definition.
public struct DataSymbol: Sendable, Hashable {
    public var name: String
    public var offset: Int
    public var size: Int
    public var binding: SymbolBinding
    /// STV_HIDDEN.
    public var isHidden: Bool

    public init(name: String, offset: Int, size: Int, binding: SymbolBinding, isHidden: Bool = false) {
        self.name = name
        self.isHidden = isHidden
        self.offset = offset
        self.size = size
        self.binding = binding
    }
}

/// An undefined symbol (SHN_UNDEF, STT_NOTYPE): a kfunc, kernel variable or kconfig value that
/// the loader resolves by its BTF (the DATASEC listing it says which).
public struct ExternSymbol: Sendable, Hashable {
    public var name: String
    public var isWeak: Bool

    public init(name: String, isWeak: Bool) {
        self.name = name
        self.isWeak = isWeak
    }
}
