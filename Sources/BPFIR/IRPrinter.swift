import BPFDiagnostics

// A text form of the IR, one instruction per line, for debugging and golden tests.
//
//     function sum(%0, %1) global section "syscall" {
//       slot0 "buf": 16 bytes, align 8            ; a.c:3:5
//     bb0:
//       %2 = add.64 %0, %1                        ; a.c:4:12
//       %3 = addr_space_cast %2, 0, 1             ; a.c:5:3  cast_kern: load at line 5 ...
//       br slt.32 %2, 0, bb1, bb2                 ; a.c:6:7
//     }
//
// Widths are suffixes (`.32`, `.64`), memory sizes count bytes (`load.4`), and an address space
// other than 0 is printed as `as1`. The `;` column carries the source location and the note.

/// Renders a whole module: globals, externs, then every function.
public func printIR(_ module: Module) -> String {
    var lines: [String] = []
    for global in module.globals {
        lines.append("global \(global.symbol) section \"\(global.section)\": \(global.size) bytes, align \(global.alignment)")
    }
    for external in module.externs {
        let kind = switch external.kind { case .function: "function"; case .variable: "variable" }
        lines.append("extern \(kind) \(external.name) section \"\(external.section)\"\(external.isWeak ? " weak" : "")")
    }
    if !lines.isEmpty { lines.append("") }
    return lines.joined(separator: "\n") + module.functions.map { printIR($0) }.joined(separator: "\n")
}

/// Renders one function, ending in a newline.
public func printIR(_ function: Function) -> String {
    var out = "function \(function.name)(\(function.parameters.map(\.description).joined(separator: ", ")))"
    out += function.linkage == .global ? " global" : " static"
    if let section = function.section { out += " section \"\(section)\"" }
    out += " {\n"
    for (index, slot) in function.slots.enumerated() {
        out += annotated("  \(SlotID(index)) \"\(slot.name)\": \(slot.size) bytes, align \(slot.alignment)",
                         slot.location, nil)
    }
    for block in function.blocks {
        out += "\(block.id):\n"
        for instruction in block.instructions {
            out += annotated("  " + printIR(instruction.operation), instruction.location, instruction.note)
        }
        out += annotated("  " + printIR(block.terminator), block.terminatorLocation, nil)
    }
    return out + "}\n"
}

/// The text of one operation, without location.
public func printIR(_ operation: Operation) -> String {
    switch operation {
    case .copy(let dst, let value):
        return "\(dst) = \(value)"
    case .binary(let dst, let op, let width, let a, let b):
        return "\(dst) = \(name(op)).\(bits(width)) \(a), \(b)"
    case .negate(let dst, let width, let value):
        return "\(dst) = neg.\(bits(width)) \(value)"
    case .signExtend(let dst, let value, let fromBits):
        return "\(dst) = sext.\(fromBits) \(value)"
    case .zeroExtend(let dst, let value, let fromBits):
        return "\(dst) = zext.\(fromBits) \(value)"
    case .byteSwap(let dst, let value, let bits):
        return "\(dst) = bswap.\(bits) \(value)"
    case .load(let dst, let address, let size, let space, let flags):
        return "\(dst) = load\(flagsSuffix(flags, ordered: "acquire")).\(size.rawValue)\(spaceSuffix(space)) \(address)"
    case .store(let address, let value, let size, let space, let flags):
        return "store\(flagsSuffix(flags, ordered: "release")).\(size.rawValue)\(spaceSuffix(space)) \(address), \(value)"
    case .copyMemory(let destination, let source, let size, let alignment, let destinationSpace, let sourceSpace):
        return "copy \(destination)\(spaceSuffix(destinationSpace)), \(source)\(spaceSuffix(sourceSpace)), "
            + "\(size) bytes, align \(alignment)"
    case .setMemory(let address, let byte, let size, let alignment, let space):
        return "set \(address)\(spaceSuffix(space)), \(byte), \(size) bytes, align \(alignment)"
    case .slotAddress(let dst, let slot, let offset):
        return "\(dst) = &\(slot)+\(offset)"
    case .symbolAddress(let dst, let symbol, let offset):
        return "\(dst) = &\(symbol)+\(offset)"
    case .call(let dst, let callee, let arguments):
        let call = "call \(calleeText(callee))(\(arguments.map(\.description).joined(separator: ", ")))"
        return dst.map { "\($0) = \(call)" } ?? call
    case .addrSpaceCast(let dst, let value, let to, let from):
        return "\(dst) = addr_space_cast \(value), \(to), \(from)"
    case .setCondition(let dst, let condition, let width, let a, let b):
        return "\(dst) = set \(name(condition)).\(bits(width)) \(a), \(b)"
    case .atomic(let dst, let op, let address, let value, let size, let space):
        let operation = "atomic_\(op).\(size.rawValue)\(spaceSuffix(space)) \(address), \(value)"
        return dst.map { "\($0) = \(operation)" } ?? operation
    case .compareExchange(let dst, let address, let expected, let desired, let size, let space):
        return "\(dst) = cmpxchg.\(size.rawValue)\(spaceSuffix(space)) \(address), \(expected), \(desired)"
    case .inlineAsm(let asm):
        return printIR(asm)
    case .coreValue(let dst, let relocation):
        return "\(dst) = core \(relocation.kind) \(relocation.type.rawValue):\(relocation.accessString)"
    }
}

