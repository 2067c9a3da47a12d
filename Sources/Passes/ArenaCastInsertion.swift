import BPFDiagnostics
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
// A pointer Temp assigned once gets one cast, right after it is computed, shared by every access;
// a Temp assigned several times (a C local) gets one cast, used until it is assigned again, in a
// block and in the blocks entered only from that block (`if (e->key == key) return e->value;`
// casts e once). The access's constant offset stays in the instruction.

/// Inserts `addr_space_cast(p, 0, 1)` for every access to arena memory.
public func insertArenaCasts(_ module: inout Module) {
    for f in module.functions.indices {
        var function = module.functions[f]
        castPointersAssignedOnce(&function, mainFile: module.mainFile)
        // Casts made above: the accesses through them are already done.
        let casts = Set(function.blocks.flatMap(\.instructions).compactMap { instruction -> Temp? in
            if case .addrSpaceCast(let d, _, to: 0, from: 1) = instruction.operation { return d }
            return nil
        })
        // A block entered from one other only (not the entry, which the call enters too) starts
        // with the casts that block ends with. In reverse postorder such a predecessor comes
        // first; blocks no path reaches come last, with no casts to start from.
        let predecessors = ControlFlow.predecessors(of: function)
        let reachable = Array(ControlFlow.postorder(ControlFlow.edges(of: function), roots: [0]).reversed())
        let unreachable = Set(function.blocks.indices).subtracting(reachable).sorted()
        var castsAtExit: [Int: [Temp: Temp]] = [:]
        for b in reachable + unreachable {
            let entering = b != 0 && predecessors[b].count == 1 ? castsAtExit[predecessors[b][0]] ?? [:] : [:]
            (function.blocks[b].instructions, castsAtExit[b]) = castArenaAccesses(
                in: function.blocks[b].instructions, of: &function, entering: entering, alreadyCast: casts,
                mainFile: module.mainFile)
        }
        module.functions[f] = function
    }
}

/// A pointer Temp assigned once (an expression's value, a parameter never reassigned) holds one
/// value for the whole function: it gets one cast, right after it is computed (at the entry for
/// a parameter), and every access through it uses that cast, as LLVM's BPF backend does.
/// The note names the lines of the accesses as the listing does, relative to `mainFile`.
private func castPointersAssignedOnce(_ function: inout Function, mainFile: String) {
    var assignments = [Int](repeating: 0, count: function.tempCount)
    for parameter in function.parameters { assignments[parameter.index] += 1 }
    var accessLines: [Temp: [SourceLocation]] = [:]
    for block in function.blocks {
        for instruction in block.instructions {
            for temp in instruction.operation.definedTemps { assignments[temp.index] += 1 }
            if let (pointer, _) = arenaAccess(instruction.operation) {
                if let location = instruction.location { accessLines[pointer, default: []].append(location) }
            }
        }
    }
    var casts: [Temp: Temp] = [:]
    for pointer in accessLines.keys.sorted() where assignments[pointer.index] == 1 {
        casts[pointer] = function.makeTemp()
    }
    guard !casts.isEmpty else { return }

    func castInstruction(_ pointer: Temp, at location: SourceLocation?) -> IRInstruction {
        // Lines of the main file first, then those of headers, each once, in order: a function
        // defined in a header names its own lines with the header's name too.
        let accesses = (accessLines[pointer] ?? []).sorted { a, b in
            (a.file == mainFile ? 0 : 1, a.file, a.line) < (b.file == mainFile ? 0 : 1, b.file, b.line)
        }
        var lines: [String] = []
        for access in accesses {
            let reference = access.lineReference(mainFile: mainFile)
            if !lines.contains(reference) { lines.append(reference) }
        }
        let where_ = lines.isEmpty ? "" : " at line\(lines.count > 1 ? "s" : "") \(lines.joined(separator: ", "))"
        return IRInstruction(.addrSpaceCast(casts[pointer] ?? pointer, .temp(pointer), to: 0, from: 1), at: location,
                             note: "cast_kern: this __arena pointer is dereferenced\(where_)")
    }

    for parameter in function.parameters where casts[parameter] != nil {
        function.blocks[0].instructions.insert(castInstruction(parameter, at: function.location), at: 0)
    }
    for b in function.blocks.indices {
        var rewritten: [IRInstruction] = []
        for instruction in function.blocks[b].instructions {
            var current = instruction
            if let (pointer, address) = arenaAccess(instruction.operation), let cast = casts[pointer],
               case .temp(_, let offset) = address {
                current.operation = replacingAddress(of: instruction.operation, with: .temp(cast, offset: offset))
            }
            rewritten.append(current)
            for defined in instruction.operation.definedTemps
            where casts[defined] != nil && !function.parameters.contains(defined) {
                rewritten.append(castInstruction(defined, at: instruction.location))
            }
        }
        function.blocks[b].instructions = rewritten
    }
}

