import BPFDiagnostics
import BPFIR
import BPFInstructions

// Instruction selection: each IR instruction becomes a few BPF instructions over the registers and
// spill slots the allocator chose.
//
// A Temp in a register is used in place. A spilled Temp is reloaded into a scratch register (r0 or
// r5) before it is read, and a result bound for a spill slot is computed in r0 and stored
// afterwards, except where the allocator keeps it in a register too (from a write, or from a
// reload, to the reads soon after); the allocator gives r0 to a Temp only where no instruction
// does either. A rematerialized Temp's definitions are left out; where it is read it is a constant,
// a slot address (an access through it goes straight off r10) or an `ld_imm64` computed into the
// scratch register. Constants become immediates when the instruction can hold them and are
// materialized into a register (`mov`, or `ld_imm64` beyond 32 bits) otherwise.
//
// Width discipline: ALU32 (`w` registers) only for IR `bits32` operations and for
// zeroExtend(fromBits: 32). Moves between registers are 64-bit: the verifier rejects 32-bit ALU on
// pointers and a 32-bit move would turn a pointer into a scalar.
//
// Every selected instruction carries the location and note of the IR instruction it came from.
// A CO-RE value is a `mov` (or `ld_imm64`) of its local value; a load, store or shift into which
// `foldCoreRelocations` folded one carries the relocation on its memory or ALU instruction.

struct InstructionSelector {
    let function: Function
    let cpu: CPUVersion
    let assignment: RegisterAssignment
    let frame: FrameLayout
    /// The loads, stores and shifts whose offset or immediate is a relocated CO-RE value.
    let relocatedSites: [InstructionSite: CoreRelocation]
    /// The local value of each CO-RE relocation; nil when the relocation does not fit the types.
    let coreLocalValue: (CoreRelocation) -> Int64?

    private var lines: [MachineLine] = []
    private var location: SourceLocation?
    private var note: String?
    /// The relocation the instruction being selected carries on its memory or ALU instruction.
    private var relocation: CoreRelocation?
    /// Whether anything reads the result of the instruction being selected.
    private var resultIsRead = true
    /// The instruction being selected; nil in the prologue.
    private var site: InstructionSite?
    /// Temps that only ever hold the address of a global: a store of a constant through one is a
    /// store into a map value, which BPF_ST reaches at v3 too.
    private let globalAddresses: Set<Temp>
    private(set) var diagnostics: [Diagnostic] = []

    init(function: Function, cpu: CPUVersion, assignment: RegisterAssignment, frame: FrameLayout,
         relocatedSites: [InstructionSite: CoreRelocation], coreLocalValue: @escaping (CoreRelocation) -> Int64?) {
        self.function = function
        self.cpu = cpu
        self.assignment = assignment
        self.frame = frame
        self.relocatedSites = relocatedSites
        self.coreLocalValue = coreLocalValue
        var addresses: Set<Temp> = []
        var other: Set<Temp> = Set(function.parameters)
        for block in function.blocks {
            for instruction in block.instructions {
                if case .symbolAddress(let d, _, _) = instruction.operation {
                    addresses.insert(d)
                } else {
                    other.formUnion(instruction.operation.definedTemps)
                }
            }
        }
        globalAddresses = addresses.subtracting(other)
    }

    /// Selects every block of `order`; the entry block starts with the prologue.
    mutating func select(_ order: [BlockID]) -> [MachineBlock] {
        var blocks: [MachineBlock] = []
        for (i, id) in order.enumerated() {
            lines = []
            site = nil
            if i == 0 { prologue() }
            let block = function.blocks[id.index]
            for (index, instruction) in block.instructions.enumerated() {
                site = InstructionSite(block: id, index: index)
                location = instruction.location
                note = instruction.note
                reload()
                resultIsRead = !assignment.unreadResults.contains(InstructionSite(block: id, index: index))
                if !resultIsRead && instruction.operation.onlyComputes { continue }
                // Computed again where it is read.
                if instruction.operation.definedTemps.contains(where: { isRematerialized($0) }) { continue }
                relocation = relocatedSites[InstructionSite(block: id, index: index)]
                select(instruction.operation, at: InstructionSite(block: id, index: index))
            }
            location = block.terminatorLocation
            note = nil
            relocation = nil
            site = InstructionSite(block: id, index: block.instructions.count)
            reload()
            select(block.terminator, next: i + 1 < order.count ? order[i + 1] : nil,
                   at: InstructionSite(block: id, index: block.instructions.count))
            blocks.append(MachineBlock(id: id, lines: lines))
        }
        return blocks
    }

