import BPFIR

// Stack alignment.
//
// Requires: aggregate lowering (every access is a single load or store). Guarantees: every load
// and store addressed by stack slot is aligned to its size. Why: the verifier rejects any
// misaligned stack access ("misaligned stack access"), and a member of a packed struct in a local
// sits wherever the packing put it. Such an access is split into byte accesses, the value
// assembled with shifts and ors (or taken apart with shifts), as clang does for packed members.
//
// An access through a pointer is left alone: it is not known to be on the stack, and elsewhere
// (map values) the kernel allows misaligned accesses on the machines that handle them.

/// Splits every possibly misaligned slot access into byte accesses.
public func alignStackAccesses(_ module: inout Module) {
    expandInstructions(&module) { instruction, function, emit in
        switch instruction.operation {
        case .load(let result, .slot(let slot, let offset), let size, let space, let flags)
            where mayBeMisaligned(function.slots[slot.index], offset: offset, size: size):
            // Little-endian: byte i holds bits 8i..8i+7. Bytes are character accesses: untyped.
            let bytes = AccessFlags(isVolatile: flags.isVolatile)
            var assembled = function.makeTemp()
            emit(.load(assembled, .slot(slot, offset: offset), .byte, addressSpace: space, bytes))
            for i in 1..<size.rawValue {
                let byte = function.makeTemp(), shifted = function.makeTemp(), combined = function.makeTemp()
                emit(.load(byte, .slot(slot, offset: offset + i), .byte, addressSpace: space, bytes))
                emit(.binary(shifted, .shl, .bits64, .temp(byte), .constant(Int64(8 * i))))
                emit(.binary(combined, .or, .bits64, .temp(assembled), .temp(shifted)))
                assembled = combined
            }
            emit(.copy(result, .temp(assembled)))
            return true
        case .store(.slot(let slot, let offset), let value, let size, let space, let flags)
            where mayBeMisaligned(function.slots[slot.index], offset: offset, size: size):
            let bytes = AccessFlags(isVolatile: flags.isVolatile)
            for i in 0..<size.rawValue {
                let byte: Value
                if case .constant(let c) = value {
                    byte = .constant(Int64(UInt8(truncatingIfNeeded: c >> Int64(8 * i))))
                } else if i == 0 {
                    byte = value
                } else {
                    let shifted = function.makeTemp()
                    emit(.binary(shifted, .lshr, .bits64, value, .constant(Int64(8 * i))))
                    byte = .temp(shifted)
                }
                emit(.store(.slot(slot, offset: offset + i), byte, .byte, addressSpace: space, bytes))
            }
            return true
        case .copy, .binary, .negate, .signExtend, .zeroExtend, .byteSwap, .load, .store, .copyMemory, .setMemory,
             .slotAddress, .symbolAddress, .call, .addrSpaceCast, .setCondition, .atomic, .compareExchange, .inlineAsm,
             .coreValue:
            // An atomic access that is not aligned is refused by the kernel wherever it points.
            return false
        }
    }
}

/// Frame layout places a slot at a multiple of its alignment (r10 is 8-aligned), so an access is
/// aligned only when the slot's alignment and the offset are both multiples of its size.
func mayBeMisaligned(_ slot: StackSlot, offset: Int, size: MemorySize) -> Bool {
    let alignment = min(max(slot.alignment, 1), 8)
    return alignment % size.rawValue != 0 || offset % size.rawValue != 0
}