/// `asm "%0 += %1" (+%3, %4) clobbers r0`: the template with operands by number, then each operand.
private func printIR(_ asm: InlineAsm) -> String {
    let template = asm.template.map { piece in
        switch piece {
        case .text(let text): return text.replacing("%", with: "%%").replacing("\n", with: "\\n")
        case .operand(let n, let halfWord): return halfWord ? "%w\(n)" : "%\(n)"
        case .label(let n): return "%l\(n)"
        }
    }.joined()
    let operands = asm.operands.map { operand in
        switch operand {
        case .input(let value): return value.description
        case .output(let t, let early): return (early ? "=&" : "=") + t.description
        case .inputOutput(let t, let early): return (early ? "+&" : "+") + t.description
        case .tied(let n): return "tied \(n)"
        case .immediate(let value): return "imm \(value)"
        case .registerOrImmediate(let value): return "reg-or-imm \(value)"
        }
    }
    let clobbers = asm.clobbers.isEmpty ? "" : " clobbers " + asm.clobbers.map { "r\($0)" }.joined(separator: ", ")
    return "asm \"\(template)\" (\(operands.joined(separator: ", ")))\(clobbers)"
}

/// The text of one terminator, without location.
public func printIR(_ terminator: Terminator) -> String {
    switch terminator {
    case .jump(let target):
        return "jmp \(target)"
    case .branch(let condition, let width, let a, let b, let then, let otherwise):
        return "br \(name(condition)).\(bits(width)) \(a), \(b), \(then), \(otherwise)"
    case .return(let value):
        return value.map { "ret \($0)" } ?? "ret"
    case .mayGoto(let bail, let next):
        return "may_goto \(bail), \(next)"
    case .inlineAsmGoto(let asm, let labels, let next):
        return "\(printIR(asm)) goto [\(labels.map(\.description).joined(separator: ", "))], \(next)"
    }
}

private func annotated(_ line: String, _ location: SourceLocation?, _ note: String?) -> String {
    let comment = [location.map { "\($0.file):\($0.line):\($0.column)" }, note].compactMap { $0 }
    guard !comment.isEmpty else { return line + "\n" }
    let padded = line.count < 44 ? line + String(repeating: " ", count: 44 - line.count) : line + " "
    return padded + "; " + comment.joined(separator: "  ") + "\n"
}

private func bits(_ width: ALUWidth) -> String {
    switch width {
    case .bits32: return "32"
    case .bits64: return "64"
    }
}

private func flagsSuffix(_ flags: AccessFlags, ordered: String) -> String {
    (flags.isOrdered ? "." + ordered : "") + (flags.isVolatile ? ".volatile" : "") + (flags.isTyped ? ".typed" : "")
}

private func spaceSuffix(_ space: Int) -> String {
    space == 0 ? "" : " as\(space)"
}

private func calleeText(_ callee: Callee) -> String {
    switch callee {
    case .function(let name): return name
    case .helper(let number): return "helper#\(number)"
    case .kfunc(let name): return "kfunc \(name)"
    }
}

private func name(_ op: BinaryOperator) -> String {
    switch op {
    case .add: return "add"
    case .sub: return "sub"
    case .mul: return "mul"
    case .udiv: return "udiv"
    case .umod: return "umod"
    case .sdiv: return "sdiv"
    case .smod: return "smod"
    case .and: return "and"
    case .or: return "or"
    case .xor: return "xor"
    case .shl: return "shl"
    case .lshr: return "lshr"
    case .ashr: return "ashr"
    }
}

private func name(_ condition: Condition) -> String {
    switch condition {
    case .eq: return "eq"
    case .ne: return "ne"
    case .ugt: return "ugt"
    case .uge: return "uge"
    case .ult: return "ult"
    case .ule: return "ule"
    case .sgt: return "sgt"
    case .sge: return "sge"
    case .slt: return "slt"
    case .sle: return "sle"
    }
}
