import BPFDiagnostics
import BPFIR
import BPFInstructions
import IRTestSupport
import Testing
@testable import CodeGen
@testable import Passes

/// Runs the passes code generation needs (not the arena checks, which want a whole object).
private func compile(_ function: Function, cpu: CPUVersion = .v3) throws -> CompiledFunction {
    var module = Module(functions: [function])
    if cpu == .v3 { lowerSignedDivision(&module) }
    lowerAggregates(&module)
    return try compileFunction(module.functions[0], in: module, cpu: cpu)
}

private func single(_ instructions: [IRInstruction], parameters: Int, tempCount: Int, result: Value?,
                    slots: [StackSlot] = []) -> Function {
    testFunction(parameters: parameters, tempCount: tempCount,
                 blocks: [Block(id: BlockID(0), instructions: instructions, terminator: .return(result))], slots: slots)
}

/// `instructions`, which compute %1-%12, then a call and the twelve added up after it, in Temps
/// from `next` on (the call's result first); the function's parameter is %0.
private func summedAfterACall(_ instructions: [IRInstruction], next: Int) -> Function {
    var instructions = instructions
    instructions.append(ir(.call(Temp(next), .helper(5), [])))
    var sum = Temp(next)
    for k in 1...12 {
        instructions.append(ir(.binary(Temp(next + k), .add, .bits64, .temp(sum), .temp(Temp(k)))))
        sum = Temp(next + k)
    }
    return single(instructions, parameters: 1, tempCount: next + 13, result: .temp(sum))
}

private func isALU32(_ i: Instruction) -> Bool { Opcode.classOf(i.opcode) == Opcode.classALU }
private let preserved: Set<Register> = [.r6, .r7, .r8, .r9]

@Suite struct InstructionSelectionTests {
    @Test func widthsAndImmediates() throws {
        let f = single([
            ir(.binary(Temp(2), .add, .bits64, .temp(Temp(0)), .temp(Temp(1)))),
            ir(.binary(Temp(3), .mul, .bits32, .temp(Temp(2)), .constant(0x1_0000_0005))),
            ir(.binary(Temp(4), .add, .bits64, .temp(Temp(3)), .constant(0x1234_5678_9abc))),
        ], parameters: 2, tempCount: 5, result: .temp(Temp(4)))
        let code = try compile(f).instructions
        // Only the bits32 multiply is ALU32; its immediate is the low 32 bits of the constant.
        #expect(code.filter(isALU32) == [Instruction(opcode: 0x24, dst: code.first(where: isALU32)?.dst ?? .r0, imm: 5)])
        #expect(code.contains { $0.opcode == 0x0f })  // 64-bit add, register source
        let wide = try #require(code.firstIndex { $0.isLoadImm64 })
        #expect(code[wide].imm == 0x5678_9abc && code[wide + 1].imm == 0x1234)
        #expect(code.last == BPF.exit)
    }

    /// By a power of two, a product is a left shift, an unsigned quotient a right shift and an
    /// unsigned remainder a mask (read at the operation's width); a signed quotient, at v4, is not.
    @Test func powersOfTwoBecomeShiftsAndMasks() throws {
        let cases: [(BinaryOperator, ALUWidth, Int64, opcode: UInt8, imm: Int32)] = [
            (.mul, .bits64, 8, 0x67, 3),                // BPF_ALU64 | BPF_LSH | BPF_K
            (.mul, .bits32, 0x1_0000_0008, 0x64, 3),    // BPF_ALU | BPF_LSH | BPF_K: the low half is 8
            (.udiv, .bits32, 16, 0x74, 4),              // BPF_ALU | BPF_RSH | BPF_K
            (.udiv, .bits64, 1 << 40, 0x77, 40),        // BPF_ALU64 | BPF_RSH | BPF_K
            (.umod, .bits64, 32, 0x57, 31),             // BPF_ALU64 | BPF_AND | BPF_K
            (.umod, .bits32, 1 << 31, 0x54, 0x7fff_ffff),  // BPF_ALU | BPF_AND | BPF_K
            (.sdiv, .bits64, 4, 0x37, 4),               // BPF_ALU64 | BPF_DIV | BPF_K, offset 1
            (.mul, .bits64, 12, 0x27, 12),              // not a power of two: BPF_ALU64 | BPF_MUL | BPF_K
        ]
        for (op, width, c, opcode, imm) in cases {
            let f = single([ir(.binary(Temp(1), op, width, .temp(Temp(0)), .constant(c)))],
                           parameters: 1, tempCount: 2, result: .temp(Temp(1)))
            let code = try compile(f, cpu: .v4).instructions
            let arithmetic = code.filter {
                [Opcode.classALU, Opcode.classALU64].contains(Opcode.classOf($0.opcode)) && $0.opcode & 0xf0 != Opcode.mov
            }
            #expect(arithmetic.map { [Int64($0.opcode), Int64($0.imm)] } == [[Int64(opcode), Int64(imm)]], "\(op) \(width) \(c)")
        }
    }

