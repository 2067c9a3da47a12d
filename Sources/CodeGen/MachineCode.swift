import BPFDiagnostics
import BPFIR
import BPFInstructions

// BPF code between instruction selection and branch resolution: real instructions, except that
// jumps still name their target block and ld_imm64/calls that need a relocation still name their
// symbol. Branch resolution turns block names into offsets once every block's size is known.

/// One selected instruction whose jump target or relocation is still symbolic.
enum MachineInstruction: Equatable {
    /// A finished one-slot instruction (intra-sequence jumps already carry their offset).
    case plain(Instruction)
    /// `dst = imm64 ll`: two slots.
    case loadImm64(Register, Int64)
    /// `dst = symbol + offset ll`: two slots and a relocation against `symbol`.
    case symbolAddress(Register, symbol: String, offset: Int32)
    /// `call -1` with src `BPF_PSEUDO_CALL` and a relocation against `symbol` (a function or kfunc).
    case relocatedCall(symbol: String)
    /// A jump to the start of `target`: `ja`, a conditional jump (`opcode` carries class, operation
    /// and source), or a may_goto.
    case jump(opcode: UInt8, dst: Register, src: Register, imm: Int32, target: BlockID)

    /// How many 8-byte slots it takes.
    var slotCount: Int {
        switch self {
        case .loadImm64, .symbolAddress: return 2
        case .plain, .relocatedCall, .jump: return 1
        }
    }
}

/// A selected instruction with the source position and note of the IR instruction it came from.
struct MachineLine: Equatable {
    var instruction: MachineInstruction
    var location: SourceLocation?
    var note: String?
}

/// The selected code of one block, in layout order.
struct MachineBlock {
    var id: BlockID
    var lines: [MachineLine]
}

/// Instruction builders: one place that knows how each BPF instruction is encoded.
enum BPF {
    /// ALU operation codes, the `op` nibble of an ALU/ALU64 opcode.
    static func aluOp(_ op: BinaryOperator) -> UInt8 {
        switch op {
        case .add: return Opcode.add
        case .sub: return Opcode.sub
        case .mul: return Opcode.mul
        case .udiv, .sdiv: return Opcode.div
        case .umod, .smod: return Opcode.mod
        case .and: return Opcode.and
        case .or: return Opcode.or
        case .xor: return Opcode.xor
        case .shl: return Opcode.lsh
        case .lshr: return Opcode.rsh
        case .ashr: return Opcode.arsh
        }
    }

    static func aluClass(_ width: ALUWidth) -> UInt8 {
        switch width {
        case .bits32: return Opcode.classALU
        case .bits64: return Opcode.classALU64
        }
    }

    static func jumpClass(_ width: ALUWidth) -> UInt8 {
        switch width {
        case .bits32: return Opcode.classJMP32
        case .bits64: return Opcode.classJMP
        }
    }

    static func jumpOp(_ condition: Condition) -> UInt8 {
        switch condition {
        case .eq: return Opcode.jeq
        case .ne: return Opcode.jne
        case .ugt: return Opcode.jgt
        case .uge: return Opcode.jge
        case .ult: return Opcode.jlt
        case .ule: return Opcode.jle
        case .sgt: return Opcode.jsgt
        case .sge: return Opcode.jsge
        case .slt: return Opcode.jslt
        case .sle: return Opcode.jsle
        }
    }

    static func sizeCode(_ size: MemorySize) -> UInt8 {
        switch size {
        case .byte: return Opcode.sizeB
        case .half: return Opcode.sizeH
        case .word: return Opcode.sizeW
        case .double: return Opcode.sizeDW
        }
    }

    /// `dst op= src` (`off` 1 selects the signed variant of div/mod, or a sign-extending mov).
    static func alu(_ op: UInt8, _ width: ALUWidth, _ dst: Register, _ src: Register, offset: Int16 = 0) -> Instruction {
        Instruction(opcode: aluClass(width) | op | Opcode.sourceX, dst: dst, src: src, offset: offset)
    }

    /// `dst op= imm`; ALU64 sign-extends `imm` to 64 bits.
    static func alu(_ op: UInt8, _ width: ALUWidth, _ dst: Register, imm: Int32, offset: Int16 = 0) -> Instruction {
        Instruction(opcode: aluClass(width) | op | Opcode.sourceK, dst: dst, offset: offset, imm: imm)
    }

