import BPFIR
import IRTestSupport
import Testing
@testable import Passes

/// Operand pairs around every sign and magnitude boundary of both widths.
let divisionOperands: [Int64] = [
    0, 1, -1, 2, -2, 3, -3, 7, -7, 100, -100, 12345, -98765,
    Int64(Int32.max), Int64(Int32.min), Int64(Int32.max) - 1, Int64(Int32.min) + 1,
    Int64.max, Int64.min, Int64.max - 1, Int64.min + 1, 1 << 40, -(1 << 40), 0x1_0000_0007,
]

/// `f(a, b)` returning `a op b`, with both operands temps or the divisor a constant.
private func division(_ op: BinaryOperator, _ width: ALUWidth, constantDivisor: Int64?) -> Module {
    let divisor: Value = constantDivisor.map { .constant($0) } ?? .temp(Temp(1))
    let block = Block(id: BlockID(0), instructions: [ir(.binary(Temp(2), op, width, .temp(Temp(0)), divisor))],
                      terminator: .return(.temp(Temp(2))))
    return Module(functions: [testFunction(parameters: 2, tempCount: 3, blocks: [block])])
}

@Suite struct SignedDivisionLoweringTests {
    @Test(arguments: [BinaryOperator.sdiv, .smod], [ALUWidth.bits64, .bits32])
    func matchesSignedDivision(op: BinaryOperator, width: ALUWidth) {
        var lowered = division(op, width, constantDivisor: nil)
        lowerSignedDivision(&lowered)
        var interpreter = IRInterpreter(module: lowered)
        var checked = 0
        for a in divisionOperands {
            for b in divisionOperands {
                let expected = evaluate(op, width, UInt64(bitPattern: a), UInt64(bitPattern: b))
                #expect(interpreter.call("f", [UInt64(bitPattern: a), UInt64(bitPattern: b)]) == expected,
                        "\(a) \(op) \(b) on \(width)")
                checked += 1
            }
        }
        #expect(checked == divisionOperands.count * divisionOperands.count)
    }

    @Test(arguments: [BinaryOperator.sdiv, .smod], [ALUWidth.bits64, .bits32])
    func foldsConstantDivisors(op: BinaryOperator, width: ALUWidth) {
        for b in divisionOperands {
            var lowered = division(op, width, constantDivisor: b)
            lowerSignedDivision(&lowered)
            var interpreter = IRInterpreter(module: lowered)
            for a in divisionOperands {
                let expected = evaluate(op, width, UInt64(bitPattern: a), UInt64(bitPattern: b))
                #expect(interpreter.call("f", [UInt64(bitPattern: a), 0]) == expected, "\(a) \(op) \(b) on \(width)")
            }
        }
    }

    @Test func cExamples() {
        func run(_ op: BinaryOperator, _ width: ALUWidth, _ a: Int64, _ b: Int64) -> Int64 {
            var lowered = division(op, width, constantDivisor: nil)
            lowerSignedDivision(&lowered)
            var interpreter = IRInterpreter(module: lowered)
            let result = interpreter.call("f", [UInt64(bitPattern: a), UInt64(bitPattern: b)])
            return width == .bits32 ? Int64(Int32(truncatingIfNeeded: result)) : Int64(bitPattern: result)
        }
        for width in [ALUWidth.bits32, .bits64] {
            #expect(run(.sdiv, width, -7, 2) == -3)
            #expect(run(.smod, width, -7, 2) == -1)
            #expect(run(.sdiv, width, 7, -2) == -3)
            #expect(run(.smod, width, 7, -2) == 1)
        }
        #expect(run(.sdiv, .bits64, Int64.min, 1) == Int64.min)
        #expect(run(.sdiv, .bits64, Int64.min, 2) == Int64.min / 2)
        #expect(run(.smod, .bits64, Int64.min, 3) == Int64.min % 3)
        #expect(run(.sdiv, .bits32, Int64(Int32.min), 1) == Int64(Int32.min))
    }

    @Test func leavesNoSignedDivisionAndKeepsLocations() {
        var module = division(.smod, .bits32, constantDivisor: nil)
        lowerSignedDivision(&module)
        let instructions = module.functions[0].blocks[0].instructions
        for instruction in instructions {
            if case .binary(_, let op, _, _, _) = instruction.operation {
                #expect(op != .sdiv && op != .smod)
            }
            #expect(instruction.location?.line == 2)
        }
        #expect(module.functions[0].tempCount > 3)
    }
}

