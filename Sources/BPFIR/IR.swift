import BPFDiagnostics

// The typed IR between the C frontend and BPF code generation.
//
// It is a control-flow graph of basic blocks over virtual registers (`Temp`), each a 64-bit value.
// It is not SSA: a Temp may be assigned in several places (a C local that never has its address
// taken is one Temp). Memory is reached through explicit `Address`es; locals whose address is taken,
// arrays and structs live in stack slots.
//
// Integer semantics are explicit. A value of a C type narrower than 64 bits is kept normalized in
// its Temp: sign-extended when the type is signed, zero-extended when unsigned. The frontend emits the
// extensions; code generation never guesses a C type.

/// A virtual register holding a 64-bit value.
public struct Temp: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let index: Int
    public init(_ index: Int) { self.index = index }
    public static func < (a: Temp, b: Temp) -> Bool { a.index < b.index }
    public var description: String { "%\(index)" }
}

/// A basic block of one function; block 0 is the entry.
public struct BlockID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let index: Int
    public init(_ index: Int) { self.index = index }
    public static func < (a: BlockID, b: BlockID) -> Bool { a.index < b.index }
    public var description: String { "bb\(index)" }
}

/// A stack object of one function's frame (an address-taken local, an array, a struct).
public struct SlotID: Hashable, Sendable, CustomStringConvertible {
    public let index: Int
    public init(_ index: Int) { self.index = index }
    public var description: String { "slot\(index)" }
}

/// An operand: a register or a constant.
public enum Value: Hashable, Sendable, CustomStringConvertible {
    case temp(Temp)
    case constant(Int64)

    public var description: String {
        switch self {
        case .temp(let t): return t.description
        case .constant(let c): return String(c)
        }
    }
}

/// Width of an ALU operation. `bits32` operates on the low halves and zero-extends the result,
/// as BPF's ALU32 class does; `bits64` is a full 64-bit operation.
public enum ALUWidth: Hashable, Sendable {
    case bits32, bits64
}

public enum BinaryOperator: Hashable, Sendable {
    case add, sub, mul
    case udiv, umod
    /// Signed division; at -mcpu=v3 a pass rewrites it into unsigned division (BPF has no sdiv before v4).
    case sdiv, smod
    case and, or, xor
    case shl, lshr, ashr

    /// Whether `a op b` is `b op a`.
    public var isCommutative: Bool {
        switch self {
        case .add, .mul, .and, .or, .xor: return true
        case .sub, .udiv, .umod, .sdiv, .smod, .shl, .lshr, .ashr: return false
        }
    }
}

/// Comparison of two values, signed or unsigned, on 64 bits (or 32 when the width says so).
public enum Condition: Hashable, Sendable {
    case eq, ne
    case ugt, uge, ult, ule
    case sgt, sge, slt, sle

    /// The condition that holds exactly when this one does not.
    public var negated: Condition {
        switch self {
        case .eq: return .ne
        case .ne: return .eq
        case .ugt: return .ule
        case .uge: return .ult
        case .ult: return .uge
        case .ule: return .ugt
        case .sgt: return .sle
        case .sge: return .slt
        case .slt: return .sge
        case .sle: return .sgt
        }
    }

    /// The condition with its operands exchanged: `a < b` is `b > a`.
    public var swapped: Condition {
        switch self {
        case .eq, .ne: return self
        case .ugt: return .ult
        case .uge: return .ule
        case .ult: return .ugt
        case .ule: return .uge
        case .sgt: return .slt
        case .sge: return .sle
        case .slt: return .sgt
        case .sle: return .sge
        }
    }
}

/// Size of a memory access in bytes: 1, 2, 4 or 8.
public enum MemorySize: Int, Hashable, Sendable {
    case byte = 1, half = 2, word = 4, double = 8
}

