// Prints instructions the way the kernel's verifier log and `bpftool prog dump xlated` do
// (kernel/bpf/disasm.c), minus the `(code)` column: `r1 = *(u32 *)(r10 -4)`, `if w1 s< w2 goto pc-2`.
// One syntax everywhere means a `swiftbpf dump` listing can be compared line by line with a
// verifier log.

/// One line of a listing. An `ld_imm64` is one line covering two slots.
public struct DisassembledInstruction: Hashable, Sendable {
    /// Slot index of the (first half of the) instruction.
    public var index: Int
    public var text: String
}

/// Disassembles a sequence of slots; a lone first half of an `ld_imm64` at the end is reported
/// as such rather than read past.
public func disassemble(_ instructions: [Instruction]) -> [DisassembledInstruction] {
    var lines: [DisassembledInstruction] = []
    var index = 0
    while index < instructions.count {
        let instruction = instructions[index]
        if instruction.isLoadImm64 {
            let next = index + 1 < instructions.count ? instructions[index + 1] : nil
            lines.append(.init(index: index, text: disassemble(instruction, next: next)))
            index += 2
        } else {
            lines.append(.init(index: index, text: disassemble(instruction, next: nil)))
            index += 1
        }
    }
    return lines
}

/// Kernel syntax for one instruction; `next` is the second slot of an `ld_imm64`.
public func disassemble(_ insn: Instruction, next: Instruction?) -> String {
    let code = insn.opcode
    let cls = Opcode.classOf(code)
    let op = code & 0xf0
    let isX = code & Opcode.sourceX != 0
    switch cls {
    case Opcode.classALU, Opcode.classALU64:
        let r: Character = cls == Opcode.classALU ? "w" : "r"
        let dst = "\(r)\(insn.dst.rawValue)"
        if op == Opcode.end {
            if cls == Opcode.classALU64 { return "r\(insn.dst.rawValue) = bswap\(insn.imm) r\(insn.dst.rawValue)" }
            return "r\(insn.dst.rawValue) = \(isX ? "be" : "le")\(insn.imm) r\(insn.dst.rawValue)"
        }
        if op == Opcode.neg { return "\(dst) = -\(dst)" }
        if code == Opcode.classALU64 | Opcode.mov | Opcode.sourceX && insn.offset == Opcode.addrSpaceCastOffset {
            let imm = UInt32(bitPattern: insn.imm)
            return "r\(insn.dst.rawValue) = addr_space_cast(r\(insn.src.rawValue), \(imm >> 16), \(imm & 0xffff))"
        }
        guard let plain = aluOperator(op) else { return bug(cls == Opcode.classALU ? "alu" : "alu64", code) }
        let signed = (op == Opcode.div || op == Opcode.mod) && insn.offset == 1
        let operation = signed ? "s" + plain : plain
        guard isX else { return "\(dst) \(operation) \(insn.imm)" }
        let signExtension = op == Opcode.mov ? movsxPrefix(insn.offset) : ""
        return "\(dst) \(operation) \(signExtension)\(r)\(insn.src.rawValue)"

    case Opcode.classSTX:
        let mode = code & 0xe0
        let address = memory(insn, base: insn.dst)
        let src = "r\(insn.src.rawValue)"
        if mode == Opcode.modeMEM { return "*\(address) = \(src)" }
        guard mode == Opcode.modeATOMIC else { return bug("stx", code) }
        let width = code & 0x18 == Opcode.sizeDW ? "64" : ""
        let pointer = "(\(sizeName(code)) *)(r\(insn.dst.rawValue) \(signedOffset(insn.offset)))"
        let fetch: Int32 = 0x01
        switch insn.imm {
        case Int32(Opcode.add), Int32(Opcode.and), Int32(Opcode.or), Int32(Opcode.xor):
            return "lock *\(address) \(aluOperator(UInt8(insn.imm)) ?? "") \(src)"
        case Int32(Opcode.add) | fetch, Int32(Opcode.and) | fetch, Int32(Opcode.or) | fetch, Int32(Opcode.xor) | fetch:
            let name = ["add", "and", "or", "xor"][[Opcode.add, Opcode.and, Opcode.or, Opcode.xor]
                .firstIndex(of: UInt8(insn.imm & 0xf0)) ?? 0]
            return "\(src) = atomic\(width)_fetch_\(name)(\(pointer), \(src))"
        case 0xe1:
            return "\(src) = atomic\(width)_xchg(\(pointer), \(src))"
        case 0xf1:
            return "r0 = atomic\(width)_cmpxchg(\(pointer), r0, \(src))"
        case 0x100:
            // dst = *(src + offset): the loaded register is dst, the address src.
            let loaded = (code & 0x18 == Opcode.sizeDW ? "r" : "w") + "\(insn.dst.rawValue)"
            return "\(loaded) = load_acquire((\(sizeName(code)) *)(r\(insn.src.rawValue) \(signedOffset(insn.offset))))"
        case 0x110:
            return "store_release(\(pointer), \(src))"
        default:
            return bug("stx", code)
        }

    case Opcode.classST:
        guard code & 0xe0 == Opcode.modeMEM else { return bug("st", code) }
        return "*\(memory(insn, base: insn.dst)) = \(insn.imm)"

    case Opcode.classLDX:
        let mode = code & 0xe0
        guard mode == Opcode.modeMEM || mode == Opcode.modeMEMSX else { return bug("ldx", code) }
        let type = mode == Opcode.modeMEM ? sizeName(code) : "s" + sizeName(code).dropFirst()
        return "r\(insn.dst.rawValue) = *(\(type) *)(r\(insn.src.rawValue) \(signedOffset(insn.offset)))"

    case Opcode.classLD:
        let mode = code & 0xe0
        if mode == 0x20 { return "r0 = *(\(sizeName(code)) *)skb[\(insn.imm)]" }
        if mode == 0x40 { return "r0 = *(\(sizeName(code)) *)skb[r\(insn.src.rawValue) + \(insn.imm)]" }
        guard code == Opcode.ldImm64 else { return bug("ld", code) }
        guard let next else { return "r\(insn.dst.rawValue) = <ld_imm64 without its second slot>" }
        let low = UInt64(UInt32(bitPattern: insn.imm)), high = UInt64(UInt32(bitPattern: next.imm))
        let dst = "r\(insn.dst.rawValue)"
        switch insn.src.rawValue {
        case Opcode.pseudoMapFD: return "\(dst) = map[fd:\(insn.imm)]"
        case Opcode.pseudoMapValue: return "\(dst) = map[fd:\(insn.imm)][0]+\(high)"
        default: return "\(dst) = 0x\(String(high << 32 | low, radix: 16)) ll"
        }

    default:  // JMP, JMP32
        if op == Opcode.call {
            if isX { return "callx r\(insn.dst.rawValue)" }
            switch insn.src.rawValue {
            case Opcode.pseudoCall: return "call pc\(signedOffset(insn.imm))"
            case Opcode.pseudoKfuncCall: return "call kernel-function#\(insn.imm)"
            default:
                let name = insn.imm >= 0 && Int(insn.imm) < bpfHelperNames.count ? "bpf_" + bpfHelperNames[Int(insn.imm)] : "unknown"
                return "call \(name)#\(insn.imm)"
            }
        }
        if code == Opcode.classJMP | Opcode.ja { return "goto pc\(signedOffset(insn.offset))" }
        if code == Opcode.classJMP32 | Opcode.ja { return "gotol pc\(signedOffset(insn.imm))" }
        if code == Opcode.classJMP | Opcode.jcond && insn.src.rawValue == Opcode.mayGoto {
            return "may_goto pc\(signedOffset(insn.offset))"
        }
        if code == Opcode.classJMP | Opcode.exit { return "exit" }
        guard let comparison = jumpOperator(op) else { return bug(cls == Opcode.classJMP ? "jmp" : "jmp32", code) }
        let r: Character = cls == Opcode.classJMP32 ? "w" : "r"
        let rhs = isX ? "\(r)\(insn.src.rawValue)" : "0x" + String(UInt32(bitPattern: insn.imm), radix: 16)
        return "if \(r)\(insn.dst.rawValue) \(comparison) \(rhs) goto pc\(signedOffset(insn.offset))"
    }
}