    /// `x = 1000; if (v > 1000) goto join; x = v; join: return x`: the else side, which only
    /// jumps to the join, is laid out before it and falls through into it, so the only jump is
    /// the branch (placing the join first left `goto join` after the branch and `goto` back).
    @Test func aTriangleNeedsOneJump() throws {
        let f = testFunction(parameters: 1, tempCount: 2, blocks: [
            Block(id: BlockID(0), instructions: [ir(.copy(Temp(1), .constant(1000)))],
                  terminator: .branch(.sgt, .bits64, .temp(Temp(0)), .constant(1000), then: BlockID(2), else: BlockID(1))),
            Block(id: BlockID(1), instructions: [ir(.copy(Temp(1), .temp(Temp(0))))], terminator: .jump(BlockID(2))),
            Block(id: BlockID(2), instructions: [ir(.binary(Temp(1), .add, .bits64, .temp(Temp(1)), .constant(1)))],
                  terminator: .return(.temp(Temp(1)))),
        ])
        let code = try compile(f).instructions
        #expect(code.filter { Opcode.classOf($0.opcode) == Opcode.classJMP && $0 != BPF.exit }.count == 1, "\(code)")
    }

    @Test func extensionsPerCPU() throws {
        let f = single([
            ir(.signExtend(Temp(1), .temp(Temp(0)), fromBits: 16)),
            ir(.zeroExtend(Temp(2), .temp(Temp(1)), fromBits: 32)),
            ir(.zeroExtend(Temp(3), .temp(Temp(2)), fromBits: 8)),
        ], parameters: 1, tempCount: 4, result: .temp(Temp(3)))
        let v3 = try compile(f, cpu: .v3).instructions
        #expect(v3.filter { $0.opcode == 0x67 || $0.opcode == 0xc7 }.map(\.imm) == [48, 48])  // lsh, arsh
        #expect(v3.contains { $0.opcode == 0xbc })  // wD = wS
        #expect(v3.contains { $0.opcode == 0x57 && $0.imm == 0xff })
        let v4 = try compile(f, cpu: .v4).instructions
        #expect(v4.contains { $0.opcode == 0xbf && $0.offset == 16 })  // movsx
        #expect(!v4.contains { $0.opcode == 0x67 })
    }

    @Test func signedDivisionPerCPU() throws {
        let f = single([ir(.binary(Temp(2), .sdiv, .bits64, .temp(Temp(0)), .temp(Temp(1))))],
                       parameters: 2, tempCount: 3, result: .temp(Temp(2)))
        #expect(try compile(f, cpu: .v4).instructions.contains { $0.opcode == 0x3f && $0.offset == 1 })
        let v3 = try compile(f, cpu: .v3).instructions
        #expect(v3.contains { $0.opcode == 0x3f && $0.offset == 0 })
        #expect(!v3.contains { ($0.opcode & 0xf0 == 0x30 || $0.opcode & 0xf0 == 0x90) && $0.offset != 0 })
    }

    @Test func callsKeepLiveValuesInPreservedRegisters() throws {
        let f = single([
            ir(.call(Temp(2), .function("g"), [.temp(Temp(1))])),
            ir(.call(Temp(3), .helper(8), [])),
            ir(.call(nil, .kfunc("bpf_arena_alloc_pages"), [.temp(Temp(3))])),
            ir(.binary(Temp(4), .add, .bits64, .temp(Temp(0)), .temp(Temp(2)))),
        ], parameters: 2, tempCount: 5, result: .temp(Temp(4)))
        let compiled = try compile(f)
        let code = compiled.instructions
        #expect(compiled.relocations.map(\.symbol) == ["g", "bpf_arena_alloc_pages"])
        for relocation in compiled.relocations {
            #expect(code[relocation.instructionIndex] == Instruction(opcode: 0x85, src: .r1, imm: -1))
        }
        #expect(code.contains(Instruction(opcode: 0x85, imm: 8)))
        // %0 and %2 survive calls, so they are read from preserved registers after the last call.
        let add = try #require(code.lastIndex { $0.opcode == 0x0f })
        #expect(preserved.contains(code[add].src))
        let left = code[add - 1].opcode == 0xbf ? code[add - 1].src : code[add].dst
        #expect(preserved.contains(left))
    }

