import BPFDiagnostics
import BPFIR

// Aggregate lowering.
//
// Requires: nothing. Guarantees: no `copyMemory` or `setMemory` remains; each became a run of
// `load`/`store` pairs (or `store`s) of the widest size the alignment allows, every piece keeping
// its side's address space. Why: BPF has no block move, and the arena cast pass must see every
// single access to arena memory.
//
// A copy uses one Temp for all its pieces: each value is dead once stored, so one register serves.
// A fill materializes the byte pattern once, 8 bytes wide; narrower stores take its low bytes.

/// The most instructions the kernel loads in one program (BPF_COMPLEXITY_LIMIT_INSNS, for a
/// privileged loader). A copy or fill whose loads and stores alone exceed it can never load.
let programInstructionLimit = 1_000_000

/// Rejects every copy and fill that would expand past `programInstructionLimit`, before
/// `lowerAggregates` spends the compiler's memory on it. clang gives up much earlier, with "A call
/// to built-in function 'memcpy' is not supported": BPF has no memcpy to call.
public func checkAggregateSizes(_ module: Module) throws(DiagnosticList) {
    var problems: [Diagnostic] = []
    for function in module.functions {
        for block in function.blocks {
            for instruction in block.instructions {
                let what: String, size: Int, alignment: Int, perPiece: Int
                switch instruction.operation {
                case .copyMemory(_, _, let s, let a, _, _):
                    (what, size, alignment, perPiece) = ("copying", s, a, 2)
                case .setMemory(_, _, let s, let a, _):
                    (what, size, alignment, perPiece) = ("filling", s, a, 1)
                case .copy, .binary, .negate, .signExtend, .zeroExtend, .load, .store, .slotAddress,
                     .symbolAddress, .call, .addrSpaceCast, .setCondition, .atomic, .compareExchange:
                    continue
                }
                // A negative size is a huge size_t that wrapped.
                let count = size < 0 ? Int.max : pieceCount(size: size, alignment: alignment)
                guard count > programInstructionLimit / perPiece else { continue }
                let bytes = size < 0 ? String(UInt64(bitPattern: Int64(size))) : String(size)
                problems.append(.error(
                    "\(what) \(bytes) bytes \(widestPiece(alignment: alignment)) at a time takes more instructions than the \(programInstructionLimit) the kernel loads in one program: BPF has no memcpy or memset to call",
                    at: instruction.location))
            }
        }
    }
    if !problems.isEmpty { throw DiagnosticList(problems) }
}

/// How many accesses `pieces(size:alignment:)` returns, without building them: whole pieces of
/// the widest size, then one of each narrower size the remainder needs.
func pieceCount(size: Int, alignment: Int) -> Int {
    let widest = widestPiece(alignment: alignment)
    return size / widest + (size % widest).nonzeroBitCount
}

/// The widest access, in bytes, that the alignment allows (at most 8).
private func widestPiece(alignment: Int) -> Int {
    pieces(size: 8, alignment: alignment).first?.size.rawValue ?? 1
}

/// Splits every aggregate copy and fill into single loads and stores.
public func lowerAggregates(_ module: inout Module) {
    expandInstructions(&module) { instruction, function, emit in
        switch instruction.operation {
        case .copyMemory(let destination, let source, let size, let alignment, let destinationSpace, let sourceSpace):
            guard size > 0 else { return true }
            let value = function.makeTemp()
            for (offset, piece) in pieces(size: size, alignment: alignment) {
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
        case .copy, .binary, .negate, .signExtend, .zeroExtend, .load, .store, .slotAddress,
             .symbolAddress, .call, .addrSpaceCast, .setCondition, .atomic, .compareExchange:
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