/// `(u32 *)(r10 -4)` — disasm.c's `%+d` puts a sign on every offset, `+0` included.
private func memory(_ insn: Instruction, base: Register) -> String {
    "(\(sizeName(insn.opcode)) *)(r\(base.rawValue) \(signedOffset(insn.offset)))"
}

private func signedOffset(_ value: some BinaryInteger) -> String {
    value < 0 ? "\(value)" : "+\(value)"
}

private func sizeName(_ code: UInt8) -> String {
    switch code & 0x18 {
    case Opcode.sizeW: "u32"
    case Opcode.sizeH: "u16"
    case Opcode.sizeB: "u8"
    default: "u64"
    }
}

private func movsxPrefix(_ offset: Int16) -> String {
    switch offset {
    case 8: "(s8)"
    case 16: "(s16)"
    case 32: "(s32)"
    default: ""
    }
}

private func aluOperator(_ op: UInt8) -> String? {
    switch op {
    case Opcode.add: "+="
    case Opcode.sub: "-="
    case Opcode.mul: "*="
    case Opcode.div: "/="
    case Opcode.or: "|="
    case Opcode.and: "&="
    case Opcode.lsh: "<<="
    case Opcode.rsh: ">>="
    case Opcode.mod: "%="
    case Opcode.xor: "^="
    case Opcode.mov: "="
    case Opcode.arsh: "s>>="
    default: nil
    }
}

private func jumpOperator(_ op: UInt8) -> String? {
    switch op {
    case Opcode.jeq: "=="
    case Opcode.jgt: ">"
    case Opcode.jge: ">="
    case Opcode.jset: "&"
    case Opcode.jne: "!="
    case Opcode.jsgt: "s>"
    case Opcode.jsge: "s>="
    case Opcode.jlt: "<"
    case Opcode.jle: "<="
    case Opcode.jslt: "s<"
    case Opcode.jsle: "s<="
    default: nil
    }
}

/// disasm.c's spelling for an opcode it does not know.
private func bug(_ className: String, _ code: UInt8) -> String {
    "BUG_\(className)_" + (code < 16 ? "0" : "") + String(code, radix: 16)
}