    @Test func highPressureSpillsEightBytesAtATime() throws {
        let values = 14
        var instructions = (0..<values).map {
            ir(.binary(Temp(1 + $0), .mul, .bits64, .temp(Temp(0)), .constant(Int64($0 + 3))))
        }
        for i in 1..<values {
            instructions.append(ir(.binary(Temp(1), .add, .bits64, .temp(Temp(1)), .temp(Temp(1 + i)))))
        }
        let compiled = try compile(single(instructions, parameters: 1, tempCount: values + 1, result: .temp(Temp(1))))
        let stack = compiled.instructions.filter { $0.dst == .r10 || $0.src == .r10 }
        // r1-r4, r6-r9 and, where no instruction needs it as scratch, r0 hold up to nine.
        #expect(compiled.stackSize >= 8 * (values - 9))
        #expect(!stack.isEmpty)
        #expect(stack.allSatisfy { $0.opcode == 0x7b || $0.opcode == 0x79 })  // stx/ldx DW
    }

    @Test func slotAddressAndFrame() throws {
        let slots = [StackSlot(size: 12, alignment: 4, name: "a", location: nil),
                     StackSlot(size: 8, alignment: 8, name: "b", location: nil)]
        let f = single([ir(.slotAddress(Temp(0), SlotID(1), offset: 4)),
                        ir(.store(.slot(SlotID(0), offset: 0), .constant(7), .word, addressSpace: 0))],
                       parameters: 0, tempCount: 1, result: .temp(Temp(0)), slots: slots)
        let v3 = try compile(f, cpu: .v3)
        #expect(v3.stackSize == 24)
        let mov = try #require(v3.instructions.firstIndex { $0.opcode == 0xbf && $0.src == .r10 })
        #expect(v3.instructions[mov + 1] == Instruction(opcode: 0x07, dst: v3.instructions[mov].dst, imm: -24 + 4))
        // A constant stored into the stack is BPF_ST's immediate at v3 as at v4 (st W).
        #expect(v3.instructions.contains(Instruction(opcode: 0x62, dst: .r10, offset: -12, imm: 7)))
        #expect(try compile(f, cpu: .v4).instructions.contains(Instruction(opcode: 0x62, dst: .r10, offset: -12, imm: 7)))
    }

    /// A constant stored into a global is BPF_ST's immediate at v3 too (a map value); into an
    /// arena global (address space 1) or through a pointer that may be ctx it goes through a register.
    @Test(arguments: [(0, true), (1, false)])
    func constantsStoredIntoGlobalsAreImmediates(space: Int, immediate: Bool) throws {
        let f = single([ir(.symbolAddress(Temp(1), symbol: "g", offset: 0)),
                        ir(.store(.temp(Temp(1), offset: 8), .constant(5), .double, addressSpace: space)),
                        ir(.store(.temp(Temp(0), offset: 0), .constant(6), .double, addressSpace: 0))],
                       parameters: 1, tempCount: 2, result: nil)
        let code = try compile(f, cpu: .v3).instructions
        let stored = code.filter { $0.opcode == 0x7a }.map(\.imm)
        #expect(stored == (immediate ? [5] : []), "\(code)")
    }

    /// A byte or half word stored as an immediate carries only the bytes stored: `(u8)270` is 14.
    @Test func narrowImmediateStoresCarryTheStoredBytes() throws {
        let slots = [StackSlot(size: 8, alignment: 8, name: "b", location: nil)]
        let f = single([ir(.store(.slot(SlotID(0), offset: 0), .constant(270), .byte, addressSpace: 0)),
                        ir(.store(.slot(SlotID(0), offset: 2), .constant(-2), .half, addressSpace: 0))],
                       parameters: 0, tempCount: 0, result: nil, slots: slots)
        let code = try compile(f, cpu: .v3).instructions
        #expect(code.contains(Instruction(opcode: 0x72, dst: .r10, offset: -8, imm: 14)))
        #expect(code.contains(Instruction(opcode: 0x6a, dst: .r10, offset: -6, imm: 0xfffe)))
    }

