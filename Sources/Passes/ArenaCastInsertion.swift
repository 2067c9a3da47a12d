import BPFIR

// Arena cast insertion.
//
// Requires: aggregate copies and fills already split into single loads and stores
// (AggregateLowering), so every access to arena memory is one `load` or `store`.
// Guarantees: every load and store whose memory is in address space 1 goes through a register
// that holds `addr_space_cast(p, 0, 1)` of its pointer; nothing else changes. Pointer values stay
// in user form everywhere else: in registers, on the stack, in globals, in arena memory, as call
// arguments and return values. Stored values are never cast, only addresses.
// Why: the verifier types a pointer as PTR_TO_ARENA only after a cast_kern, and only then allows a
// load or store through it (bpf-arena-abi.md §1.3); user space must see user addresses, so the
// cast result never escapes into memory.
//
// One cast serves every access through the same pointer in a block until that pointer's Temp is
// assigned again; the access's constant offset stays in the instruction.

/// Inserts `addr_space_cast(p, 0, 1)` before every access to arena memory.
public func insertArenaCasts(_ module: inout Module) {
    for f in module.functions.indices {
        var function = module.functions[f]
        for b in function.blocks.indices {
            function.blocks[b].instructions = castArenaAccesses(in: function.blocks[b].instructions, of: &function)
        }
        module.functions[f] = function
    }
}

private func castArenaAccesses(in instructions: [IRInstruction], of function: inout Function) -> [IRInstruction] {
    var result: [IRInstruction] = []
    result.reserveCapacity(instructions.count)
    /// Pointer Temp → the Temp holding its kernel form, while the pointer is unchanged.
    var kernelForm: [Temp: Temp] = [:]

    func kernelAddress(_ address: Address, at instruction: IRInstruction, reason: String) -> Address {
        guard case .temp(let pointer, let offset) = address else {
            // Stack slots are ordinary kernel memory.
            return address
        }
        if let cast = kernelForm[pointer] { return .temp(cast, offset: offset) }
        let cast = function.makeTemp()
        let line = instruction.location.map { "line \($0.line)" } ?? "this access"
        result.append(IRInstruction(.addrSpaceCast(cast, .temp(pointer), to: 0, from: 1), at: instruction.location,
                                    note: "cast_kern: \(reason) at \(line) goes through an __arena pointer"))
        kernelForm[pointer] = cast
        return .temp(cast, offset: offset)
    }

    for instruction in instructions {
        var rewritten = instruction
        switch instruction.operation {
        case .load(let dst, let address, let size, let space) where space == 1:
            let kernel = kernelAddress(address, at: instruction, reason: "load")
            rewritten.operation = .load(dst, kernel, size, addressSpace: 1)
        case .store(let address, let value, let size, let space) where space == 1:
            let kernel = kernelAddress(address, at: instruction, reason: "store")
            rewritten.operation = .store(kernel, value, size, addressSpace: 1)
        case .copyMemory, .setMemory:
            preconditionFailure("AggregateLowering must run before arena cast insertion")
        default:
            break
        }
        result.append(rewritten)
        for defined in definitions(of: rewritten.operation) {
            kernelForm[defined] = nil
            for (pointer, cast) in kernelForm where cast == defined { kernelForm[pointer] = nil }
        }
    }
    return result
}

/// The Temps an operation assigns.
func definitions(of operation: Operation) -> [Temp] {
    switch operation {
    case .copy(let d, _), .binary(let d, _, _, _, _), .negate(let d, _, _), .signExtend(let d, _, _),
         .zeroExtend(let d, _, _), .load(let d, _, _, _), .slotAddress(let d, _, _), .symbolAddress(let d, _, _),
         .addrSpaceCast(let d, _, _, _), .setCondition(let d, _, _, _, _):
        return [d]
    case .call(let d, _, _):
        return d.map { [$0] } ?? []
    case .store, .copyMemory, .setMemory:
        return []
    }
}