/// The (offset, size) of each access covering `size` bytes: as wide as the alignment allows
/// (at most 8), narrowing only for the tail.
public func pieces(size: Int, alignment: Int) -> [(offset: Int, size: MemorySize)] {
    let alignment = max(alignment, 1)
    let widest = [MemorySize.double, .word, .half, .byte].first { alignment % $0.rawValue == 0 } ?? .byte
    var result: [(offset: Int, size: MemorySize)] = []
    var offset = 0
    for piece in [MemorySize.double, .word, .half, .byte] where piece.rawValue <= widest.rawValue {
        while size - offset >= piece.rawValue {
            result.append((offset, piece))
            offset += piece.rawValue
        }
    }
    return result
}

/// The low `bits` bits (16, 32 or 64) of `value` in reverse byte order, the rest cleared: what
/// `byteSwap` computes.
public func byteSwapped(_ value: Int64, bits: Int) -> Int64 {
    let swapped = UInt64(bitPattern: value).byteSwapped >> UInt64(64 - bits)
    return Int64(bitPattern: swapped)
}

/// The most instructions the kernel loads in one program (BPF_COMPLEXITY_LIMIT_INSNS, for a
/// privileged loader).
public let programInstructionLimit = 1_000_000

/// Why `what` (copying, filling, moving) `size` bytes piece by piece, `instructionsPerPiece`
/// instructions each, cannot fit one program; nil when it can. Asked before the pieces are
/// built, so that an impossible copy costs no memory. A negative size is a huge size_t that wrapped.
public func expansionProblem(_ what: String, size: Int, alignment: Int, instructionsPerPiece: Int) -> String? {
    let widest = pieces(size: 8, alignment: alignment).first?.size.rawValue ?? 1
    // Whole pieces of the widest size, then one of each narrower size the remainder needs.
    let count = size < 0 ? Int.max : size / widest + (size % widest).nonzeroBitCount
    guard count > programInstructionLimit / instructionsPerPiece else { return nil }
    let bytes = size < 0 ? String(UInt64(bitPattern: Int64(size))) : String(size)
    return "\(what) \(bytes) bytes \(widest) at a time takes more instructions than the \(programInstructionLimit) the kernel loads in one program: BPF has no memcpy, memmove or memset to call"
}

/// What C says of a load or store beyond its place and width: LLVM's `volatile` flag and, reduced
/// to what alias analysis needs, its `!tbaa` type.
public struct AccessFlags: Hashable, Sendable {
    /// A volatile access happens exactly as written: never forwarded from a store or an earlier load.
    public var isVolatile: Bool
    /// The access has a non-character scalar type (`int`, `long`, a pointer) and goes through no union
    /// member. C's aliasing rule (C11 6.5p7) lets an object be read only through its own type or a
    /// character type, so two typed accesses of different widths never touch the same object; clang
    /// relies on it (`-fstrict-aliasing`) and so may we. Copies, unions, enums and bytes are untyped.
    public var isTyped: Bool
    /// An atomic load with acquire order or stronger, or an atomic store with release order or
    /// stronger: at -mcpu=v4 one `load_acquire` or `store_release` instruction (kernel 6.15 on);
    /// at v3 a plain access, which the kernels' JITs already order (x86-64's stores and loads
    /// are), as clang-19 compiles every order.
    public var isOrdered: Bool

    public init(isVolatile: Bool = false, isTyped: Bool = false, isOrdered: Bool = false) {
        self.isVolatile = isVolatile
        self.isTyped = isTyped
        self.isOrdered = isOrdered
    }
}

/// Where a load or store goes.
public enum Address: Hashable, Sendable, CustomStringConvertible {
    /// `base + offset`, base a pointer in a register.
    case temp(Temp, offset: Int)
    /// A stack slot of the current frame, `offset` bytes in.
    case slot(SlotID, offset: Int)

    public var description: String {
        switch self {
        case .temp(let t, let offset): return "[\(t)+\(offset)]"
        case .slot(let s, let offset): return "[\(s)+\(offset)]"
        }
    }
}