    /// Twelve values live at once do not fit in r6-r9 across a call: some are spilled. A value
    /// stored to its slot right after being computed is not loaded back into the same register.
    @Test func aValueJustSpilledIsNotReloaded() throws {
        var instructions: [IRInstruction] = []
        // Each value computed from the one before: a spilled one is read right after its store.
        for k in 1...12 {
            instructions.append(ir(.binary(Temp(k), .mul, .bits64, .temp(Temp(k - 1)), .constant(3))))
        }
        let code = try compile(summedAfterACall(instructions, next: 13), cpu: .v3).instructions
        #expect(code.contains { $0.opcode == 0x7b && $0.dst == .r10 }, "nothing was spilled")
        for (store, load) in zip(code, code.dropFirst()) where store.opcode == 0x7b && store.dst == .r10 {
            #expect(!(load.opcode == 0x79 && load.src == .r10 && load.offset == store.offset && load.dst == store.src))
        }
    }

    /// Twelve values live at once, each at its end masked, shifted and added: the chain of one
    /// value is joined with it (each step a copy into the next), but a chain that would be spilled
    /// whole is taken apart again, so a spilled value is stored once, where it is computed, and its
    /// short steps run in a register.
    @Test func aSpilledValueIsStoredOnce() throws {
        var instructions: [IRInstruction] = []
        for k in 1...12 {
            instructions.append(ir(.binary(Temp(k), .mul, .bits64, .temp(Temp(0)), .constant(Int64(k + 2)))))
        }
        var sum = Temp(0)
        for k in 1...12 {
            let (masked, shifted, total) = (Temp(10 + 3 * k), Temp(11 + 3 * k), Temp(12 + 3 * k))
            instructions.append(ir(.binary(masked, .and, .bits64, .temp(Temp(k)), .constant(0xff))))
            instructions.append(ir(.binary(shifted, .shl, .bits64, .temp(masked), .constant(Int64(k)))))
            instructions.append(ir(.binary(total, .add, .bits64, .temp(sum), .temp(shifted))))
            sum = total
        }
        let f = single(instructions, parameters: 1, tempCount: 49, result: .temp(sum))
        let code = try compile(f, cpu: .v3).instructions
        let stores = code.filter { $0.opcode == 0x7b && $0.dst == .r10 }.map(\.offset)
        #expect(!stores.isEmpty, "nothing was spilled")
        #expect(stores.count == Set(stores).count, "\(code)")
    }

    /// Twelve values live across a call, each also added up right after it is computed: those
    /// spilled are stored once and loaded once, after the call; the first read takes the register
    /// the value was computed in.
    @Test func aSpilledValueIsReadFromItsRegisterRightAfterItsWrite() throws {
        var instructions: [IRInstruction] = []
        var early = Temp(0)
        for k in 1...12 {
            instructions.append(ir(.binary(Temp(k), .mul, .bits64, .temp(Temp(0)), .constant(Int64(k + 2)))))
            instructions.append(ir(.binary(Temp(12 + k), .add, .bits64, .temp(early), .temp(Temp(k)))))
            early = Temp(12 + k)
        }
        instructions.append(ir(.call(Temp(25), .helper(5), [])))
        var late = Temp(25)
        for k in 1...12 {
            instructions.append(ir(.binary(Temp(25 + k), .add, .bits64, .temp(late), .temp(Temp(k)))))
            late = Temp(25 + k)
        }
        instructions.append(ir(.binary(Temp(38), .xor, .bits64, .temp(late), .temp(early))))
        let f = single(instructions, parameters: 1, tempCount: 39, result: .temp(Temp(38)))
        let code = try compile(f, cpu: .v3).instructions
        let stores = code.filter { $0.opcode == 0x7b && $0.dst == .r10 }.map(\.offset)
        let loads = code.filter { $0.opcode == 0x79 && $0.src == .r10 }.map(\.offset)
        #expect(!stores.isEmpty, "nothing was spilled")
        #expect(loads.count == Set(loads).count, "\(code)")
    }

    /// `before`, twelve values live across a call (r6-r9 hold four), `after`, and the values
    /// added up at the end; the function's parameter is %0, the Temps of `before` and `after`
    /// start at %100.
    private func underPressure(before: [IRInstruction], after: [IRInstruction],
                               slots: [StackSlot] = []) throws -> [Instruction] {
        var instructions = before
        instructions += (1...12).map { k in
            ir(.binary(Temp(k), .mul, .bits64, .temp(Temp(0)), .constant(Int64(k + 2))))
        }
        instructions.append(ir(.call(Temp(13), .helper(5), [])))
        instructions += after
        for k in 1...12 {
            instructions.append(ir(.binary(Temp(13 + k), .add, .bits64, .temp(Temp(12 + k)), .temp(Temp(k)))))
        }
        let f = single(instructions, parameters: 1, tempCount: 200, result: .temp(Temp(25)), slots: slots)
        return try compile(f, cpu: .v3).instructions
    }