@Suite struct AggregateLoweringTests {
    @Test func piecesFollowAlignment() {
        #expect(pieces(size: 16, alignment: 8).map(\.size) == [.double, .double])
        #expect(pieces(size: 7, alignment: 8).map(\.size) == [.word, .half, .byte])
        #expect(pieces(size: 7, alignment: 8).map(\.offset) == [0, 4, 6])
        #expect(pieces(size: 12, alignment: 4).map(\.size) == [.word, .word, .word])
        #expect(pieces(size: 3, alignment: 1).map(\.size) == [.byte, .byte, .byte])
        #expect(pieces(size: 10, alignment: 2).map(\.size).allSatisfy { $0 == .half })
    }

    /// Copies 13 bytes from one slot to another and fills a third, then reads the results back.
    @Test func copyAndFillBehaveLikeTheAggregates() {
        let slots = (0..<3).map { StackSlot(size: 16, alignment: 8, name: "s\($0)", location: nil) }
        var instructions: [IRInstruction] = []
        for i in 0..<2 {
            instructions.append(ir(.store(.slot(SlotID(0), offset: 8 * i), .constant(0x1122_3344_5566_7788 &* Int64(i + 1)),
                                          .double, addressSpace: 0)))
        }
        instructions += [
            ir(.slotAddress(Temp(0), SlotID(1), offset: 0)),
            ir(.copyMemory(destination: .temp(Temp(0), offset: 1), source: .slot(SlotID(0), offset: 1), size: 13,
                           alignment: 1, destinationSpace: 0, sourceSpace: 0)),
            ir(.setMemory(.slot(SlotID(2), offset: 0), byte: 0xab, size: 12, alignment: 4, addressSpace: 0)),
            ir(.load(Temp(1), .slot(SlotID(1), offset: 8), .double, addressSpace: 0)),
            ir(.load(Temp(2), .slot(SlotID(2), offset: 8), .double, addressSpace: 0)),
            ir(.load(Temp(3), .slot(SlotID(1), offset: 0), .double, addressSpace: 0)),
            ir(.binary(Temp(4), .xor, .bits64, .temp(Temp(1)), .temp(Temp(2)))),
            ir(.binary(Temp(4), .xor, .bits64, .temp(Temp(4)), .temp(Temp(3)))),
        ]
        let block = Block(id: BlockID(0), instructions: instructions, terminator: .return(.temp(Temp(4))))
        let original = Module(functions: [testFunction(parameters: 0, tempCount: 5, blocks: [block], slots: slots)])
        var lowered = original
        lowerAggregates(&lowered)

        var before = IRInterpreter(module: original)
        var after = IRInterpreter(module: lowered)
        // Slot 1's byte 0 and bytes 14-15 stay zero, slot 2's bytes 12-15 too: the copy's and fill's extents show.
        let expected: UInt64 = 0x0000_6688_aacc_ef10 ^ 0xabab_abab ^ 0x1122_3344_5566_7700
        #expect(before.call("f", []) == expected)
        #expect(after.call("f", []) == expected)
        for instruction in lowered.functions[0].blocks[0].instructions {
            switch instruction.operation {
            case .copyMemory, .setMemory: Issue.record("aggregate left in \(instruction)")
            default: break
            }
        }
    }