    // MARK: - Prologue

    /// Moves the parameters from r1-r5 to their allocated homes and zeroes every other Temp that is
    /// live at entry: it is read before written on some path, and the verifier rejects reading a
    /// register or stack slot never written ("!read_ok").
    private mutating func prologue() {
        location = function.location
        note = nil
        let arguments: [Register] = [.r1, .r2, .r3, .r4, .r5]
        if function.parameters.count > arguments.count {
            diagnostics.append(.error("function '\(function.name)' has \(function.parameters.count) parameters: "
                                      + "BPF passes at most 5 arguments, in r1-r5", at: function.location))
        }
        let live = Set(assignment.liveAtEntry)
        var moves: [(to: Register, from: Register)] = []
        for (parameter, register) in zip(function.parameters, arguments) where live.contains(parameter) {
            switch assignment.location(of: parameter) {
            case .register(let home): moves.append((home, register))
            case .spill, .rematerialized: finish(parameter, register)
            }
        }
        parallelMove(moves)
        for t in assignment.liveAtEntry where !function.parameters.contains(t) {
            note = "\(t) is read before it is written on some path; the verifier needs it initialized"
            assign(t, constant: 0)
        }
        note = nil
    }

    // MARK: - Operations

    private mutating func select(_ operation: Operation, at site: InstructionSite) {
        switch substituted(operation) {
        case .copy(let dst, let value):
            assign(dst, value)

        case .binary(let dst, let op, let width, let a, let b):
            binary(dst, op, width, a, b)

        case .negate(let dst, let width, let value):
            if case .constant(let c) = value {
                assign(dst, constant: normalized(0 &- c, width))
                return
            }
            let d = target(dst)
            move(value, into: d)
            emit(BPF.neg(width, d))
            finish(dst, d)

        case .signExtend(let dst, let value, let bits):
            precondition([8, 16, 32].contains(bits), "signExtend from \(bits) bits")
            if case .constant(let c) = value {
                let shift = Int64(64 - bits)
                assign(dst, constant: (c << shift) >> shift)
                return
            }
            let d = target(dst)
            switch cpu {
            case .v4:
                emit(BPF.alu(Opcode.mov, .bits64, d, read(value, into: d), offset: Int16(bits)))
            case .v3:
                move(value, into: d)
                emit(BPF.alu(Opcode.lsh, .bits64, d, imm: Int32(64 - bits)))
                emit(BPF.alu(Opcode.arsh, .bits64, d, imm: Int32(64 - bits)))
            }
            finish(dst, d)

        case .zeroExtend(let dst, let value, let bits):
            precondition([8, 16, 32].contains(bits), "zeroExtend from \(bits) bits")
            let mask = Int64(1) << Int64(bits) - 1
            if case .constant(let c) = value {
                assign(dst, constant: c & mask)
                return
            }
            let d = target(dst)
            if bits == 32 {
                emit(BPF.alu(Opcode.mov, .bits32, d, read(value, into: d)))
            } else {
                move(value, into: d)
                emit(BPF.alu(Opcode.and, .bits64, d, imm: Int32(mask)))
            }
            finish(dst, d)

        case .byteSwap(let dst, let value, let bits):
            precondition([16, 32, 64].contains(bits), "byteSwap of \(bits) bits")
            if case .constant(let c) = value {
                assign(dst, constant: byteSwapped(c, bits: bits))
                return
            }
            let d = target(dst)
            move(value, into: d)
            emit(BPF.toBigEndian(d, bits: bits))
            finish(dst, d)

        case .load(let dst, let address, let size, _, let flags):
            let d = target(dst)
            let (base, offset) = addressOperand(address, scratch: d)
            emitRelocated(flags.isOrdered && cpu == .v4 ? BPF.loadAcquire(size, d, base, offset)
                                                         : BPF.load(size, d, base, offset))
            finish(dst, d)

        case .store(let address, let value, let size, let space, let flags):
            store(address, value, size, space: space, release: flags.isOrdered && cpu == .v4)

        case .copyMemory, .setMemory:
            preconditionFailure("aggregate lowering must run before code generation")

        case .slotAddress(let dst, let slot, let offset):
            let d = target(dst)
            materialize(.slotAddress(slot, offset: offset), into: d)
            finish(dst, d)

        case .symbolAddress(let dst, let symbol, let offset):
            let d = target(dst)
            materialize(.symbolAddress(symbol, offset: offset), into: d)
            finish(dst, d)

        case .call(let dst, let callee, let arguments):
            call(dst, callee, arguments)

        case .addrSpaceCast(let dst, let value, let to, let from):
            let d = target(dst)
            let s = read(value, into: d)
            emit(Instruction(opcode: Opcode.classALU64 | Opcode.mov | Opcode.sourceX, dst: d, src: s,
                             offset: Opcode.addrSpaceCastOffset, imm: Int32(to << 16 | from)))
            finish(dst, d)

        case .setCondition(let dst, let condition, let width, let a, let b):
            setCondition(dst, condition, width, a, b)

        case .atomic(let dst, let op, let address, let value, let size, _):
            atomic(resultIsRead ? dst : nil, op, address, value, size)

        case .compareExchange(let dst, let address, let expected, let desired, let size, _):
            compareExchange(dst, address, expected, desired, size)

        case .inlineAsm(let asm):
            inlineAsm(asm, at: site, labels: [])

        case .coreValue(let dst, let core):
            guard let value = coreLocalValue(core) else {
                diagnostics.append(.error("CO-RE relocation \(core.kind) with access path \(core.accessString) does not fit its type",
                                          at: location))
                return
            }
            let d = target(dst)
            if core.kind.isWide {
                lines.append(MachineLine(instruction: .loadImm64(d, value), location: location, note: note,
                                         coreRelocation: core))
            } else {
                relocation = core
                emitRelocated(BPF.alu(Opcode.mov, .bits64, d, imm: Int32(truncatingIfNeeded: value)))
            }
            finish(dst, d)
        }
    }