    /// A global's address, taken before the call and read after it, is kept neither in a
    /// register nor in a spill slot across the call: the `ld_imm64` moves to the read.
    @Test func aGlobalsAddressIsRematerializedWhereItIsRead() throws {
        let code = try underPressure(
            before: [ir(.symbolAddress(Temp(100), symbol: "g", offset: 0))],
            after: [ir(.store(.temp(Temp(100), offset: 8), .temp(Temp(13)), .double, addressSpace: 0))])
        let call = try #require(code.firstIndex { $0.opcode == 0x85 })
        let addresses = code.indices.filter { code[$0].opcode == 0x18 }
        #expect(addresses.count == 1 && addresses.allSatisfy { $0 > call }, "\(code)")
    }

    /// A constant held in a Temp across the call is the immediate of the instruction that reads
    /// it after the call, not a register or a spill slot.
    @Test func aConstantIsRematerializedAsAnImmediate() throws {
        let code = try underPressure(
            before: [ir(.copy(Temp(100), .constant(1000)))],
            after: [ir(.binary(Temp(101), .add, .bits64, .temp(Temp(13)), .temp(Temp(100)))),
                    ir(.copy(Temp(13), .temp(Temp(101))))])
        let call = try #require(code.firstIndex { $0.opcode == 0x85 })
        #expect(!code.contains { $0.imm == 1000 && $0.opcode == 0xb7 }, "\(code)")
        #expect(code[call...].contains { $0.opcode == 0x07 && $0.imm == 1000 }, "\(code)")
    }

    /// A stack slot's address held across the call: a store through it after the call goes
    /// straight off r10, a BPF_ST of the constant.
    @Test func aSlotsAddressIsRematerializedAsAnOffsetFromR10() throws {
        let slots = [StackSlot(size: 16, alignment: 8, name: "a", location: nil)]
        let code = try underPressure(
            before: [ir(.slotAddress(Temp(100), SlotID(0), offset: 0))],
            after: [ir(.store(.temp(Temp(100), offset: 4), .constant(7), .word, addressSpace: 0))],
            slots: slots)
        let call = try #require(code.firstIndex { $0.opcode == 0x85 })
        #expect(code[call...].contains { $0.opcode == 0x62 && $0.dst == .r10 && $0.imm == 7 }, "\(code)")
        #expect(!code.contains { $0.opcode == 0xbf && $0.src == .r10 }, "\(code)")
    }

    /// Twelve values live across a call, each `%0 * k + 5`: a spilled one is computed where its
    /// product was, which is not read after, and stored from there; no move into r0 first.
    @Test func aSpilledValueIsComputedInItsSourcesRegister() throws {
        var instructions: [IRInstruction] = []
        for k in 1...12 {
            instructions.append(ir(.binary(Temp(12 + k), .mul, .bits64, .temp(Temp(0)), .constant(Int64(k + 2)))))
            instructions.append(ir(.binary(Temp(k), .add, .bits64, .temp(Temp(12 + k)), .constant(5))))
        }
        let code = try compile(summedAfterACall(instructions, next: 25), cpu: .v3).instructions
        let call = try #require(code.firstIndex { $0.opcode == 0x85 })
        #expect(code[..<call].contains { $0.opcode == 0x7b && $0.dst == .r10 }, "nothing was spilled")
        #expect(!code[..<call].contains { $0.opcode == 0xbf && $0.dst == .r0 }, "\(code)")
    }

