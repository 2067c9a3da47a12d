import BPFIR

// CO-RE values placed in the instructions that use them, as LLVM's BPFMISimplifyPatchable
// places them, before register allocation:
//
// - a field offset added to a pointer that is only dereferenced (`%c = core byte_off;
//   %a = add %p, %c; load [%a+0]`) becomes the offset of each load and store through it
//   (`load [%p+off]`, the record on the load), which is also the only form the verifier accepts
//   on a context pointer;
// - a relocated shift amount becomes the shift's immediate (`r1 <<= 52` with the record on it),
//   which is how `BPF_CORE_READ_BITFIELD` extracts a field.
//
// libbpf patches the `off` of a load or store and the `imm` of an ALU instruction alike. Anything
// else keeps the value in a register of its own (`mov` or `ld_imm64` with the record).

/// Folds the CO-RE values of `function` into the instructions that use them; returns which
/// instructions (of the rewritten function) now carry a relocated immediate or offset.
/// `localValue` gives each relocation's local value, nil when it has none (an internal error
/// instruction selection reports).
func foldCoreRelocations(_ function: inout Function, localValue: (CoreRelocation) -> Int64?)
    -> [InstructionSite: CoreRelocation]
{
    var definitions = [Int](repeating: 0, count: function.tempCount)
    var reads = [Int](repeating: 0, count: function.tempCount)
    for parameter in function.parameters { definitions[parameter.index] += 1 }
    for block in function.blocks {
        for instruction in block.instructions {
            for t in instruction.operation.definedTemps { definitions[t.index] += 1 }
            for t in instruction.operation.usedTemps { reads[t.index] += 1 }
        }
        for t in block.terminator.usedTemps { reads[t.index] += 1 }
    }

    var sites: [InstructionSite: CoreRelocation] = [:]
    for b in function.blocks.indices {
        var instructions = function.blocks[b].instructions
        var relocated: [Int: CoreRelocation] = [:]
        var removed = Set<Int>()
        for (i, instruction) in instructions.enumerated() {
            guard case .coreValue(let value, let relocation) = instruction.operation,
                  definitions[value.index] == 1, reads[value.index] == 1, let local = localValue(relocation),
                  let j = instructions.indices.dropFirst(i + 1).first(where: {
                      instructions[$0].operation.usedTemps.contains(value)
                  })
            else { continue }
            switch instructions[j].operation {
            case .binary(let d, let op, let width, let x, .temp(value))
                where x != .temp(value) && (op == .shl || op == .lshr || op == .ashr):
                guard (0..<(width == .bits64 ? 64 : 32)).contains(local) else { continue }
                instructions[j].operation = .binary(d, op, width, x, .constant(local))
                relocated[j] = relocation
                removed.insert(i)
            case .binary(let sum, .add, .bits64, let x, let y):
                guard relocation.kind == .fieldByteOffset, let offset = Int(exactly: local), Int16(exactly: offset) != nil,
                      case .temp(let pointer) = x == .temp(value) ? y : x, pointer != value, pointer != sum,
                      definitions[sum.index] == 1,
                      let accesses = dereferences(of: sum, after: j, in: instructions, reads: reads[sum.index]),
                      let last = accesses.last,
                      !instructions[(j + 1)..<last].contains(where: { $0.operation.definedTemps.contains(pointer) })
                else { continue }
                for k in accesses {
                    instructions[k].operation = instructions[k].operation.mapped(
                        defined: { $0 }, value: { $0 },
                        address: { $0 == .temp(sum, offset: 0) ? .temp(pointer, offset: offset) : $0 })
                    relocated[k] = relocation
                }
                removed.formUnion([i, j])
            case .copy, .binary, .negate, .signExtend, .zeroExtend, .byteSwap, .load, .store, .copyMemory,
                 .setMemory, .slotAddress, .symbolAddress, .call, .addrSpaceCast, .setCondition, .atomic,
                 .compareExchange, .inlineAsm, .coreValue:
                continue
            }
        }
        var kept: [IRInstruction] = []
        for (i, instruction) in instructions.enumerated() where !removed.contains(i) {
            if let relocation = relocated[i] {
                sites[InstructionSite(block: function.blocks[b].id, index: kept.count)] = relocation
            }
            kept.append(instruction)
        }
        function.blocks[b].instructions = kept
    }
    return sites
}

/// The instructions after `start` that read `address`, when every one of its `reads` is the
/// address of a load or store there with offset 0 (the value stored is another); nil otherwise.
private func dereferences(of address: Temp, after start: Int, in instructions: [IRInstruction], reads: Int) -> [Int]? {
    var found: [Int] = []
    for k in instructions.indices.dropFirst(start + 1) where instructions[k].operation.usedTemps.contains(address) {
        switch instructions[k].operation {
        case .load(_, .temp(address, 0), _, _, _):
            break
        case .store(.temp(address, 0), let value, _, _, _) where value != .temp(address):
            break
        case .copy, .binary, .negate, .signExtend, .zeroExtend, .byteSwap, .load, .store, .copyMemory, .setMemory,
             .slotAddress, .symbolAddress, .call, .addrSpaceCast, .setCondition, .atomic, .compareExchange,
             .inlineAsm, .coreValue:
            return nil
        }
        found.append(k)
    }
    return found.count == reads ? found : nil
}