    /// Inline asm: the operands the allocator did not leave in their registers are loaded into the
    /// registers it chose for them, the template gets the registers and is assembled, and outputs
    /// bound for spill slots are stored. A jump to asm goto label N goes to `labels[N]`.
    private mutating func inlineAsm(_ asm: InlineAsm, at site: InstructionSite, labels: [BlockID]) {
        let registers = assignment.asmRegisters[site] ?? []
        var texts: [String] = []
        for (i, operand) in asm.operands.enumerated() {
            if let value = operand.immediate {
                texts.append(String(value))
                continue
            }
            switch operand {
            case .tied(let n):
                texts.append(n < texts.count ? texts[n] : "")
                continue
            case .input, .registerOrImmediate, .output, .inputOutput, .immediate:
                break
            }
            guard let register = registers[i] else {
                diagnostics.append(.error("inline assembly needs more free registers than there are here: "
                                          + "\(asm.operands.count) operands, \(asm.clobbers.count) clobbered registers",
                                          at: location))
                return
            }
            texts.append("r\(register.rawValue)")
            switch operand {
            case .input(let value), .registerOrImmediate(let value): move(value, into: register)
            case .inputOutput(let t, _): move(.temp(t), into: register)
            case .output, .tied, .immediate: break
            }
        }
        let code: AssembledCode
        do {
            code = try assemble(asm.text { texts[$0] }, externalLabels: Set(labels.indices.map(InlineAsm.labelName)))
        } catch {
            diagnostics.append(.error("inline assembly, \(error)", at: location))
            return
        }
        for problem in code.jumpsOutside { diagnostics.append(.error("inline assembly, \(problem)", at: location)) }
        let targets = Dictionary(code.externalJumps.map { ($0.index, $0.label) }, uniquingKeysWith: { a, _ in a })
        for (index, instruction) in code.instructions.enumerated() {
            if let label = targets[index], let n = labels.indices.first(where: { InlineAsm.labelName($0) == label }) {
                lines.append(MachineLine(instruction: .jump(opcode: instruction.opcode, dst: instruction.dst,
                                                            src: instruction.src, imm: instruction.imm, target: labels[n]),
                                         location: location, note: note))
            } else {
                emit(instruction)
            }
        }
        for (i, operand) in asm.operands.enumerated() {
            switch operand {
            case .output(let t, _), .inputOutput(let t, _):
                if let register = registers[i] { finish(t, register) }
            case .input, .registerOrImmediate, .tied, .immediate:
                break
            }
        }
    }

