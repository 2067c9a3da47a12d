import BPFDiagnostics
import BPFIR
import BPFInstructions
import BPFObject
import BTF

// Code generation for one function, the stages in order:
//
//   copy hoisting → CO-RE folding → block layout → liveness → register allocation → frame layout
//   → instruction selection → branch resolution
//
// The IR must have been through `runPasses` for the same CPU version: no aggregate copies remain,
// and at v3 no signed division.

/// One function's BPF code, ready to be placed in a code section.
public struct CompiledFunction: Sendable {
    public var instructions: [Instruction]
    /// Relocations, with instruction indices relative to the function's first instruction.
    public var relocations: [CodeRelocation]
    /// The source position each instruction came from, parallel to `instructions` (both halves of
    /// an ld_imm64 get one); nil for none.
    public var locations: [SourceLocation?]
    /// Why the compiler added an instruction C did not ask for, parallel to `instructions`.
    public var notes: [String?]
    /// Bytes of stack below r10 the function uses, a multiple of 8.
    public var stackSize: Int
    /// CO-RE relocations, by the index (relative to the function's first instruction) of the
    /// instruction holding each value.
    public var coreRelocations: [(instructionIndex: Int, relocation: CoreRelocation)]
}

/// Compiles one function of `module` to BPF instructions. `btfTypes` gives the BTF id of each
/// type a CO-RE relocation names (from `buildBTF`), which type id relocations hold.
public func compileFunction(_ function: Function, in module: Module, cpu: CPUVersion,
                            btfTypes: [TypeID: BTFTypeID] = [:]) throws(DiagnosticList) -> CompiledFunction
{
    for (i, block) in function.blocks.enumerated() {
        precondition(block.id.index == i, "block ids must be dense: blocks[\(i)] is \(block.id)")
    }
    let types = module.types
    let localValue = { (relocation: CoreRelocation) -> Int64? in
        types.coreLocalValue(of: relocation, typeID: { btfTypes[$0].map { Int64($0.rawValue) } })
    }
    var function = function
    hoistCopiesOfTiedSources(&function)
    let relocatedSites = foldCoreRelocations(&function, localValue: localValue)
    let order = layoutOrder(function)
    let liveness = Liveness(function)
    let assignment = allocateRegisters(function, order: order, liveness: liveness)
    let frame = try FrameLayout(function, spillSlotCount: assignment.spillSlotCount)
    var selector = InstructionSelector(function: function, cpu: cpu, assignment: assignment, frame: frame,
                                       relocatedSites: relocatedSites, coreLocalValue: localValue)
    let blocks = selector.select(order)
    if !selector.diagnostics.isEmpty { throw DiagnosticList(selector.diagnostics) }
    let code = try resolveBranches(blocks, in: function)
    return CompiledFunction(instructions: code.instructions, relocations: code.relocations,
                            locations: code.locations, notes: code.notes, stackSize: frame.size,
                            coreRelocations: code.coreRelocations)
}