    /// A pointer kept across a call in a spill slot, and the value returned loaded through it:
    /// the pointer is reloaded into r0 and the load writes r0 after reading it, so the returned
    /// value is computed in r0, with no move before `exit`.
    @Test func aResultReadThroughASpilledPointerIsComputedInR0() throws {
        var instructions = [ir(.binary(Temp(100), .add, .bits64, .temp(Temp(0)), .constant(64)))]
        instructions += (1...12).map { k in
            ir(.binary(Temp(k), .mul, .bits64, .temp(Temp(0)), .constant(Int64(k + 2))))
        }
        instructions.append(ir(.call(Temp(13), .helper(5), [])))
        for k in 1...12 {
            instructions.append(ir(.binary(Temp(13 + k), .add, .bits64, .temp(Temp(12 + k)), .temp(Temp(k)))))
        }
        instructions += [ir(.symbolAddress(Temp(101), symbol: "g", offset: 0)),
                         ir(.store(.temp(Temp(101), offset: 0), .temp(Temp(25)), .double, addressSpace: 0)),
                         ir(.load(Temp(102), .temp(Temp(100), offset: 8), .double, addressSpace: 0))]
        let f = single(instructions, parameters: 1, tempCount: 103, result: .temp(Temp(102)))
        let code = try compile(f, cpu: .v3).instructions
        #expect(code.contains { $0.opcode == 0x79 && $0.src == .r10 }, "nothing was spilled")
        #expect(code.dropLast().last?.opcode != 0xbf, "\(code)")
    }

    /// Values spilled across the call and read three times after it, the first two in a row:
    /// one load serves the two in a row.
    @Test func aSpilledValueIsLoadedOnceForReadsInARow() throws {
        var after: [IRInstruction] = []
        for k in 1...12 {
            after.append(ir(.binary(Temp(13), .xor, .bits64, .temp(Temp(13)), .temp(Temp(k)))))
            after.append(ir(.binary(Temp(13), .add, .bits64, .temp(Temp(13)), .temp(Temp(k)))))
        }
        let code = try underPressure(before: [], after: after)
        let loads = code.filter { $0.opcode == 0x79 && $0.src == .r10 }.map(\.offset)
        #expect(!loads.isEmpty, "nothing was spilled")
        #expect(loads.count <= 2 * Set(loads).count, "\(code)")
    }

