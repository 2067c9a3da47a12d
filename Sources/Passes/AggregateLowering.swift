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

/// Splits every aggregate copy and fill into single loads and stores.
public func lowerAggregates(_ module: inout Module) {
    for f in module.functions.indices {
        var function = module.functions[f]
        for b in function.blocks.indices {
            var rewritten: [IRInstruction] = []
            for instruction in function.blocks[b].instructions {
                func emit(_ operation: Operation) {
                    rewritten.append(IRInstruction(operation, at: instruction.location, note: instruction.note))
                }
                switch instruction.operation {
                case .copyMemory(let destination, let source, let size, let alignment, let destinationSpace,
                                 let sourceSpace):
                    guard size > 0 else { continue }
                    let value = function.makeTemp()
                    for (offset, piece) in pieces(size: size, alignment: alignment) {
                        emit(.load(value, displaced(source, by: offset), piece, addressSpace: sourceSpace))
                        emit(.store(displaced(destination, by: offset), .temp(value), piece,
                                    addressSpace: destinationSpace))
                    }
                case .setMemory(let address, let byte, let size, let alignment, let space):
                    guard size > 0 else { continue }
                    let pattern = function.makeTemp()
                    emit(.copy(pattern, .constant(Int64(bitPattern: UInt64(byte) &* 0x0101_0101_0101_0101))))
                    for (offset, piece) in pieces(size: size, alignment: alignment) {
                        emit(.store(displaced(address, by: offset), .temp(pattern), piece, addressSpace: space))
                    }
                case .copy, .binary, .negate, .signExtend, .zeroExtend, .load, .store, .slotAddress,
                     .symbolAddress, .call, .addrSpaceCast, .setCondition:
                    rewritten.append(instruction)
                }
            }
            function.blocks[b].instructions = rewritten
        }
        module.functions[f] = function
    }
}

private func displaced(_ address: Address, by delta: Int) -> Address {
    switch address {
    case .temp(let base, let offset): return .temp(base, offset: offset + delta)
    case .slot(let slot, let offset): return .slot(slot, offset: offset + delta)
    }
}