/// What a call instruction calls.
public enum Callee: Hashable, Sendable {
    /// A function of this module (BPF-to-BPF call, `call` + R_BPF_64_32).
    case function(String)
    /// A kernel helper by number (`call N`), e.g. from `bpf_helper_defs.h`'s `(void *) 8`.
    case helper(Int32)
    /// A kernel function resolved by name from vmlinux BTF at load time.
    case kfunc(String)
}

/// The read-modify-write operations of BPF_ATOMIC.
public enum AtomicOperator: Hashable, Sendable {
    case add, or, and, xor
    /// Stores the value; the result is the old one (`xchg`).
    case exchange
}

/// One IR operation. Destination first, then operands, as in `dst = op a, b`.
public enum Operation: Hashable, Sendable {
    case copy(Temp, Value)
    case binary(Temp, BinaryOperator, ALUWidth, Value, Value)
    case negate(Temp, ALUWidth, Value)
    /// Keep the low `fromBits` bits (8, 16 or 32) and sign-extend them to 64.
    case signExtend(Temp, Value, fromBits: Int)
    /// Keep the low `fromBits` bits (8, 16 or 32) and clear the rest.
    case zeroExtend(Temp, Value, fromBits: Int)
    /// The low `bits` bits (16, 32 or 64) in reverse byte order, the rest cleared: BPF_END to big
    /// endian, which `__builtin_bswap*` and so `bpf_htons` and friends are on a little-endian target.
    case byteSwap(Temp, Value, bits: Int)
    /// A zero-extending load. `addressSpace` is the C address space of the memory (1 for arena).
    case load(Temp, Address, MemorySize, addressSpace: Int, AccessFlags = AccessFlags())
    case store(Address, Value, MemorySize, addressSpace: Int, AccessFlags = AccessFlags())
    /// Copies `size` bytes; `alignment` is what both sides are known to be aligned to.
    case copyMemory(destination: Address, source: Address, size: Int, alignment: Int,
                    destinationSpace: Int, sourceSpace: Int)
    case setMemory(Address, byte: UInt8, size: Int, alignment: Int, addressSpace: Int)
    /// The address of a stack slot plus an offset.
    case slotAddress(Temp, SlotID, offset: Int)
    /// The address of a global or a map plus an offset (`ld_imm64` with a relocation).
    case symbolAddress(Temp, symbol: String, offset: Int)
    case call(Temp?, Callee, [Value])
    /// `addr_space_cast(src, to, from)`: (0, 1) makes an arena pointer dereferenceable, (1, 0) the reverse.
    case addrSpaceCast(Temp, Value, to: Int, from: Int)
    /// dst = (a cond b) ? 1 : 0.
    case setCondition(Temp, Condition, ALUWidth, Value, Value)
    /// `*address op= value` as one indivisible access (4 or 8 bytes); with a result Temp, it
    /// receives the value memory held before (BPF_FETCH).
    case atomic(Temp?, AtomicOperator, Address, Value, MemorySize, addressSpace: Int)
    /// `if (*address == expected) *address = desired` as one indivisible access (4 or 8 bytes);
    /// the result is the value memory held before (`cmpxchg`).
    case compareExchange(Temp, Address, expected: Value, desired: Value, MemorySize, addressSpace: Int)
    /// A GCC-style `asm` statement. Passes treat it as a call for memory: it may read and write
    /// any memory (whether or not it declares the `memory` clobber).
    case inlineAsm(InlineAsm)
    /// A value the loader relocates (CO-RE): a field offset, a field or type property, an
    /// enumerator value or a type id. Passes know nothing of the value, which depends on the
    /// kernel the program is loaded into, so they never fold it; code generation emits it as the
    /// local value in an instruction's immediate with a core_relo record.
    case coreValue(Temp, CoreRelocation)
}