    /// BPF_ATOMIC: `lock *(size *)(base + off) op= src`, or with BPF_FETCH `src = atomic_fetch_op(...)`,
    /// the old value arriving in the register that held the operand. The form without fetch when
    /// nobody reads the old value; xchg has only the fetching form.
    private mutating func atomic(_ dst: Temp?, _ op: AtomicOperator, _ address: Address, _ value: Value,
                                 _ size: MemorySize) {
        let code: Int32
        switch op {
        case .add: code = Int32(Opcode.add)
        case .or: code = Int32(Opcode.or)
        case .and: code = Int32(Opcode.and)
        case .xor: code = Int32(Opcode.xor)
        case .exchange: code = BPF.atomicExchange
        }
        let (base, offset) = addressOperand(address, scratch: Scratch.first)
        guard let dst else {
            if op == .exchange {
                // The old value still arrives in the operand's register: give it a scratch one.
                move(value, into: Scratch.second)
                emit(BPF.atomic(size, base, offset, Scratch.second, imm: code))
            } else {
                emit(BPF.atomic(size, base, offset, read(value, into: Scratch.second), imm: code))
            }
            return
        }
        // The operand register receives the old value: the result's own register, unless that is
        // the address base (the base dies here and the result may take its register).
        let d = target(dst)
        let source = d == base ? Scratch.second : d
        move(value, into: source)
        emit(BPF.atomic(size, base, offset, source, imm: op == .exchange ? code : code | BPF.atomicFetch))
        if source != d { emit(BPF.mov(d, source)) }
        finish(dst, d)
    }

    /// `r0 = cmpxchg(base + off, r0, src)`: r0 holds the expected value in and the old one out.
    private mutating func compareExchange(_ dst: Temp, _ address: Address, _ expected: Value, _ desired: Value,
                                          _ size: MemorySize) {
        let (base, offset) = addressOperand(address, scratch: Scratch.second)
        // Expected first: the result's register, which may take desired below, may be expected's.
        move(expected, into: Scratch.first)
        var source: Register
        switch desired {
        case .temp(let t):
            if case .register(let r) = home(t) {
                source = r
                break
            }
            fallthrough
        case .constant:
            // A register of its own: r5 unless the base took it, else the result's register.
            let d = target(dst)
            source = base != Scratch.second ? Scratch.second : d
            if source == base || source == Scratch.first {
                diagnostics.append(.error("atomic compare-and-exchange needs more free registers here than the function has",
                                          at: location))
                return
            }
            move(desired, into: source)
        }
        emit(BPF.atomic(size, base, offset, source, imm: BPF.atomicCompareExchange))
        let d = target(dst)
        if d != Scratch.first { emit(BPF.mov(d, Scratch.first)) }
        finish(dst, d)
    }

    private mutating func binary(_ dst: Temp, _ op: BinaryOperator, _ width: ALUWidth, _ a: Value, _ b: Value) {
        let signed: Bool
        switch op {
        case .sdiv, .smod:
            precondition(cpu == .v4, "signed division must be lowered before code generation at -mcpu=v3")
            signed = true
        case .add, .sub, .mul, .udiv, .umod, .and, .or, .xor, .shl, .lshr, .ashr:
            signed = false
        }
        let offset: Int16 = signed ? 1 : 0
        let d = target(dst)
        var (op, a, b) = (op, a, b)
        // `d -= K` becomes `d += -K`, as clang writes it: the verifier refuses any subtraction
        // from a stack pointer, and which Temps hold pointers is not known here.
        if op == .sub, case .constant(let c) = b, immediate(0 &- c, width) != nil {
            (op, b) = (.add, .constant(0 &- c))
        }
        // A product by a power of two is a shift, and an unsigned quotient or remainder by one a
        // shift or a mask, as clang emits them: the JIT's imul and div cost more than a shift or an
        // and, on every iteration of a loop that scales an index.
        if case .constant(let c) = b, let k = powerOfTwoExponent(c, width), k > 0 {
            switch op {
            case .mul: (op, b) = (.shl, .constant(Int64(k)))
            case .udiv: (op, b) = (.lshr, .constant(Int64(k)))
            case .umod where k <= 31: (op, b) = (.and, .constant((1 << Int64(k)) - 1))
            case .add, .sub, .umod, .sdiv, .smod, .and, .or, .xor, .shl, .lshr, .ashr: break
            }
        }
        // `d = a; d op= b` would overwrite b if it lives in d; a commutative operation just swaps.
        if op.isCommutative, case .temp(let t) = b, home(t) == .register(d), a != b {
            swap(&a, &b)
        }

        enum Operand { case register(Register), immediate(Int32) }
        let rhs: Operand
        if case .constant(let c) = b, let imm = aluImmediate(op, c, width) {
            rhs = .immediate(imm)
        } else {
            var r = read(b, into: Scratch.second)
            if r == d && a != b {
                emit(BPF.mov(Scratch.second, r))
                r = Scratch.second
            }
            rhs = .register(r)
        }
        if case .constant(let c) = a, width == .bits32 {
            // The low 32 bits are all a 32-bit operation reads; `w = imm` never needs ld_imm64.
            emit(BPF.alu(Opcode.mov, .bits32, d, imm: Int32(truncatingIfNeeded: c)))
        } else {
            move(a, into: d)
        }
        switch rhs {
        case .register(let r): emit(BPF.alu(BPF.aluOp(op), width, d, r, offset: offset))
        case .immediate(let imm): emitRelocated(BPF.alu(BPF.aluOp(op), width, d, imm: imm, offset: offset))
        }
        finish(dst, d)
    }