    @Test func keepsEachSidesAddressSpace() {
        let block = Block(id: BlockID(0), instructions: [
            ir(.copyMemory(destination: .temp(Temp(0), offset: 0), source: .temp(Temp(1), offset: 0), size: 12,
                           alignment: 4, destinationSpace: 1, sourceSpace: 0)),
        ], terminator: .return(nil))
        var module = Module(functions: [testFunction(parameters: 2, tempCount: 2, blocks: [block])])
        lowerAggregates(&module)
        let operations = module.functions[0].blocks[0].instructions.map(\.operation)
        #expect(operations.count == 6)
        for operation in operations {
            switch operation {
            case .load(_, .temp(let base, _), .word, let space, _): #expect(base == Temp(1) && space == 0)
            case .store(.temp(let base, _), _, .word, let space, _): #expect(base == Temp(0) && space == 1)
            default: Issue.record("unexpected \(operation)")
            }
        }
    }
}

@Suite struct StackAlignmentTests {
    /// A packed struct's members in a local: an 8-byte store at offset 1 and a 4-byte one at
    /// offset 9 of a slot aligned to 1, read back whole and in halves. Only byte accesses may
    /// remain (the verifier rejects misaligned stack accesses), and the values must not change.
    @Test func misalignedSlotAccessesBecomeBytes() {
        let slots = [StackSlot(size: 13, alignment: 1, name: "packed", location: nil),
                     StackSlot(size: 8, alignment: 8, name: "aligned", location: nil)]
        let block = Block(id: BlockID(0), instructions: [
            ir(.copy(Temp(0), .constant(0x0102_0304_0506_0708))),
            ir(.store(.slot(SlotID(0), offset: 1), .temp(Temp(0)), .double, addressSpace: 0)),
            ir(.store(.slot(SlotID(0), offset: 9), .constant(0x7f80_91a2), .word, addressSpace: 0)),
            ir(.store(.slot(SlotID(1), offset: 0), .constant(3), .double, addressSpace: 0)),
            ir(.load(Temp(1), .slot(SlotID(0), offset: 1), .double, addressSpace: 0)),
            ir(.load(Temp(2), .slot(SlotID(0), offset: 7), .word, addressSpace: 0)),
            ir(.load(Temp(3), .slot(SlotID(0), offset: 9), .word, addressSpace: 0)),
            ir(.load(Temp(4), .slot(SlotID(1), offset: 0), .double, addressSpace: 0)),
            ir(.binary(Temp(5), .xor, .bits64, .temp(Temp(1)), .temp(Temp(2)))),
            ir(.binary(Temp(5), .add, .bits64, .temp(Temp(5)), .temp(Temp(3)))),
            ir(.binary(Temp(5), .add, .bits64, .temp(Temp(5)), .temp(Temp(4)))),
        ], terminator: .return(.temp(Temp(5))))
        let original = Module(functions: [testFunction(parameters: 0, tempCount: 6, blocks: [block], slots: slots)])
        var aligned = original
        alignStackAccesses(&aligned)

        var before = IRInterpreter(module: original)
        var after = IRInterpreter(module: aligned)
        // Bytes 7-10 of the slot: 0x02, 0x01 from the first store, then 0xa2, 0x91 from the second.
        let expected: UInt64 = (0x0102_0304_0506_0708 ^ 0x91a2_0102) &+ 0x7f80_91a2 &+ 3
        #expect(before.call("f", []) == expected)
        #expect(after.call("f", []) == expected)
        for instruction in aligned.functions[0].blocks[0].instructions {
            switch instruction.operation {
            case .load(_, .slot(let slot, _), let size, _, _), .store(.slot(let slot, _), _, let size, _, _):
                #expect(slot == SlotID(1) || size == .byte, "\(instruction)")
            default: break
            }
        }
    }
}

@Suite struct IRPrinterTests {
    @Test func printsOneInstructionPerLineWithLocations() {
        var module = division(.sdiv, .bits32, constantDivisor: nil)
        module.functions[0].blocks[0].instructions[0].note = "why"
        let text = printIR(module)
        #expect(text.contains("function f(%0, %1) global section \"syscall\" {"))
        #expect(text.contains("%2 = sdiv.32 %0, %1"))
        #expect(text.contains("; test.c:2:1  why"))
        #expect(text.contains("  ret %2"))
    }
}

