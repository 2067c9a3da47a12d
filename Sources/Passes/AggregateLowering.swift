import BPFDiagnostics
import BPFIR

// Aggregate lowering.
//
// Requires: nothing. Guarantees: no `copyMemory` or `setMemory` remains; each became a run of
// `load`/`store` pairs (or `store`s) of the widest size the alignment allows, every piece keeping
// its side's address space. Why: BPF has no block move, and the arena cast pass must see every
// single access to arena memory.
//
// A copy gives each piece its own Temp: load forwarding remembers a stored piece as the Temp it
// came from, which one Temp reused for the next piece would make it forget.
// A fill materializes the byte pattern once, 8 bytes wide; narrower stores take its low bytes.

/// Rejects every copy and fill that would expand past `programInstructionLimit`, before
/// `lowerAggregates` spends the compiler's memory on it. clang gives up much earlier, with "A call
/// to built-in function 'memcpy' is not supported": BPF has no memcpy to call.
public func checkAggregateSizes(_ module: Module) throws(DiagnosticList) {
    var problems: [Diagnostic] = []
    for function in module.functions {
        for block in function.blocks {
            for instruction in block.instructions {
                let problem: String?
                switch instruction.operation {
                case .copyMemory(_, _, let size, let alignment, _, _):
                    problem = expansionProblem("copying", size: size, alignment: alignment, instructionsPerPiece: 2)
                case .setMemory(_, _, let size, let alignment, _):
                    problem = expansionProblem("filling", size: size, alignment: alignment, instructionsPerPiece: 1)
                case .copy, .binary, .negate, .signExtend, .zeroExtend, .byteSwap, .load, .store, .slotAddress,
                     .symbolAddress, .call, .addrSpaceCast, .setCondition, .atomic, .compareExchange, .inlineAsm,
                     .coreValue:
                    problem = nil
                }
                if let problem { problems.append(.error(problem, at: instruction.location)) }
            }
        }
    }
    if !problems.isEmpty { throw DiagnosticList(problems) }
}

/// Splits every aggregate copy and fill into single loads and stores.
public func lowerAggregates(_ module: inout Module) {
    expandInstructions(&module) { instruction, function, emit in
        switch instruction.operation {
        case .copyMemory(let destination, let source, let size, let alignment, let destinationSpace, let sourceSpace):
            guard size > 0 else { return true }
            for (offset, piece) in pieces(size: size, alignment: alignment) {
                let value = function.makeTemp()
                emit(.load(value, displaced(source, by: offset), piece, addressSpace: sourceSpace))
                emit(.store(displaced(destination, by: offset), .temp(value), piece, addressSpace: destinationSpace))
            }
            return true
        case .setMemory(let address, let byte, let size, let alignment, let space):
            guard size > 0 else { return true }
            let pattern = function.makeTemp()
            emit(.copy(pattern, .constant(Int64(bitPattern: UInt64(byte) &* 0x0101_0101_0101_0101))))
            for (offset, piece) in pieces(size: size, alignment: alignment) {
                emit(.store(displaced(address, by: offset), .temp(pattern), piece, addressSpace: space))
            }
            return true
        case .copy, .binary, .negate, .signExtend, .zeroExtend, .byteSwap, .load, .store, .slotAddress,
             .symbolAddress, .call, .addrSpaceCast, .setCondition, .atomic, .compareExchange, .inlineAsm,
                     .coreValue:
            return false
        }
    }
}

private func displaced(_ address: Address, by delta: Int) -> Address {
    switch address {
    case .temp(let base, let offset): return .temp(base, offset: offset + delta)
    case .slot(let slot, let offset): return .slot(slot, offset: offset + delta)
    }
}