    /// k where `c`, as the operation's width reads it unsigned, is 2^k.
    private func powerOfTwoExponent(_ c: Int64, _ width: ALUWidth) -> Int? {
        let unsigned = width == .bits32 ? UInt64(UInt32(truncatingIfNeeded: c)) : UInt64(bitPattern: c)
        return unsigned != 0 && unsigned & (unsigned - 1) == 0 ? unsigned.trailingZeroBitCount : nil
    }

    /// The immediate form of constant `c` as right operand, if the instruction can hold it.
    private func aluImmediate(_ op: BinaryOperator, _ c: Int64, _ width: ALUWidth) -> Int32? {
        switch op {
        case .shl, .lshr, .ashr:
            // The verifier rejects immediate shifts past the width; a register shift masks the
            // amount, so mask it the same way.
            return Int32(c & (width == .bits32 ? 31 : 63))
        case .udiv, .umod, .sdiv, .smod:
            // An immediate divisor of 0 (also one whose low 32 bits are 0, at 32 bits) is rejected
            // ("div by zero"); the register form yields BPF's defined result at run time.
            guard let imm = immediate(c, width), imm != 0 else { return nil }
            return imm
        case .add, .sub, .mul, .and, .or, .xor:
            return immediate(c, width)
        }
    }

    /// A store; `release` makes it a store_release, which takes its value in a register only.
    /// A constant is stored as BPF_ST's immediate at v4, and into the stack and a global (not an
    /// arena's) at v3 too: the verifier knows the value stored either way (kernel 6.3 on), while
    /// a ctx store of an immediate is refused before 6.3.
    private mutating func store(_ address: Address, _ value: Value, _ size: MemorySize, space: Int,
                                release: Bool = false) {
        let immediateAllowed: Bool
        switch address {
        case .slot: immediateAllowed = true
        case .temp(let base, _): immediateAllowed = cpu == .v4 || (space == 0 && globalAddresses.contains(base))
        }
        if immediateAllowed, !release, case .constant(let c) = value, let imm = storedImmediate(c, size) {
            let (base, offset) = addressOperand(address, scratch: Scratch.first)
            emitRelocated(BPF.storeImmediate(size, base, offset, imm: imm))
            return
        }
        let source = read(value, into: Scratch.second)
        let (base, offset) = addressOperand(address, scratch: Scratch.first)
        emitRelocated(release ? BPF.storeRelease(size, base, offset, source) : BPF.store(size, base, offset, source))
    }

    /// The immediate of a BPF_ST storing the low `size` bytes of `c`: exactly the bytes stored for a
    /// byte or half word (the verifier keeps a stored immediate's value only when it fits the store),
    /// the low word for a word, and `c` itself for a double word when it fits the sign-extended imm.
    private func storedImmediate(_ c: Int64, _ size: MemorySize) -> Int32? {
        switch size {
        case .byte: return Int32(UInt8(truncatingIfNeeded: c))
        case .half: return Int32(UInt16(truncatingIfNeeded: c))
        case .word: return Int32(truncatingIfNeeded: c)
        case .double: return Int32(exactly: c)
        }
    }

    /// Arguments into r1-r5 (a parallel move, since an argument may sit in another argument's
    /// register), the call, then the result out of r0.
    private mutating func call(_ dst: Temp?, _ callee: Callee, _ arguments: [Value]) {
        let registers: [Register] = [.r1, .r2, .r3, .r4, .r5]
        if arguments.count > registers.count {
            diagnostics.append(.error("call with \(arguments.count) arguments: BPF passes at most 5, in r1-r5",
                                      at: location))
        }
        var moves: [(to: Register, from: Register)] = []
        var rest: [(Register, Value)] = []
        for (argument, register) in zip(arguments, registers) {
            if case .temp(let t) = argument, case .register(let r) = home(t) {
                moves.append((register, r))
            } else {
                rest.append((register, argument))
            }
        }
        parallelMove(moves)
        for (register, argument) in rest { move(argument, into: register) }

        switch callee {
        case .helper(let number):
            emit(BPF.helperCall(number))
        case .function(let name), .kfunc(let name):
            lines.append(MachineLine(instruction: .relocatedCall(symbol: name), location: location, note: note))
        }
        if let dst {
            let d = target(dst)
            if d != .r0 { emit(BPF.mov(d, .r0)) }
            finish(dst, d)
        }
    }