/// A GCC-style `asm` statement in BPF assembly, with its operands bound to IR values; code
/// generation places the register operands, substitutes them and assembles the template.
public struct InlineAsm: Hashable, Sendable {
    public var template: [AsmTemplatePiece]
    /// In the order C numbers them: outputs, then inputs.
    public var operands: [AsmOperand]
    /// Register numbers the asm overwrites besides its outputs (`"r0"` among the clobbers): no
    /// operand is placed in them and no value lives in them across the asm.
    public var clobbers: [Int]

    public init(template: [AsmTemplatePiece], operands: [AsmOperand], clobbers: [Int]) {
        self.template = template
        self.operands = operands
        self.clobbers = clobbers
    }
}

/// A piece of an inline asm template after C's `%` escapes are read.
public enum AsmTemplatePiece: Hashable, Sendable {
    case text(String)
    /// Operand N (`%0`, `%[name]`): its register as `rN`, or as `wN` with the `w` modifier (`%w0`).
    case operand(Int, halfWord: Bool)
    /// asm goto label N (`%l[name]`, `%l2`), where the asm may jump.
    case label(Int)
}

/// How an inline asm operand is bound, by its constraint.
public enum AsmOperand: Hashable, Sendable {
    /// `"r"`: a register holding the value.
    case input(Value)
    /// `"=r"`: a register the asm writes. `earlyClobber` (`"=&r"`): written before every input
    /// has been read, so it shares no register with an input.
    case output(Temp, earlyClobber: Bool)
    /// `"+r"`, or `"=r"` with an input tied to it: one register, read, then written.
    case inputOutput(Temp, earlyClobber: Bool)
    /// An input tied to operand N (`"0"`): it names N's register.
    case tied(Int)
    /// `"i"`, `"n"`: a constant, written into the template as a number.
    case immediate(Int64)
    /// `"ri"`: a constant that fits an instruction's 32-bit immediate once optimization is done
    /// is written as a number (`if r1 >= 0x3e8`), as clang-19 chooses; any other value is a
    /// register, as with `"r"`.
    case registerOrImmediate(Value)
}

/// An operation with the source position it came from.
public struct IRInstruction: Hashable, Sendable {
    public var operation: Operation
    public var location: SourceLocation?
    /// Why the compiler added this instruction when C did not ask for it (the arena pass says so);
    /// `-S` and `swiftbpf dump` print it next to the instruction.
    public var note: String?

    public init(_ operation: Operation, at location: SourceLocation?, note: String? = nil) {
        self.operation = operation
        self.location = location
        self.note = note
    }
}

/// How a block ends.
public enum Terminator: Hashable, Sendable {
    case jump(BlockID)
    case branch(Condition, ALUWidth, Value, Value, then: BlockID, else: BlockID)
    case `return`(Value?)
    /// BPF's may_goto: the kernel may take `bail` at any time, otherwise execution continues at `next`.
    case mayGoto(bail: BlockID, next: BlockID)
    /// `asm goto`: the asm may jump to any of `labels` (its `%l` operands, in order); when it
    /// falls through, execution continues at `next`. It has no outputs.
    case inlineAsmGoto(InlineAsm, labels: [BlockID], next: BlockID)
}

public struct Block: Hashable, Sendable {
    public var id: BlockID
    public var instructions: [IRInstruction]
    public var terminator: Terminator
    public var terminatorLocation: SourceLocation?

    public init(id: BlockID, instructions: [IRInstruction] = [], terminator: Terminator,
                terminatorLocation: SourceLocation? = nil) {
        self.id = id
        self.instructions = instructions
        self.terminator = terminator
        self.terminatorLocation = terminatorLocation
    }
}

/// A stack object. The frame layout places slots; the total must stay within 512 bytes.
public struct StackSlot: Hashable, Sendable {
    public var size: Int
    public var alignment: Int
    /// The C name, for the stack-limit diagnostic ("largest contributors").
    public var name: String
    public var location: SourceLocation?

    public init(size: Int, alignment: Int, name: String, location: SourceLocation?) {
        self.size = size
        self.alignment = alignment
        self.name = name
        self.location = location
    }
}