    @Test func frameOverLimitIsDiagnosed() {
        let location = SourceLocation(file: "test.c", line: 9, column: 5)
        let slots = [StackSlot(size: 400, alignment: 8, name: "big", location: location),
                     StackSlot(size: 200, alignment: 8, name: "other", location: nil)]
        // Both addresses are needed at once, so the slots cannot share bytes.
        let f = single([ir(.slotAddress(Temp(0), SlotID(0), offset: 0)), ir(.slotAddress(Temp(1), SlotID(1), offset: 0)),
                        ir(.binary(Temp(2), .sub, .bits64, .temp(Temp(0)), .temp(Temp(1))))],
                       parameters: 0, tempCount: 3, result: .temp(Temp(2)), slots: slots)
        #expect {
            try compile(f)
        } throws: { error in
            guard let list = error as? DiagnosticList else { return false }
            return list.diagnostics.first?.description
                == "test.c:1:1: error: stack frame of 'f' is 600 bytes, over BPF's 512-byte limit"
                && list.diagnostics[1] == Diagnostic(.note, "'big' takes 400 bytes", at: location)
        }
    }

    /// `q = p` and both read after: the two hold the same value wherever both are live, so they
    /// share a register and the copy is no instruction (as `barrier_var(x)`'s copies of x).
    @Test func aCopyReadAlongsideItsSourceSharesItsRegister() throws {
        let f = single([ir(.copy(Temp(1), .temp(Temp(0)))),
                        ir(.load(Temp(2), .temp(Temp(0), offset: 0), .double, addressSpace: 0)),
                        ir(.load(Temp(3), .temp(Temp(1), offset: 8), .double, addressSpace: 0)),
                        ir(.binary(Temp(4), .add, .bits64, .temp(Temp(2)), .temp(Temp(3))))],
                       parameters: 1, tempCount: 5, result: .temp(Temp(4)))
        let code = try compile(f).instructions
        #expect(!code.contains { $0.opcode == 0xbf }, "\(code)")
    }

    /// `q = p; p = q + 1` with p and q both read afterwards: the copy cannot be left out, since
    /// the two values differ after the add.
    @Test func aCopyWhoseSourceChangesKeepsItsOwnRegister() throws {
        let f = single([ir(.copy(Temp(1), .temp(Temp(0)))),
                        ir(.binary(Temp(0), .add, .bits64, .temp(Temp(0)), .constant(1))),
                        ir(.binary(Temp(2), .mul, .bits64, .temp(Temp(0)), .temp(Temp(1))))],
                       parameters: 1, tempCount: 3, result: .temp(Temp(2)))
        let code = try compile(f).instructions
        #expect(code.contains { $0.opcode == 0xbf }, "\(code)")
        let mul = try #require(code.first { $0.opcode == 0x2f })
        #expect(mul.dst != mul.src, "\(code)")
    }

    /// Nine values loaded and live at once, no call: r1-r4 and r6-r9 hold eight, and the ninth
    /// takes r0, which no instruction needs as scratch while it lives, instead of a spill slot.
    @Test func r0HoldsAValueWhereNoInstructionNeedsItAsScratch() throws {
        var instructions = (1...9).map { k in
            ir(.load(Temp(k), .temp(Temp(0), offset: 8 * k), .double, addressSpace: 0))
        }
        var sum = Temp(9)
        for k in (1...8).reversed() {
            instructions.append(ir(.binary(Temp(18 - k), .xor, .bits64, .temp(sum), .temp(Temp(k)))))
            sum = Temp(18 - k)
        }
        let f = single(instructions, parameters: 1, tempCount: 18, result: .temp(sum))
        let code = try compile(f).instructions
        #expect(!code.contains { $0.dst == .r10 || $0.src == .r10 }, "\(code)")
    }

    /// `n = i - 1; old = i; i = n` (`i--` as a value) with old and i both read after: the copy
    /// into old moves above the subtraction, which then computes in i's register, so the copy
    /// into old is the only move (not also `n = i` and `i = n`).
    @Test func aPostDecrementNeedsOneMove() throws {
        let f = single([ir(.binary(Temp(1), .sub, .bits64, .temp(Temp(0)), .constant(1))),
                        ir(.copy(Temp(2), .temp(Temp(0)))),
                        ir(.copy(Temp(0), .temp(Temp(1)))),
                        ir(.store(.temp(Temp(2), offset: 0), .temp(Temp(0)), .double, addressSpace: 0))],
                       parameters: 1, tempCount: 3, result: .temp(Temp(0)))
        let code = try compile(f).instructions
        #expect(code.filter { $0.opcode == 0xbf && $0.dst != .r0 }.count == 1, "\(code)")
    }

    /// Four values live across two calls, one of them the calls' argument (its hint r1), and
    /// four short ones live at once between the calls: the short ones take r1-r4, as the
    /// argument, live across the calls, cannot take r1, and leave r6-r9 to the four, so nothing
    /// is spilled.
    @Test func valuesLiveAcrossCallsWantNoArgumentRegister() throws {
        var instructions = (1...4).map { k in
            ir(.load(Temp(k), .temp(Temp(0), offset: 8 * k), .double, addressSpace: 0))
        }
        instructions.append(ir(.call(Temp(5), .helper(5), [.temp(Temp(4))])))
        instructions += (6...9).map { k in
            ir(.load(Temp(k), .temp(Temp(5), offset: 8 * k), .double, addressSpace: 0))
        }
        instructions += [ir(.binary(Temp(10), .add, .bits64, .temp(Temp(6)), .temp(Temp(7)))),
                         ir(.binary(Temp(11), .add, .bits64, .temp(Temp(8)), .temp(Temp(9)))),
                         ir(.binary(Temp(12), .add, .bits64, .temp(Temp(10)), .temp(Temp(11)))),
                         ir(.store(.temp(Temp(4), offset: 64), .temp(Temp(12)), .double, addressSpace: 0)),
                         ir(.call(nil, .helper(5), [.temp(Temp(4))])),
                         ir(.binary(Temp(13), .add, .bits64, .temp(Temp(1)), .temp(Temp(2)))),
                         ir(.binary(Temp(14), .add, .bits64, .temp(Temp(13)), .temp(Temp(3)))),
                         ir(.binary(Temp(15), .add, .bits64, .temp(Temp(14)), .temp(Temp(4))))]
        let f = single(instructions, parameters: 1, tempCount: 16, result: .temp(Temp(15)))
        let code = try compile(f).instructions
        #expect(!code.contains { $0.dst == .r10 || $0.src == .r10 }, "\(code)")
    }

    @Test func temporariesReadBeforeWrittenStartAtZero() throws {
        // %1 is written only on one path but read after the join.
        let blocks = [
            Block(id: BlockID(0), terminator: .branch(.eq, .bits64, .temp(Temp(0)), .constant(0),
                                                      then: BlockID(1), else: BlockID(2))),
            Block(id: BlockID(1), instructions: [ir(.copy(Temp(1), .constant(5)))], terminator: .jump(BlockID(2))),
            Block(id: BlockID(2), terminator: .return(.temp(Temp(1)))),
        ]
        let compiled = try compile(testFunction(parameters: 1, tempCount: 2, blocks: blocks))
        #expect(compiled.instructions[0].opcode == 0xb7 && compiled.instructions[0].imm == 0)
        #expect(compiled.notes[0]?.contains("read before it is written") == true)
    }
}