    private mutating func setCondition(_ dst: Temp, _ condition: Condition, _ width: ALUWidth,
                                       _ a: Value, _ b: Value) {
        if case .constant(let x) = a, case .constant(let y) = b {
            assign(dst, constant: condition.holds(width, x, y) ? 1 : 0)
            return
        }
        let (opcode, lhs, rhs, imm) = comparison(condition, width, a, b)
        let d = target(dst)
        if d != lhs && d != rhs {
            emit(BPF.alu(Opcode.mov, .bits64, d, imm: 1))
            emit(BPF.jump(opcode, lhs, rhs ?? .r0, imm: imm, offset: 1))
            emit(BPF.alu(Opcode.mov, .bits64, d, imm: 0))
        } else {
            // d holds an operand: compare first, write d on both paths.
            emit(BPF.jump(opcode, lhs, rhs ?? .r0, imm: imm, offset: 2))
            emit(BPF.alu(Opcode.mov, .bits64, d, imm: 0))
            emit(BPF.jump(BPF.ja, .r0, .r0, imm: 0, offset: 1))
            emit(BPF.alu(Opcode.mov, .bits64, d, imm: 1))
        }
        finish(dst, d)
    }

    /// A conditional jump's opcode and operands for `a cond b`, at least one a Temp: the left
    /// operand in a register (swapping the operands when only the right one is a Temp), the right
    /// one an immediate when it fits (then `rhs` is r0, unused, and not a register to protect).
    private mutating func comparison(_ condition: Condition, _ width: ALUWidth, _ a: Value, _ b: Value)
        -> (opcode: UInt8, lhs: Register, rhs: Register?, imm: Int32)
    {
        var (condition, a, b) = (condition, a, b)
        if case .constant = a {
            (condition, a, b) = (condition.swapped, b, a)
        }
        let lhs = read(a, into: Scratch.first)
        let base = BPF.jumpClass(width) | BPF.jumpOp(condition)
        if case .constant(let c) = b, let imm = immediate(c, width) {
            return (base | Opcode.sourceK, lhs, nil, imm)
        }
        return (base | Opcode.sourceX, lhs, read(b, into: Scratch.second), 0)
    }

    // MARK: - Terminators

    private mutating func select(_ terminator: Terminator, next: BlockID?, at site: InstructionSite) {
        // A branch keeps a Temp to compare: one between constants would be left out, and the
        // block laid out for its other side would be unreachable, which the verifier rejects.
        let terminator = { () -> Terminator in
            let mapped = terminator.mapped(value: substituted)
            switch mapped {
            case .branch(_, _, .constant, .constant, _, _), .inlineAsmGoto: return terminator
            case .branch, .return, .jump, .mayGoto: return mapped
            }
        }()
        switch terminator {
        case .jump(let target):
            if target != next { jump(to: target) }

        case .branch(let condition, let width, let a, let b, let then, let otherwise):
            if case .constant(let x) = a, case .constant(let y) = b {
                let target = condition.holds(width, x, y) ? then : otherwise
                if target != next { jump(to: target) }
                return
            }
            // Fall through into whichever successor comes next.
            let (taken, fallThrough, tested) = then == next
                ? (otherwise, then, condition.negated) : (then, otherwise, condition)
            let (opcode, lhs, rhs, imm) = comparison(tested, width, a, b)
            lines.append(MachineLine(instruction: .jump(opcode: opcode, dst: lhs, src: rhs ?? .r0, imm: imm,
                                                        target: taken),
                                     location: location, note: note))
            if fallThrough != next { jump(to: fallThrough) }

        case .return(let value):
            move(value ?? .constant(0), into: .r0)
            emit(BPF.exit)

        case .mayGoto(let bail, let continuation):
            lines.append(MachineLine(instruction: .jump(opcode: BPF.mayGoto, dst: .r0, src: .r0, imm: 0, target: bail),
                                     location: location, note: note))
            if continuation != next { jump(to: continuation) }

        case .inlineAsmGoto(let asm, let labels, let continuation):
            inlineAsm(asm, at: site, labels: labels)
            if continuation != next { jump(to: continuation) }
        }
    }