    /// `dst = src`, all 64 bits.
    static func mov(_ dst: Register, _ src: Register) -> Instruction {
        alu(Opcode.mov, .bits64, dst, src)
    }

    /// `dst = -dst`.
    static func neg(_ width: ALUWidth, _ dst: Register) -> Instruction {
        Instruction(opcode: aluClass(width) | Opcode.neg | Opcode.sourceK, dst: dst)
    }

    /// `dst = be<bits> dst`: BPF_TO_BE, which on a little-endian machine reverses the low `bits`
    /// bits' bytes and clears the rest; in every instruction set version (v4's bswap is ALU64).
    static func toBigEndian(_ dst: Register, bits: Int) -> Instruction {
        Instruction(opcode: Opcode.classALU | Opcode.end | Opcode.sourceX, dst: dst, imm: Int32(bits))
    }

    /// `dst = *(size *)(base + offset)`, zero-extending.
    static func load(_ size: MemorySize, _ dst: Register, _ base: Register, _ offset: Int16) -> Instruction {
        Instruction(opcode: Opcode.classLDX | Opcode.modeMEM | sizeCode(size), dst: dst, src: base, offset: offset)
    }

    /// `*(size *)(base + offset) = src`.
    static func store(_ size: MemorySize, _ base: Register, _ offset: Int16, _ src: Register) -> Instruction {
        Instruction(opcode: Opcode.classSTX | Opcode.modeMEM | sizeCode(size), dst: base, src: src, offset: offset)
    }

    /// BPF_ATOMIC on `*(size *)(base + offset)` with operand `src`; `imm` is the operation.
    static func atomic(_ size: MemorySize, _ base: Register, _ offset: Int16, _ src: Register, imm: Int32) -> Instruction {
        Instruction(opcode: Opcode.classSTX | Opcode.modeATOMIC | sizeCode(size), dst: base, src: src, offset: offset,
                    imm: imm)
    }

    /// `dst = load_acquire((size *)(base + offset))` (BPF_LOAD_ACQ, kernel 6.15 on).
    static func loadAcquire(_ size: MemorySize, _ dst: Register, _ base: Register, _ offset: Int16) -> Instruction {
        Instruction(opcode: Opcode.classSTX | Opcode.modeATOMIC | sizeCode(size), dst: dst, src: base, offset: offset,
                    imm: 0x100)
    }

    /// `store_release((size *)(base + offset), src)` (BPF_STORE_REL, kernel 6.15 on).
    static func storeRelease(_ size: MemorySize, _ base: Register, _ offset: Int16, _ src: Register) -> Instruction {
        atomic(size, base, offset, src, imm: 0x110)
    }

    /// BPF_FETCH: the atomic operation also returns the old value in its source register.
    static let atomicFetch: Int32 = 0x01
    /// BPF_XCHG (always with BPF_FETCH).
    static let atomicExchange: Int32 = 0xe0 | 0x01
    /// BPF_CMPXCHG (always with BPF_FETCH): compares with r0, the old value returns in r0.
    static let atomicCompareExchange: Int32 = 0xf0 | 0x01

    /// `*(size *)(base + offset) = imm` (BPF_ST, v4); a double-word store sign-extends `imm`.
    static func storeImmediate(_ size: MemorySize, _ base: Register, _ offset: Int16, imm: Int32) -> Instruction {
        Instruction(opcode: Opcode.classST | Opcode.modeMEM | sizeCode(size), dst: base, offset: offset, imm: imm)
    }

    /// A jump within the current sequence, `offset` slots past the next instruction.
    static func jump(_ opcode: UInt8, _ dst: Register, _ src: Register, imm: Int32, offset: Int16) -> Instruction {
        Instruction(opcode: opcode, dst: dst, src: src, offset: offset, imm: imm)
    }

    static func helperCall(_ number: Int32) -> Instruction {
        Instruction(opcode: Opcode.classJMP | Opcode.call, imm: number)
    }

    static let exit = Instruction(opcode: Opcode.classJMP | Opcode.exit)
    static let ja: UInt8 = Opcode.classJMP | Opcode.ja
    static let mayGoto: UInt8 = Opcode.classJMP | Opcode.jcond
}