@Suite struct InliningHintTests {
    /// `f` calls the static `g` twice; `g` is small unless `large`.
    private func calls(_ hint: InlineHint, large: Bool) -> Module {
        let caller = Block(id: BlockID(0), instructions: [
            ir(.call(Temp(1), .function("g"), [.temp(Temp(0))])),
            ir(.call(Temp(2), .function("g"), [.temp(Temp(1))])),
        ], terminator: .return(.temp(Temp(2))))
        let body = (0..<(large ? 200 : 1)).map { i in
            ir(.binary(Temp(i + 1), .add, .bits64, .temp(Temp(i)), .constant(1)))
        }
        var callee = testFunction("g", parameters: 1, tempCount: body.count + 1,
                                  blocks: [Block(id: BlockID(0), instructions: body, terminator: .return(.temp(Temp(body.count))))],
                                  linkage: .static)
        callee.inlineHint = hint
        return Module(functions: [testFunction(parameters: 1, tempCount: 3, blocks: [caller]), callee])
    }

    private func remainingCalls(_ module: Module) -> Int {
        module.functions[0].blocks.flatMap(\.instructions).filter {
            if case .call = $0.operation { return true } else { return false }
        }.count
    }

    @Test func noinlineKeepsCallsAndAlwaysInlineOverridesSize() {
        for (hint, large, expected) in [(InlineHint.none, false, 0), (.never, false, 2), (.none, true, 2), (.always, true, 0)] {
            var module = calls(hint, large: large)
            let original = module
            inlineFunctions(&module)
            #expect(remainingCalls(module) == expected, "\(hint), large: \(large)")
            var before = IRInterpreter(module: original), after = IRInterpreter(module: module)
            #expect(before.call("f", [5]) == after.call("f", [5]))
        }
        var unoptimized = calls(.always, large: true)
        inlineFunctions(&unoptimized, bySize: false)
        #expect(remainingCalls(unoptimized) == 0, "always_inline inlines without optimization too")
    }
}

@Suite struct InliningTests {
    /// `f` calls `g` and `h`, static and each called once; `g` and `h` each keep a 200-byte slot.
    private func module() -> Module {
        let slot = [StackSlot(size: 200, alignment: 8, name: "buffer", location: nil)]
        func callee(_ name: String, _ value: Int64) -> Function {
            testFunction(name, parameters: 0, tempCount: 1, blocks: [Block(id: BlockID(0), instructions: [
                ir(.store(.slot(SlotID(0), offset: 0), .constant(value), .double, addressSpace: 0)),
                ir(.load(Temp(0), .slot(SlotID(0), offset: 0), .double, addressSpace: 0)),
            ], terminator: .return(.temp(Temp(0))))], slots: slot, linkage: .static)
        }
        let f = testFunction(parameters: 0, tempCount: 3, blocks: [Block(id: BlockID(0), instructions: [
            ir(.call(Temp(0), .function("g"), [])),
            ir(.call(Temp(1), .function("h"), [])),
            ir(.binary(Temp(2), .add, .bits64, .temp(Temp(0)), .temp(Temp(1)))),
        ], terminator: .return(.temp(Temp(2))))])
        return Module(functions: [f, callee("g", 3), callee("h", 4)])
    }

    /// Not optimizing, only the functions asked for are inlined; they are gone afterwards.
    @Test func inlinesOnlyTheNamedFunctionsWhenNotBySize() {
        var inlined = module()
        inlineFunctions(&inlined, always: ["g"], bySize: false)
        #expect(inlined.functions.map(\.name) == ["f", "h"])
        var interpreter = IRInterpreter(module: inlined)
        #expect(interpreter.call("f", []) == 7)
    }

    /// The two inlined copies' slots are needed one after the other: sharing bytes, the caller's
    /// frame stays at 200, so both are inlined although their slots add up to 400.
    @Test func slotsThatShareBytesDoNotStopInlining() {
        var inlined = module()
        inlineFunctions(&inlined)
        #expect(inlined.functions.map(\.name) == ["f"])
        #expect(inlined.functions[0].slots.count == 2 && StackColoring(inlined.functions[0]).depth == 200)
        var interpreter = IRInterpreter(module: inlined)
        #expect(interpreter.call("f", []) == 7)
    }
}