    private mutating func jump(to target: BlockID) {
        lines.append(MachineLine(instruction: .jump(opcode: BPF.ja, dst: .r0, src: .r0, imm: 0, target: target),
                                 location: location, note: note))
    }

    // MARK: - Operands

    private func isRematerialized(_ t: Temp) -> Bool {
        if case .rematerialized = assignment.location(of: t) { return true }
        return false
    }

    /// The operation with its rematerialized constants as constants and its rematerialized slot
    /// addresses as slots, which instructions take as immediates and as offsets from r10. Inline
    /// asm keeps its operands: the allocator chose their registers as they are.
    private func substituted(_ operation: Operation) -> Operation {
        if case .inlineAsm = operation { return operation }
        return operation.mapped(defined: { $0 }, value: substituted, address: { address in
            if case .temp(let t, let displacement) = address,
               case .rematerialized(.slotAddress(let slot, let offset)) = assignment.location(of: t) {
                return .slot(slot, offset: offset + displacement)
            }
            return address
        })
    }

    private func substituted(_ value: Value) -> Value {
        if case .temp(let t) = value, case .rematerialized(.constant(let c)) = assignment.location(of: t) {
            return .constant(c)
        }
        return value
    }

    /// Loads the spilled Temps the instruction being selected reads first in a run of reads, and
    /// computes the rematerialized ones, into the registers that hold them for the run.
    private mutating func reload() {
        guard let site, let reloads = assignment.reloads[site] else { return }
        for (t, r) in reloads.sorted(by: { $0.key < $1.key }) {
            switch assignment.location(of: t) {
            case .spill(let slot): emit(BPF.load(.double, r, .r10, Int16(frame.spillOffsets[slot])))
            case .rematerialized(let value): materialize(value, into: r)
            case .register: preconditionFailure("\(t) is reloaded but lives in a register")
            }
        }
    }

    /// Where `t` is read and written by the instruction being selected, as the allocator decided:
    /// a spilled Temp may be held in a register there.
    private func home(_ t: Temp) -> Home {
        if let site, let r = assignment.residentRegisters[site]?[t] { return .register(r) }
        switch assignment.location(of: t) {
        case .register(let r): return .register(r)
        case .spill(let slot): return .stack(Int16(frame.spillOffsets[slot]))
        case .rematerialized(let value): return .rematerialized(value)
        }
    }

    private enum Home: Equatable {
        case register(Register)
        /// Offset of an 8-byte spill slot from r10.
        case stack(Int16)
        /// Computed again at each read; never written.
        case rematerialized(Rematerialization)
    }

    /// The register `value` can be read from: its own, or `scratch` after loading it there.
    private mutating func read(_ value: Value, into scratch: Register) -> Register {
        switch value {
        case .constant(let c):
            materialize(c, into: scratch)
            return scratch
        case .temp(let t):
            switch home(t) {
            case .register(let r):
                return r
            case .stack(let offset):
                // Just stored from `scratch` (computed there, then spilled), it is still there.
                if case .plain(let last)? = lines.last?.instruction, last == BPF.store(.double, .r10, offset, scratch) {
                    return scratch
                }
                emit(BPF.load(.double, scratch, .r10, offset))
                return scratch
            case .rematerialized(let value):
                materialize(value, into: scratch)
                return scratch
            }
        }
    }

    /// Puts `value` in register `r`.
    private mutating func move(_ value: Value, into r: Register) {
        let source = read(value, into: r)
        if source != r { emit(BPF.mov(r, source)) }
    }

    /// Computes a value that reads no register and no memory: where it is defined, and again where
    /// it is read when the Temp is rematerialized.
    private mutating func materialize(_ value: Rematerialization, into r: Register) {
        switch value {
        case .constant(let c):
            materialize(c, into: r)
        case .symbolAddress(let symbol, let offset):
            if let imm = int32(offset) {
                lines.append(MachineLine(instruction: .symbolAddress(r, symbol: symbol, offset: imm),
                                         location: location, note: note))
            }
        case .slotAddress(let slot, let offset):
            emit(BPF.mov(r, .r10))
            if let imm = int32(frame.slotOffsets[slot.index] + offset) {
                emit(BPF.alu(Opcode.add, .bits64, r, imm: imm))
            }
        }
    }

    private mutating func materialize(_ c: Int64, into r: Register) {
        if let imm = Int32(exactly: c) {
            emit(BPF.alu(Opcode.mov, .bits64, r, imm: imm))
        } else {
            lines.append(MachineLine(instruction: .loadImm64(r, c), location: location, note: note))
        }
    }