/// The pointer and address of a load or store to arena memory.
private func arenaAccess(_ operation: Operation) -> (Temp, Address)? {
    switch operation {
    case .load(_, let address, _, 1, _), .store(let address, _, _, 1, _), .atomic(_, _, let address, _, _, 1),
         .compareExchange(_, let address, _, _, _, 1):
        guard case .temp(let pointer, _) = address else { return nil }
        return (pointer, address)
    case .load, .store, .atomic, .compareExchange, .copy, .binary, .negate, .signExtend, .zeroExtend, .byteSwap, .copyMemory,
         .setMemory, .slotAddress, .symbolAddress, .call, .addrSpaceCast, .setCondition, .inlineAsm, .coreValue:
        return nil
    }
}

/// `operation`, a memory access, going through `address` instead.
private func replacingAddress(of operation: Operation, with address: Address) -> Operation {
    operation.mapped(defined: { $0 }, value: { $0 }, address: { _ in address })
}

/// Pointers assigned more than once: a cast reused until the pointer changes, starting from the
/// casts `entering` the block. Returns the block's instructions and the casts still good at its end.
private func castArenaAccesses(in instructions: [IRInstruction], of function: inout Function, entering: [Temp: Temp],
                               alreadyCast castResults: Set<Temp>, mainFile: String)
    -> (instructions: [IRInstruction], castsAtExit: [Temp: Temp])
{
    var result: [IRInstruction] = []
    result.reserveCapacity(instructions.count)
    /// Pointer Temp → the Temp holding its kernel form, while the pointer is unchanged.
    var kernelForm = entering

    func kernelAddress(_ address: Address, at instruction: IRInstruction, reason: String) -> Address {
        guard case .temp(let pointer, let offset) = address, !castResults.contains(pointer) else {
            // Stack slots are ordinary kernel memory; kernel-form pointers are already cast.
            return address
        }
        if let cast = kernelForm[pointer] { return .temp(cast, offset: offset) }
        let cast = function.makeTemp()
        let line = instruction.location.map { "line \($0.lineReference(mainFile: mainFile))" } ?? "this access"
        result.append(IRInstruction(.addrSpaceCast(cast, .temp(pointer), to: 0, from: 1), at: instruction.location,
                                    note: "cast_kern: \(reason) at \(line) goes through an __arena pointer"))
        kernelForm[pointer] = cast
        return .temp(cast, offset: offset)
    }

    for instruction in instructions {
        var rewritten = instruction
        switch instruction.operation {
        case .load(let dst, let address, let size, let space, let flags) where space == 1:
            let kernel = kernelAddress(address, at: instruction, reason: "load")
            rewritten.operation = .load(dst, kernel, size, addressSpace: 1, flags)
        case .store(let address, let value, let size, let space, let flags) where space == 1:
            let kernel = kernelAddress(address, at: instruction, reason: "store")
            rewritten.operation = .store(kernel, value, size, addressSpace: 1, flags)
        case .atomic(_, _, let address, _, _, 1), .compareExchange(_, let address, _, _, _, 1):
            let kernel = kernelAddress(address, at: instruction, reason: "atomic access")
            rewritten.operation = replacingAddress(of: instruction.operation, with: kernel)
        case .copyMemory, .setMemory:
            preconditionFailure("AggregateLowering must run before arena cast insertion")
        case .load, .store, .atomic, .compareExchange, .copy, .binary, .negate, .signExtend, .zeroExtend, .byteSwap,
             .slotAddress, .symbolAddress, .call, .addrSpaceCast, .setCondition, .inlineAsm, .coreValue:
            break
        }
        result.append(rewritten)
        for defined in rewritten.operation.definedTemps {
            kernelForm[defined] = nil
            for (pointer, cast) in kernelForm where cast == defined { kernelForm[pointer] = nil }
        }
    }
    return (result, kernelForm)
}