public enum Linkage: Hashable, Sendable {
    /// `static`: visible in this object only; verified in its caller's context.
    case `static`
    /// Non-static: a global symbol; the kernel verifies a global sub-program once, on its own.
    case global
}

/// What `__attribute__((weak))`, `visibility("hidden")` and `used` say of a symbol, from any of
/// its declarations.
public struct SymbolAttributes: Hashable, Sendable {
    /// A weak definition: another object's definition of the name wins when objects are linked.
    public var isWeak: Bool
    /// Hidden visibility: libbpf verifies such a function as static, in its caller's context.
    public var isHidden: Bool
    /// Kept in the object even when nothing refers to it.
    public var isUsed: Bool

    public init(isWeak: Bool = false, isHidden: Bool = false, isUsed: Bool = false) {
        self.isWeak = isWeak
        self.isHidden = isHidden
        self.isUsed = isUsed
    }
}

/// A `btf_decl_tag` on a function (`componentIndex` -1) or on one of its parameters (0-based):
/// `arg:arena` tells the kernel a global function's parameter points into the arena.
public struct DeclTag: Hashable, Sendable {
    public var name: String
    public var componentIndex: Int

    public init(name: String, componentIndex: Int) {
        self.name = name
        self.componentIndex = componentIndex
    }
}

/// What the source asks of inlining a static function: `__attribute__((noinline))` keeps each call
/// a BPF-to-BPF call (a program may rely on it to keep a function verified once per call site, or
/// its stack frame apart); `always_inline` inlines each call whatever the function's size, even
/// unoptimized, as clang does.
public enum InlineHint: Hashable, Sendable {
    case none, never, always
}

/// A function with a body.
public struct Function: Sendable {
    public var name: String
    public var linkage: Linkage
    /// ELF section: a program section (`syscall`) for programs, nil for `.text` sub-programs.
    public var section: String?
    /// The C function type (a `CType.function`), for BTF.
    public var type: TypeID
    /// Incoming arguments r1..r5, in order.
    public var parameters: [Temp]
    public var blocks: [Block]
    public var slots: [StackSlot]
    public var tempCount: Int
    public var location: SourceLocation
    public var declTags: [DeclTag]
    public var symbolAttributes: SymbolAttributes
    /// Why a call of this static function cannot stay a BPF-to-BPF call (it returns a struct, takes
    /// one of more than 16 bytes, or more than five argument registers), so that every call must
    /// be inlined; nil for a function that can be called.
    public var mustInline: String?
    public var inlineHint: InlineHint

    public init(name: String, linkage: Linkage, section: String?, type: TypeID, parameters: [Temp],
                blocks: [Block], slots: [StackSlot], tempCount: Int, location: SourceLocation,
                declTags: [DeclTag] = [], symbolAttributes: SymbolAttributes = SymbolAttributes(),
                mustInline: String? = nil, inlineHint: InlineHint = .none) {
        self.name = name
        self.mustInline = mustInline
        self.inlineHint = inlineHint
        self.linkage = linkage
        self.symbolAttributes = symbolAttributes
        self.section = section
        self.type = type
        self.parameters = parameters
        self.blocks = blocks
        self.slots = slots
        self.tempCount = tempCount
        self.location = location
        self.declTags = declTags
    }

    /// A new Temp of this function.
    public mutating func makeTemp() -> Temp {
        defer { tempCount += 1 }
        return Temp(tempCount)
    }
}