    /// The register to compute `t` in: its own, or r0 when it is spilled (then `finish` stores it).
    private func target(_ t: Temp) -> Register {
        switch home(t) {
        case .register(let r): return r
        case .stack: return Scratch.first
        case .rematerialized: preconditionFailure("\(t) is rematerialized: its definitions are left out")
        }
    }

    /// Stores `t`, computed in `r`, to its spill slot if it has one.
    private mutating func finish(_ t: Temp, _ r: Register) {
        if case .spill(let slot) = assignment.location(of: t) {
            emit(BPF.store(.double, .r10, Int16(frame.spillOffsets[slot]), r))
        }
    }

    /// `dst = value`.
    private mutating func assign(_ dst: Temp, _ value: Value) {
        if case .constant(let c) = value {
            assign(dst, constant: c)
            return
        }
        let d = target(dst)
        move(value, into: d)
        finish(dst, d)
    }

    private mutating func assign(_ dst: Temp, constant c: Int64) {
        if case .stack(let offset) = home(dst), cpu == .v4, let imm = Int32(exactly: c) {
            emit(BPF.storeImmediate(.double, .r10, offset, imm: imm))
            return
        }
        let d = target(dst)
        materialize(c, into: d)
        finish(dst, d)
    }

    /// Base register and 16-bit offset for `address`; an offset too wide for the instruction is
    /// added into `scratch` first.
    private mutating func addressOperand(_ address: Address, scratch: Register) -> (Register, Int16) {
        let base: Register
        let offset: Int
        switch address {
        case .slot(let slot, let displacement):
            base = .r10
            offset = frame.slotOffsets[slot.index] + displacement
        case .temp(let t, let displacement):
            base = read(.temp(t), into: scratch)
            offset = displacement
        }
        if let narrow = Int16(exactly: offset) { return (base, narrow) }
        guard let wide = int32(offset) else { return (base, 0) }
        if base != scratch { emit(BPF.mov(scratch, base)) }
        emit(BPF.alu(Opcode.add, .bits64, scratch, imm: wide))
        return (scratch, 0)
    }

    /// A constant as a 32-bit immediate of an instruction of `width`: ALU64 and JMP sign-extend
    /// the immediate, so it must fit s32; ALU32 and JMP32 use only the low 32 bits of anything.
    private func immediate(_ c: Int64, _ width: ALUWidth) -> Int32? {
        switch width {
        case .bits64: return Int32(exactly: c)
        case .bits32: return Int32(truncatingIfNeeded: c)
        }
    }

    /// An offset that must fit an instruction's 32-bit immediate; reports it otherwise.
    private mutating func int32(_ value: Int) -> Int32? {
        if let v = Int32(exactly: value) { return v }
        diagnostics.append(.error("offset \(value) does not fit in a BPF instruction's 32-bit immediate",
                                  at: location))
        return nil
    }

    private mutating func emit(_ instruction: Instruction) {
        lines.append(MachineLine(instruction: .plain(instruction), location: location, note: note))
    }

    /// Emits the instruction whose offset or immediate holds the CO-RE value the IR instruction
    /// being selected relocates, if any, with its record.
    private mutating func emitRelocated(_ instruction: Instruction) {
        lines.append(MachineLine(instruction: .plain(instruction), location: location, note: note,
                                 coreRelocation: relocation))
        relocation = nil
    }

    /// Makes every `to` register hold what its `from` register held before any of the moves, using
    /// r0 to break cycles (r0 holds no Temp here: it is scratch, and arguments never live in it).
    private mutating func parallelMove(_ moves: [(to: Register, from: Register)]) {
        var pending = moves.filter { $0.to != $0.from }
        while !pending.isEmpty {
            if let ready = pending.firstIndex(where: { move in !pending.contains { $0.from == move.to } }) {
                emit(BPF.mov(pending[ready].to, pending[ready].from))
                pending.remove(at: ready)
            } else {
                let parked = pending[0].from
                emit(BPF.mov(Scratch.first, parked))
                for i in pending.indices where pending[i].from == parked { pending[i].from = Scratch.first }
            }
        }
    }
}

/// A constant as an operation of `width` leaves it: 32-bit results are zero-extended (or, for
/// signed comparison, sign-extended) from the low half.
private func normalized(_ c: Int64, _ width: ALUWidth, signed: Bool = false) -> Int64 {
    switch width {
    case .bits64: return c
    case .bits32: return signed ? Int64(Int32(truncatingIfNeeded: c)) : Int64(UInt32(truncatingIfNeeded: c))
    }
}

