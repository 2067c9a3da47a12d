import BPFDiagnostics
import BPFIR

// The IR passes between the frontend and code generation, in the one order they run.
//
//   0. Inlining and simplification (when optimizing): small and single-use static functions are
//      inlined, then constants and copies propagated, extensions that change nothing and dead
//      instructions removed. Static functions no BPF call can carry, those marked always_inline
//      and those the call-chain stack check names are inlined even when not optimizing, and a
//      call of one that must be inlined and remains is an error.
//      Loops that run a known number of times and fold when copied are unrolled, and simplified again.
//   1. Signed division lowering (v3 only): sdiv/smod become unsigned division; v4 has SDIV/SMOD.
//   2. Aggregate lowering: copyMemory/setMemory become single loads and stores, so that every
//      later pass sees each individual memory access. A copy too big for any program is an error
//      before it is expanded.
//   3. Stack alignment: a load or store of a local that may be misaligned (a packed struct's
//      member) becomes byte accesses, since the verifier rejects misaligned stack accesses.
//   4. Load forwarding, dead store elimination and simplification again (when optimizing): loads
//      of memory whose value a register already holds become copies, so that the verifier sees
//      loop bounds and counters kept in memory as the values they are; stores into local structs
//      and arrays that nothing reads any more go; simplification then folds what became constant.
//      Twice: a struct argument's register assembled from its fields becomes a constant only in
//      the first round's simplification, and the loads of the callee's copy forward it only then.
//      Loop unrolling again, on trial: a loop that runs a known number of times now (its counter
//      or bound was in memory) is unrolled, load forwarding, dead store elimination and
//      simplification run over the function, and the result is kept when it leaves the program
//      cheaper: instructions emitted times the square of those the verifier walks, both estimated.
//      Loop-invariant code motion: what a remaining loop computes alike in every iteration moves
//      before it, and simplification runs a last time.
//   5. Arena cast insertion: every load and store through an `__arena` pointer goes through
//      `addr_space_cast(p, 0, 1)`.
//   6. Arena association: a program that touches arena memory references its arena map.

/// The passes, by the names `--print-after` takes, in the order they run.
public enum PassName: String, CaseIterable, Sendable {
    case inlining
    case simplification
    case loopUnrolling = "loop-unrolling"
    case signedDivision = "signed-division"
    case aggregateLowering = "aggregate-lowering"
    case stackAlignment = "stack-alignment"
    case loadForwarding = "load-forwarding"
    case deadStores = "dead-stores"
    case loopInvariantMotion = "loop-invariant-motion"
    case arenaCasts = "arena-casts"
    case arenaAssociation = "arena-association"
}

/// Runs every pass code generation relies on, in order; `observe` sees the module after each
/// pass that ran (simplification, load forwarding and dead store elimination only when optimizing, signed division at v3).
public func runPasses(_ module: inout Module, cpu: CPUVersion, optimize: Bool = true, alwaysInline: Set<String> = [],
                      observe: (PassName, Module) -> Void = { _, _ in }) throws(DiagnosticList) {
    inlineFunctions(&module, always: alwaysInline, bySize: optimize)
    observe(.inlining, module)
    if optimize {
        simplify(&module)
        observe(.simplification, module)
        unrollLoops(&module, cpu: cpu)
        observe(.loopUnrolling, module)
        simplify(&module)
        observe(.simplification, module)
    }
    try checkRequiredInlining(module)
    switch cpu {
    case .v3:
        lowerSignedDivision(&module)
        observe(.signedDivision, module)
    case .v4: break
    }
    try checkAggregateSizes(module)
    lowerAggregates(&module)
    observe(.aggregateLowering, module)
    alignStackAccesses(&module)
    observe(.stackAlignment, module)
    if optimize {
        for _ in 0..<2 {
            forwardLoads(&module)
            observe(.loadForwarding, module)
            eliminateDeadStores(&module)
            observe(.deadStores, module)
            simplify(&module)
            observe(.simplification, module)
        }
        // Counters and bounds load forwarding put in registers make more loops counted.
        unrollLoops(&module, cpu: cpu, cleanup: { module in
            forwardLoads(&module)
            // Merged into one block first, the copies' stores into a global overwrite each other.
            simplify(&module)
            eliminateDeadStores(&module)
            simplify(&module)
        })
        observe(.loopUnrolling, module)
        hoistLoopInvariants(&module)
        observe(.loopInvariantMotion, module)
        // The addresses moved out of a loop's unrolled copies into one preheader are one each.
        simplify(&module, comparisonsWithoutBranches: true)
        observe(.simplification, module)
    }
    insertArenaCasts(&module)
    observe(.arenaCasts, module)
    try associateArenas(&module)
    observe(.arenaAssociation, module)
}