/// A global variable or map definition with its initial bytes.
public struct GlobalVariable: Sendable {
    /// The ELF symbol (a static local is `function.name`, as clang names it).
    public var symbol: String
    /// The C name, for BTF.
    public var name: String
    public var linkage: Linkage
    /// `.data`, `.bss`, `.rodata`, `.maps`, `.addr_space.1`, `license`, or a user `SEC`.
    public var section: String
    public var type: TypeID
    public var size: Int
    public var alignment: Int
    /// Exactly `size` bytes.
    public var initializer: [UInt8]
    /// Addresses in the initializer, which the loader fills in: the programs of a prog_array's
    /// `.values`, the maps of a map-in-map's, the programs of a `.struct_ops` variable. The
    /// bytes at each offset are zero.
    public var addresses: [GlobalAddress]
    public var location: SourceLocation
    public var symbolAttributes: SymbolAttributes
    /// Its bytes are `initializer` for good: a `const`, non-volatile object (or a string literal)
    /// that no other object's definition replaces, so that a load of it may fold to a constant, as
    /// clang folds it. A `const volatile` global is not: user space sets it before loading.
    public var isConstant: Bool

    public init(symbol: String, name: String, linkage: Linkage, section: String, type: TypeID,
                size: Int, alignment: Int, initializer: [UInt8], addresses: [GlobalAddress] = [],
                location: SourceLocation, symbolAttributes: SymbolAttributes = SymbolAttributes(),
                isConstant: Bool = false) {
        self.symbolAttributes = symbolAttributes
        self.isConstant = isConstant
        self.addresses = addresses
        self.symbol = symbol
        self.name = name
        self.linkage = linkage
        self.section = section
        self.type = type
        self.size = size
        self.alignment = alignment
        self.initializer = initializer
        self.location = location
    }
}

/// An 8-byte address inside a global's initializer: the symbol of a function or global variable
/// at `offset` bytes from the global's start.
public struct GlobalAddress: Sendable, Hashable {
    public var offset: Int
    public var symbol: String

    public init(offset: Int, symbol: String) {
        self.offset = offset
        self.symbol = symbol
    }
}

/// A symbol the object uses but does not define, resolved by the loader from the section its
/// declaration names: `.ksyms` holds kernel functions (kfuncs) and kernel variables (typed
/// `__ksym`s, per-CPU ones included), `.kconfig` the kernel's configuration (`__kconfig`: its
/// `CONFIG_*` options and libbpf's `LINUX_*` values). References are ld_imm64 relocations (or
/// calls, for a kfunc) against an undefined ELF symbol, as clang writes them.
public struct Extern: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        case function, variable
    }

    public var name: String
    public var kind: Kind
    /// `.ksyms` or `.kconfig`: the BTF DATASEC that lists it.
    public var section: String
    /// The C type: a `CType.function` for a function.
    public var type: TypeID
    /// Bytes a variable occupies, for its DATASEC entry; 0 for a function or a `void` kernel symbol.
    public var size: Int
    /// Weak: the loader leaves it zero (a NULL address, a zero value) when the kernel lacks it.
    public var isWeak: Bool

    public init(name: String, kind: Kind, section: String, type: TypeID, size: Int, isWeak: Bool) {
        self.name = name
        self.kind = kind
        self.section = section
        self.type = type
        self.size = size
        self.isWeak = isWeak
    }
}

/// One translation unit in IR form.
public struct Module: Sendable {
    public var functions: [Function]
    public var globals: [GlobalVariable]
    /// Only the externs the code references, in first-use order.
    public var externs: [Extern]
    public var types: TypeTable
    /// Lines of each source file, for line_info and listings.
    public var sourceLines: [String: [String]]
    /// The file the translation unit was parsed from. A line named by its number alone is one of
    /// its lines (in listings and cast notes); a header's line carries the header's name.
    public var mainFile: String

    public init(functions: [Function] = [], globals: [GlobalVariable] = [], externs: [Extern] = [],
                types: TypeTable = TypeTable(), sourceLines: [String: [String]] = [:], mainFile: String = "") {
        self.functions = functions
        self.globals = globals
        self.externs = externs
        self.types = types
        self.sourceLines = sourceLines
        self.mainFile = mainFile
    }

    /// The text of a source line, or "" when unknown.
    public func sourceText(_ location: SourceLocation) -> String {
        guard let lines = sourceLines[location.file], location.line >= 1, location.line <= lines.count else { return "" }
        return lines[location.line - 1]
    }
}