@Suite struct BranchResolutionTests {
    /// `while (i < n) i += 2; return i` with the loop test at the top.
    @Test func loopLayoutNeedsOneBackwardJump() throws {
        let blocks = [
            Block(id: BlockID(0), instructions: [ir(.copy(Temp(1), .constant(0)))], terminator: .jump(BlockID(1))),
            Block(id: BlockID(1), terminator: .branch(.slt, .bits32, .temp(Temp(1)), .temp(Temp(0)),
                                                      then: BlockID(2), else: BlockID(3))),
            Block(id: BlockID(2), instructions: [ir(.binary(Temp(1), .add, .bits64, .temp(Temp(1)), .constant(2)))],
                  terminator: .jump(BlockID(1))),
            Block(id: BlockID(3), terminator: .return(.temp(Temp(1)))),
        ]
        let code = try compile(testFunction(parameters: 1, tempCount: 2, blocks: blocks)).instructions
        let jumps = code.enumerated().filter { Opcode.classOf($0.element.opcode) == Opcode.classJMP32
            || (Opcode.classOf($0.element.opcode) == Opcode.classJMP && $0.element.opcode != 0x95) }
        #expect(jumps.count == 2)
        let conditional = try #require(jumps.first)
        #expect(conditional.element.opcode == 0x7e)  // JMP32 jsge: leave the loop when not i < n
        #expect(code[conditional.offset + 1 + Int(conditional.element.offset)].opcode == 0xbf
                || code[conditional.offset + 1 + Int(conditional.element.offset)] == BPF.exit)
        let back = try #require(jumps.last)
        #expect(back.element.opcode == 0x05 && back.offset + 1 + Int(back.element.offset) == conditional.offset)
    }

    @Test func mayGotoNeverGetsOffsetZero() throws {
        let blocks = [
            Block(id: BlockID(0), terminator: .mayGoto(bail: BlockID(2), next: BlockID(1))),
            Block(id: BlockID(1), terminator: .jump(BlockID(2))),
            Block(id: BlockID(2), terminator: .return(.constant(3))),
        ]
        let code = try compile(testFunction(parameters: 0, tempCount: 0, blocks: blocks)).instructions
        let mayGoto = try #require(code.firstIndex { $0.opcode == 0xe5 })
        #expect(code[mayGoto].offset == 1)
        #expect(code[mayGoto + 1] == Instruction(opcode: 0x05))
    }

    @Test func unreadResultsAreLeftOutAndResultsComputedInR0() throws {
        // %1 is never read; %2 is returned, so it is computed in r0 with no move before exit.
        let f = single([ir(.copy(Temp(1), .constant(7))),
                        ir(.load(Temp(2), .temp(Temp(0), offset: 8), .double, addressSpace: 0))],
                       parameters: 1, tempCount: 3, result: .temp(Temp(2)))
        let code = try compile(f).instructions
        #expect(code == [BPF.load(.double, .r0, .r1, 8), BPF.exit])
    }

    @Test func locationsAndNotesFollowEveryInstruction() throws {
        var instruction = ir(.addrSpaceCast(Temp(1), .temp(Temp(0)), to: 0, from: 1), line: 7)
        instruction.note = "cast_kern"
        // The store reads the cast's result: an instruction whose result nobody reads is left out.
        let f = single([instruction, ir(.store(.temp(Temp(1), offset: 0), .constant(0), .double, addressSpace: 0)),
                        ir(.symbolAddress(Temp(2), symbol: "arena", offset: 16), line: 8)],
                       parameters: 1, tempCount: 3, result: .temp(Temp(2)))
        let compiled = try compile(f)
        #expect(compiled.locations.count == compiled.instructions.count)
        #expect(compiled.notes.count == compiled.instructions.count)
        let cast = try #require(compiled.instructions.firstIndex { $0.opcode == 0xbf && $0.offset == 1 })
        #expect(compiled.instructions[cast].imm == 1)
        #expect(compiled.notes[cast] == "cast_kern" && compiled.locations[cast]?.line == 7)
        let relocation = try #require(compiled.relocations.first)
        #expect(relocation.symbol == "arena")
        #expect(compiled.instructions[relocation.instructionIndex].isLoadImm64)
        #expect(compiled.instructions[relocation.instructionIndex].imm == 16)
        #expect(compiled.locations[relocation.instructionIndex + 1]?.line == 8)
    }
}
