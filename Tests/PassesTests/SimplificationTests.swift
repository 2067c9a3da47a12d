import BPFIR
import IRTestSupport
import Testing
@testable import Passes

/// The operations of a function's blocks, in order.
private func operations(_ function: Function) -> [Operation] {
    function.blocks.flatMap(\.instructions).map(\.operation)
}

/// Runs `f` before and after a rewrite on each argument list and expects the same results.
private func expectSameResults(_ original: Function, _ rewritten: Function, _ arguments: [[UInt64]],
                               sourceLocation: Testing.SourceLocation = #_sourceLocation) {
    for args in arguments {
        var before = IRInterpreter(module: Module(functions: [original]))
        var after = IRInterpreter(module: Module(functions: [rewritten]))
        #expect(before.call("f", args) == after.call("f", args), "f\(args)", sourceLocation: sourceLocation)
    }
}

/// Each simplification on its own (Sources/Passes/Simplification, one file each), then the
/// rounds together.
@Suite struct SimplificationTests {
    /// `t1 = 5; t2 = t0 + t1` reads 5 directly; a Temp assigned on one side of a branch only is
    /// not known after the join (the read may be C's uninitialized read).
    @Test func propagationSubstitutesWhereTheAssignmentDominates() {
        let blocks = [
            Block(id: BlockID(0), instructions: [ir(.copy(Temp(1), .constant(5)))],
                  terminator: .branch(.eq, .bits64, .temp(Temp(0)), .constant(0), then: BlockID(1), else: BlockID(2))),
            Block(id: BlockID(1), instructions: [ir(.copy(Temp(3), .constant(7)))], terminator: .jump(BlockID(2))),
            Block(id: BlockID(2), instructions: [
                ir(.binary(Temp(2), .add, .bits64, .temp(Temp(0)), .temp(Temp(1)))),
                ir(.binary(Temp(4), .add, .bits64, .temp(Temp(2)), .temp(Temp(3)))),
            ], terminator: .return(.temp(Temp(4)))),
        ]
        let original = testFunction(parameters: 1, tempCount: 5, blocks: blocks)
        var function = original
        #expect(propagateOnceAssigned(&function, OnceAssigned(function), nonNull: []))
        let ops = operations(function)
        #expect(ops.contains(.binary(Temp(2), .add, .bits64, .temp(Temp(0)), .constant(5))))
        #expect(ops.contains(.binary(Temp(4), .add, .bits64, .temp(Temp(2)), .temp(Temp(3)))))
        expectSameResults(original, function, [[0], [1], [41]])
    }

    /// `t1 = t0 + 4; t2 = t1 + 9; t3 = t2 - 20` adds once: `t3 = t0 + -7`; in 32 bits too (three
    /// `calls++` in a row), where the sum wraps as the adds do.
    @Test(arguments: [ALUWidth.bits64, .bits32])
    func propagationAddsConstantOffsetsOnce(width: ALUWidth) {
        let original = testFunction(parameters: 1, tempCount: 4, blocks: [
            Block(id: BlockID(0), instructions: [
                ir(.binary(Temp(1), .add, width, .temp(Temp(0)), .constant(4))),
                ir(.binary(Temp(2), .add, width, .temp(Temp(1)), .constant(9))),
                ir(.binary(Temp(3), .sub, width, .temp(Temp(2)), .constant(20))),
            ], terminator: .return(.temp(Temp(3)))),
        ])
        var module = Module(functions: [original])
        simplify(&module)
        #expect(operations(module.functions[0]) == [.binary(Temp(3), .add, width, .temp(Temp(0)), .constant(-7))])
        expectSameResults(original, module.functions[0], [[0], [UInt64.max], [0xffff_fffe]])
    }

    /// `&g != 0` is 1 for a global this object defines, `&s - &s` and `(t0 + 4) - t0` are
    /// constants; an extern's address may be NULL (a weak ksym) and `t0 + 1 > t0` is false for
    /// the largest t0, so those stay.
    @Test func addressesWithOneBaseCompareAndSubtractAsTheirOffsets() {
        let original = testFunction(parameters: 1, tempCount: 14, blocks: [
            Block(id: BlockID(0), instructions: [
                ir(.symbolAddress(Temp(1), symbol: "g", offset: 0)),
                ir(.setCondition(Temp(2), .ne, .bits64, .temp(Temp(1)), .constant(0))),
                ir(.binary(Temp(3), .add, .bits64, .temp(Temp(1)), .constant(8))),
                ir(.binary(Temp(4), .sub, .bits64, .temp(Temp(3)), .temp(Temp(1)))),
                ir(.setCondition(Temp(5), .ult, .bits64, .temp(Temp(1)), .temp(Temp(3)))),
                ir(.binary(Temp(6), .add, .bits64, .temp(Temp(0)), .constant(4))),
                ir(.binary(Temp(7), .sub, .bits64, .temp(Temp(6)), .temp(Temp(0)))),
                ir(.setCondition(Temp(8), .eq, .bits64, .temp(Temp(6)), .temp(Temp(0)))),
                ir(.setCondition(Temp(9), .ugt, .bits64, .temp(Temp(6)), .temp(Temp(0)))),
                ir(.symbolAddress(Temp(10), symbol: "extern_ksym", offset: 0)),
                ir(.setCondition(Temp(11), .ne, .bits64, .temp(Temp(10)), .constant(0))),
                ir(.slotAddress(Temp(12), SlotID(0), offset: 0)),
            ], terminator: .branch(.ne, .bits64, .temp(Temp(12)), .constant(0), then: BlockID(1), else: BlockID(2))),
            Block(id: BlockID(1), instructions: [], terminator: .return(.temp(Temp(0)))),
            Block(id: BlockID(2), instructions: [], terminator: .return(.constant(0))),
        ], slots: [StackSlot(size: 8, alignment: 8, name: "x", location: nil)])
        var function = original
        #expect(propagateOnceAssigned(&function, OnceAssigned(function), nonNull: ["g"]))
        let ops = operations(function)
        #expect(ops.contains(.copy(Temp(2), .constant(1))))
        #expect(ops.contains(.copy(Temp(4), .constant(8))))
        #expect(ops.contains(.copy(Temp(5), .constant(1))))
        #expect(ops.contains(.copy(Temp(7), .constant(4))))
        #expect(ops.contains(.copy(Temp(8), .constant(0))))
        #expect(ops.contains(.setCondition(Temp(9), .ugt, .bits64, .temp(Temp(6)), .temp(Temp(0)))))
        #expect(ops.contains(.setCondition(Temp(11), .ne, .bits64, .temp(Temp(10)), .constant(0))))
        #expect(function.blocks[0].terminator == .jump(BlockID(1)))
    }

    /// `t1 = t0 + 1; store t1; t2 = t1 + 1` keeps its two adds: t0 + 2 would keep t0 and t1 live.
    @Test func anInnerSumReadElsewhereStays() {
        let original = testFunction(parameters: 1, tempCount: 3, blocks: [
            Block(id: BlockID(0), instructions: [
                ir(.binary(Temp(1), .add, .bits64, .temp(Temp(0)), .constant(1))),
                ir(.store(.temp(Temp(0), offset: 0), .temp(Temp(1)), .double, addressSpace: 0)),
                ir(.binary(Temp(2), .add, .bits64, .temp(Temp(1)), .constant(1))),
            ], terminator: .return(.temp(Temp(2)))),
        ])
        var module = Module(functions: [original])
        simplify(&module)
        #expect(operations(module.functions[0]).contains(.binary(Temp(2), .add, .bits64, .temp(Temp(1)), .constant(1))))
    }

    /// A 32-bit add of 0 (or `or` 0, `mul` 1, ...) only clears the upper half: stored in 4 bytes,
    /// nobody reads that half, and it is a copy.
    @Test(arguments: [(BinaryOperator.add, Int64(0)), (.or, 0), (.mul, 1), (.and, 0xffff_ffff)])
    func identities32ReadInTheirLowHalfAreCopies(op: BinaryOperator, c: Int64) {
        var function = testFunction(parameters: 2, tempCount: 3, blocks: [
            Block(id: BlockID(0), instructions: [
                ir(.binary(Temp(2), op, .bits32, .temp(Temp(1)), .constant(c))),
                ir(.store(.temp(Temp(0), offset: 0), .temp(Temp(2)), .word, addressSpace: 0)),
            ], terminator: .return(.constant(0))),
        ])
        _ = narrowOperations(&function, returnedBits: 64)
        #expect(operations(function).contains(.copy(Temp(2), .temp(Temp(1)))), "\(operations(function))")
    }

    /// `calls++` on an `int`: the 64-bit add of the sign-extended load is stored in 4 bytes, so it
    /// becomes a 32-bit add of the loaded value and the extension goes. The same add on a
    /// parameter (maybe a pointer, where the verifier refuses 32-bit arithmetic) stays 64-bit.
    @Test func arithmeticReadInItsLowHalfIsNarrowedOnNumbersOnly() {
        let original = testFunction(parameters: 1, tempCount: 5, blocks: [
            Block(id: BlockID(0), instructions: [
                ir(.load(Temp(1), .temp(Temp(0), offset: 0), .word, addressSpace: 0)),
                ir(.signExtend(Temp(2), .temp(Temp(1)), fromBits: 32)),
                ir(.binary(Temp(3), .add, .bits64, .temp(Temp(2)), .constant(1))),
                ir(.store(.temp(Temp(0), offset: 0), .temp(Temp(3)), .word, addressSpace: 0)),
                ir(.binary(Temp(4), .add, .bits64, .temp(Temp(0)), .constant(4))),
                ir(.store(.temp(Temp(0), offset: 8), .temp(Temp(4)), .word, addressSpace: 0)),
            ], terminator: .return(.constant(0))),
        ])
        var module = Module(functions: [original])
        simplify(&module)
        let ops = operations(module.functions[0])
        #expect(ops.contains(.binary(Temp(3), .add, .bits32, .temp(Temp(1)), .constant(1))), "\(ops)")
        #expect(ops.contains(.binary(Temp(4), .add, .bits64, .temp(Temp(0)), .constant(4))), "\(ops)")
        #expect(!ops.contains { if case .signExtend = $0 { return true } else { return false } })
    }

    /// `return (int)(x + 1)` in a function returning `int`: callers read only the low 32 bits (they
    /// extend the result themselves), so the extension before the return goes; in a function
    /// returning `long` it stays.
    @Test(arguments: [("int", 4), ("long", 8)])
    func anIntResultIsComputedIn32Bits(returned: String, size: Int) {
        var types = TypeTable()
        let result = types.intern(.integer(name: returned, size: size, isSigned: true))
        let type = types.intern(.function(returnType: result, parameters: [], isVariadic: false))
        var function = testFunction(parameters: 1, tempCount: 4, blocks: [
            Block(id: BlockID(0), instructions: [
                ir(.load(Temp(1), .temp(Temp(0), offset: 0), .word, addressSpace: 0)),
                ir(.binary(Temp(2), .add, .bits64, .temp(Temp(1)), .constant(1))),
                ir(.signExtend(Temp(3), .temp(Temp(2)), fromBits: 32)),
            ], terminator: .return(.temp(Temp(3)))),
        ])
        function.type = type
        var module = Module(functions: [function], types: types)
        simplify(&module)
        let ops = operations(module.functions[0])
        let extended = ops.contains { if case .signExtend = $0 { return true } else { return false } }
        #expect(extended == (size == 8), "\(ops)")
    }

    /// `x < 0` reads only the sign bit: a shift, with no branch; so is `x > 0x7fffffff` unsigned.
    /// `!!b`, `b == 1`, `!b` and `b != 1` of a comparison's 0 or 1 are copies and `xor`s.
    @Test(arguments: [(Condition.slt, ALUWidth.bits32, Int64(0)), (.slt, .bits64, 0), (.ugt, .bits32, 0x7fff_ffff),
                      (.ugt, .bits64, Int64.max)])
    func signTestsAreShifts(condition: Condition, width: ALUWidth, bound: Int64) {
        let original = testFunction(parameters: 1, tempCount: 8, blocks: [
            Block(id: BlockID(0), instructions: [
                ir(.setCondition(Temp(1), condition, width, .temp(Temp(0)), .constant(bound))),
                ir(.setCondition(Temp(2), .ne, .bits64, .temp(Temp(1)), .constant(0))),
                ir(.setCondition(Temp(3), .eq, .bits64, .temp(Temp(1)), .constant(0))),
                ir(.binary(Temp(4), .shl, .bits64, .temp(Temp(3)), .constant(1))),
                ir(.binary(Temp(4), .or, .bits64, .temp(Temp(4)), .temp(Temp(2)))),
                ir(.setCondition(Temp(5), .eq, .bits64, .temp(Temp(1)), .constant(1))),
                ir(.setCondition(Temp(6), .ne, .bits64, .temp(Temp(1)), .constant(1))),
                ir(.binary(Temp(7), .shl, .bits64, .temp(Temp(6)), .constant(3))),
                ir(.binary(Temp(7), .or, .bits64, .temp(Temp(7)), .temp(Temp(5)))),
                ir(.binary(Temp(7), .shl, .bits64, .temp(Temp(7)), .constant(4))),
                ir(.binary(Temp(4), .or, .bits64, .temp(Temp(4)), .temp(Temp(7)))),
            ], terminator: .return(.temp(Temp(4)))),
        ])
        var module = Module(functions: [original])
        simplify(&module)
        let ops = operations(module.functions[0])
        #expect(!ops.contains { if case .setCondition = $0 { return true } else { return false } }, "\(ops)")
        expectSameResults(original, module.functions[0], [[0], [1], [0x7fff_ffff], [0x8000_0000], [0xffff_ffff],
                                                           [UInt64.max], [0x8000_0000_0000_0000]])
    }

    /// `p = t0 + 28`, then `p -= 4` before each load: the loads read `[t0 + 24]` and `[t0 + 20]`,
    /// and each step computes from t0, so the steps no longer chain; once t0 changes, p is on
    /// its own again.
    @Test func stepsFromATempAreOffsetsFromIt() {
        let p = Temp(1)
        let original = testFunction(parameters: 1, tempCount: 6, blocks: [
            Block(id: BlockID(0), instructions: [
                ir(.binary(p, .add, .bits64, .temp(Temp(0)), .constant(28))),
                ir(.binary(p, .sub, .bits64, .temp(p), .constant(4))),
                ir(.load(Temp(2), .temp(p, offset: 0), .word, addressSpace: 0)),
                ir(.binary(p, .sub, .bits64, .temp(p), .constant(4))),
                ir(.load(Temp(3), .temp(p, offset: 2), .half, addressSpace: 0)),
                ir(.binary(Temp(0), .add, .bits64, .temp(Temp(0)), .constant(1))),
                ir(.load(Temp(4), .temp(p, offset: 0), .byte, addressSpace: 0)),
                ir(.binary(Temp(5), .add, .bits64, .temp(Temp(2)), .temp(Temp(3)))),
                ir(.binary(Temp(5), .add, .bits64, .temp(Temp(5)), .temp(Temp(4)))),
                ir(.binary(Temp(5), .add, .bits64, .temp(Temp(5)), .temp(p))),
            ], terminator: .return(.temp(Temp(5)))),
        ])
        var function = original
        #expect(propagateWithinBlock(&function.blocks[0]))
        let ops = operations(function)
        #expect(ops.contains(.load(Temp(2), .temp(Temp(0), offset: 24), .word, addressSpace: 0)))
        #expect(ops.contains(.load(Temp(3), .temp(Temp(0), offset: 22), .half, addressSpace: 0)))
        #expect(ops.contains(.binary(p, .add, .bits64, .temp(Temp(0)), .constant(20))))
        #expect(ops.contains(.load(Temp(4), .temp(p, offset: 0), .byte, addressSpace: 0)))
        var before = IRInterpreter(module: Module(functions: [original]))
        var after = IRInterpreter(module: Module(functions: [function]))
        let bytes = (0..<64).map { UInt8($0 * 7 & 0xff) }
        before.write(bytes, at: 0x1000)
        after.write(bytes, at: 0x1000)
        #expect(before.call("f", [0x1000]) == after.call("f", [0x1000]))
    }

    /// Bit-field stores into one word: `w = (w & ~0x7) | 5`, then `(w & ~0x18) | 0x10` is one
    /// `and` and one `or` of the word loaded; once every bit is set or cleared, a constant. A
    /// step something else reads stays.
    @Test(arguments: [ALUWidth.bits64, .bits32])
    func masksAndSetsCompose(width: ALUWidth) {
        let original = testFunction(parameters: 1, tempCount: 10, blocks: [
            Block(id: BlockID(0), instructions: [
                ir(.load(Temp(1), .temp(Temp(0), offset: 0), .double, addressSpace: 0)),
                ir(.binary(Temp(2), .and, width, .temp(Temp(1)), .constant(~0x7))),
                ir(.binary(Temp(3), .or, width, .temp(Temp(2)), .constant(5))),
                ir(.binary(Temp(4), .and, width, .temp(Temp(3)), .constant(~0x18))),
                ir(.binary(Temp(5), .or, width, .temp(Temp(4)), .constant(0x10))),
                ir(.store(.temp(Temp(0), offset: 8), .temp(Temp(5)), .double, addressSpace: 0)),
                ir(.binary(Temp(6), .and, width, .temp(Temp(5)), .constant(0x1f))),
                ir(.binary(Temp(7), .or, width, .temp(Temp(6)), .constant(0x20))),
                ir(.binary(Temp(8), .and, width, .temp(Temp(7)), .constant(0x3f))),
                ir(.binary(Temp(9), .add, .bits64, .temp(Temp(8)), .temp(Temp(5)))),
            ], terminator: .return(.temp(Temp(9)))),
        ])
        var module = Module(functions: [original])
        simplify(&module)
        let ops = operations(module.functions[0])
        // (load & ~0x1f) | 0x15, stored; then (that & 0x1f) | 0x20, whose `& 0x3f` changes nothing.
        #expect(ops.contains { if case .binary(Temp(5), .or, width, _, .constant(0x15)) = $0 { return true } else { return false } },
                "\(ops)")
        #expect(ops.filter { if case .binary(_, .and, _, _, _) = $0 { return true } else { return false } }.count == 2, "\(ops)")
        #expect(ops.filter { if case .binary(_, .or, _, _, _) = $0 { return true } else { return false } }.count == 2, "\(ops)")
        for input in [0, 0xff, UInt64.max, 0x1234_5678_9abc_def0] as [UInt64] {
            var before = IRInterpreter(module: Module(functions: [original]))
            before.write(withUnsafeBytes(of: input.littleEndian, Array.init), at: 0x1000)
            var after = IRInterpreter(module: Module(functions: [module.functions[0]]))
            after.write(withUnsafeBytes(of: input.littleEndian, Array.init), at: 0x1000)
            #expect(before.call("f", [0x1000]) == after.call("f", [0x1000]))
        }
    }

    /// `a = x * 12; b = x * 12` computes once, and so does `x = x * 12` after them; once x has
    /// changed, `x * 12` is a new computation.
    @Test func aComputationRepeatedInABlockIsACopy() {
        let original = testFunction(parameters: 1, tempCount: 7, blocks: [
            Block(id: BlockID(0), instructions: [
                ir(.binary(Temp(2), .mul, .bits64, .temp(Temp(0)), .constant(12))),
                ir(.binary(Temp(3), .mul, .bits64, .temp(Temp(0)), .constant(12))),
                ir(.binary(Temp(5), .sub, .bits64, .temp(Temp(2)), .temp(Temp(3)))),
                ir(.binary(Temp(0), .mul, .bits64, .temp(Temp(0)), .constant(12))),
                ir(.binary(Temp(4), .mul, .bits64, .temp(Temp(0)), .constant(12))),
                ir(.binary(Temp(6), .add, .bits64, .temp(Temp(4)), .temp(Temp(5)))),
            ], terminator: .return(.temp(Temp(6)))),
        ])
        var block = original.blocks[0]
        #expect(propagateWithinBlock(&block))
        let multiplies = block.instructions.filter { if case .binary(_, .mul, _, _, _) = $0.operation { return true } else { return false } }
        #expect(multiplies.count == 2, "\(block.instructions.map(\.operation))")
        #expect(block.instructions[1].operation == .copy(Temp(3), .temp(Temp(2))))
        #expect(block.instructions[3].operation == .copy(Temp(0), .temp(Temp(2))))
        #expect(block.instructions[4].operation == .binary(Temp(4), .mul, .bits64, .temp(Temp(2)), .constant(12)))
        var function = original
        function.blocks[0] = block
        expectSameResults(original, function, [[3], [0], [UInt64.max]])
    }

    /// `a = x * 12` in the entry block and `b = x * 12` in a later block it dominates: b is a copy
    /// of a.
    @Test func aComputationADominatingBlockMadeIsACopy() {
        let original = testFunction(parameters: 1, tempCount: 5, blocks: [
            Block(id: BlockID(0), instructions: [ir(.binary(Temp(1), .mul, .bits64, .temp(Temp(0)), .constant(12)))],
                  terminator: .branch(.eq, .bits64, .temp(Temp(0)), .constant(3), then: BlockID(1), else: BlockID(2))),
            Block(id: BlockID(1), instructions: [ir(.binary(Temp(2), .mul, .bits64, .temp(Temp(0)), .constant(12)))],
                  terminator: .return(.temp(Temp(2)))),
            Block(id: BlockID(2), instructions: [ir(.binary(Temp(3), .add, .bits64, .temp(Temp(1)), .constant(1)))],
                  terminator: .return(.temp(Temp(3)))),
        ])
        var function = original
        #expect(numberValues(&function))
        #expect(function.blocks[1].instructions[0].operation == .copy(Temp(2), .temp(Temp(1))))
        expectSameResults(original, function, [[3], [4]])
    }

    /// A loop counter i is a C local, assigned in several places: `a = i * 16` in the loop's
    /// header is still available in its body, until `i += 1`; after it, `i * 16` is computed anew,
    /// and the header, which the back edge reaches with another i, keeps its own.
    @Test func aComputationIsAvailableUntilAnOperandIsAssigned() {
        let i = Temp(1), a = Temp(2), b = Temp(3), c = Temp(4), sum = Temp(5)
        let original = testFunction(parameters: 1, tempCount: 6, blocks: [
            Block(id: BlockID(0), instructions: [ir(.copy(i, .constant(0))), ir(.copy(sum, .constant(0)))],
                  terminator: .jump(BlockID(1))),
            Block(id: BlockID(1), instructions: [ir(.binary(a, .mul, .bits64, .temp(i), .constant(16)))],
                  terminator: .branch(.slt, .bits64, .temp(i), .temp(Temp(0)), then: BlockID(2), else: BlockID(3))),
            Block(id: BlockID(2), instructions: [
                ir(.binary(b, .mul, .bits64, .temp(i), .constant(16))),
                ir(.binary(sum, .add, .bits64, .temp(sum), .temp(b))),
                ir(.binary(i, .add, .bits64, .temp(i), .constant(1))),
                ir(.binary(c, .mul, .bits64, .temp(i), .constant(16))),
                ir(.binary(sum, .add, .bits64, .temp(sum), .temp(c))),
            ], terminator: .jump(BlockID(1))),
            Block(id: BlockID(3), instructions: [ir(.binary(sum, .add, .bits64, .temp(sum), .temp(a)))],
                  terminator: .return(.temp(sum))),
        ])
        var function = original
        #expect(numberValues(&function))
        #expect(function.blocks[2].instructions[0].operation == .copy(b, .temp(a)))
        #expect(function.blocks[2].instructions[3].operation == original.blocks[2].instructions[3].operation)
        #expect(function.blocks[1].instructions[0].operation == original.blocks[1].instructions[0].operation)
        expectSameResults(original, function, [[0], [1], [5]])
    }

    /// A global's address loaded before an `if` is not loaded again on either side; one a side
    /// loads is not available after the join.
    @Test func aGlobalsAddressIsLoadedOnce() {
        let original = testFunction(parameters: 1, tempCount: 5, blocks: [
            Block(id: BlockID(0), instructions: [ir(.symbolAddress(Temp(1), symbol: "g", offset: 0))],
                  terminator: .branch(.eq, .bits64, .temp(Temp(0)), .constant(0), then: BlockID(1), else: BlockID(2))),
            Block(id: BlockID(1), instructions: [
                ir(.symbolAddress(Temp(2), symbol: "g", offset: 0)),
                ir(.symbolAddress(Temp(3), symbol: "h", offset: 0)),
            ], terminator: .jump(BlockID(2))),
            Block(id: BlockID(2), instructions: [ir(.symbolAddress(Temp(4), symbol: "h", offset: 0))],
                  terminator: .return(.temp(Temp(0)))),
        ])
        var function = original
        #expect(numberValues(&function))
        #expect(function.blocks[1].instructions[0].operation == .copy(Temp(2), .temp(Temp(1))))
        #expect(function.blocks[2].instructions[0].operation == original.blocks[2].instructions[0].operation)
    }

    /// `if (p) x = 1; else x = 1; return x + 1`: x is assigned twice, both times 1, so the
    /// return reads 2; where the sides assign different constants, x stays.
    @Test(arguments: [1, 2])
    func aConstantEveryPathAssignsIsRead(otherSide: Int64) {
        let original = testFunction(parameters: 1, tempCount: 3, blocks: [
            Block(id: BlockID(0), terminator: .branch(.eq, .bits64, .temp(Temp(0)), .constant(0), then: BlockID(1), else: BlockID(2))),
            Block(id: BlockID(1), instructions: [ir(.copy(Temp(1), .constant(1)))], terminator: .jump(BlockID(3))),
            Block(id: BlockID(2), instructions: [ir(.copy(Temp(1), .constant(otherSide)))], terminator: .jump(BlockID(3))),
            Block(id: BlockID(3), instructions: [ir(.binary(Temp(2), .add, .bits64, .temp(Temp(1)), .constant(1)))],
                  terminator: .return(.temp(Temp(2)))),
        ])
        var function = original
        _ = propagateConstantsAcrossBlocks(&function, OnceAssigned(function))
        let folded = function.blocks[3].instructions[0].operation == .copy(Temp(2), .constant(2))
        #expect(folded == (otherSide == 1), "\(function.blocks[3])")
        expectSameResults(original, function, [[0], [5]])
    }

    /// `uc++` on an `unsigned char` stored back as one byte: the `& 255` changes no bit the store
    /// reads, so it goes; the same `and` read whole (returned) stays.
    @Test(arguments: [false, true])
    func masksOfBitsNobodyReadsGo(returned: Bool) {
        let original = testFunction(parameters: 1, tempCount: 4, blocks: [
            Block(id: BlockID(0), instructions: [
                ir(.load(Temp(1), .temp(Temp(0), offset: 0), .byte, addressSpace: 0)),
                ir(.binary(Temp(2), .add, .bits32, .temp(Temp(1)), .constant(1))),
                ir(.binary(Temp(3), .and, .bits64, .temp(Temp(2)), .constant(255))),
                ir(.store(.temp(Temp(0), offset: 0), .temp(Temp(3)), .byte, addressSpace: 0)),
            ], terminator: .return(returned ? .temp(Temp(3)) : .constant(0))),
        ])
        var function = original
        _ = narrowOperations(&function, returnedBits: 64)
        let masked = operations(function).contains { if case .binary(_, .and, _, _, _) = $0 { return true } else { return false } }
        #expect(masked == returned)
    }

    /// `(x & m) << 1` read whole needs 63 bits of the `and`: a mask of 63 ones makes it a copy,
    /// one bit short of that keeps it.
    @Test(arguments: [Int64.max, Int64.max >> 1])
    func masksUnderAShiftKeepWhatTheShiftReads(mask: Int64) {
        var function = testFunction(parameters: 1, tempCount: 3, blocks: [
            Block(id: BlockID(0), instructions: [
                ir(.binary(Temp(1), .and, .bits64, .temp(Temp(0)), .constant(mask))),
                ir(.binary(Temp(2), .shl, .bits64, .temp(Temp(1)), .constant(1))),
            ], terminator: .return(.temp(Temp(2)))),
        ])
        _ = narrowOperations(&function, returnedBits: 64)
        #expect(operations(function).contains(.copy(Temp(1), .temp(Temp(0)))) == (mask == Int64.max))
    }

    /// `(u32)(pid_tgid >> 32)`: the shift leaves the upper half zero, so the zero extension goes.
    @Test func aZeroExtensionAfterAShiftRightGoes() {
        let original = testFunction(parameters: 1, tempCount: 3, blocks: [
            Block(id: BlockID(0), instructions: [
                ir(.binary(Temp(1), .lshr, .bits64, .temp(Temp(0)), .constant(32))),
                ir(.zeroExtend(Temp(2), .temp(Temp(1)), fromBits: 32)),
            ], terminator: .return(.temp(Temp(2)))),
        ])
        var module = Module(functions: [original])
        simplify(&module)
        #expect(!operations(module.functions[0]).contains { if case .zeroExtend = $0 { return true } else { return false } })
        expectSameResults(original, module.functions[0], [[0], [UInt64.max], [0x1234_5678_9abc_def0]])
    }

    /// A comparison of two sign-extended `int`s is the 32-bit comparison of what was extended.
    @Test func comparisonsOfExtendedIntsUseTheLowHalves() {
        let original = testFunction(parameters: 1, tempCount: 3, blocks: [
            Block(id: BlockID(0), instructions: [
                ir(.load(Temp(1), .temp(Temp(0), offset: 0), .word, addressSpace: 0)),
                ir(.signExtend(Temp(2), .temp(Temp(1)), fromBits: 32)),
            ], terminator: .branch(.slt, .bits64, .temp(Temp(2)), .constant(-3), then: BlockID(1), else: BlockID(2))),
            Block(id: BlockID(1), terminator: .return(.constant(1))),
            Block(id: BlockID(2), terminator: .return(.constant(2))),
        ])
        var module = Module(functions: [original])
        simplify(&module)
        #expect(module.functions[0].blocks[0].terminator
                == .branch(.slt, .bits32, .temp(Temp(1)), .constant(-3), then: BlockID(1), else: BlockID(2)))
    }

    /// `x * 0` and `x & 0` are 0, also where only the constant's low half is 0 in 32 bits;
    /// `x * 2^32` in 64 bits is not.
    @Test(arguments: [(BinaryOperator.mul, ALUWidth.bits64, Int64(0), true), (.and, .bits64, 0, true),
                      (.mul, .bits32, 1 << 32, true), (.and, .bits32, 1 << 32, true), (.mul, .bits64, 1 << 32, false)])
    func multiplyingByZeroIsZero(op: BinaryOperator, width: ALUWidth, c: Int64, folds: Bool) {
        let original = testFunction(parameters: 1, tempCount: 2, blocks: [
            Block(id: BlockID(0), instructions: [ir(.binary(Temp(1), op, width, .temp(Temp(0)), .constant(c)))],
                  terminator: .return(.temp(Temp(1)))),
        ])
        let folded = fold(original.blocks[0].instructions[0].operation, zeroExtendedBits: { _ in nil },
                          signExtendedBits: { _ in nil }, signExtensionSource: { _ in nil })
        #expect((folded == .copy(Temp(1), .constant(0))) == folds)
        var rewritten = original
        rewritten.blocks[0].instructions[0].operation = folded
        expectSameResults(original, rewritten, [[0], [7], [UInt64.max]])
    }

    /// `x = c ? 5 : 9`: the side that only assigns 5 has it moved before the branch, where 9's
    /// side overwrites it; a side that reads x first, or a branch on x, keeps it where it was.
    @Test(arguments: [false, true])
    func aConstantOneSideAssignsIsSpeculated(otherSideReadsFirst: Bool) {
        let x = Temp(1)
        let otherSide: [IRInstruction] = otherSideReadsFirst
            ? [ir(.binary(x, .add, .bits64, .temp(x), .constant(9)))] : [ir(.copy(x, .constant(9)))]
        let original = testFunction(parameters: 1, tempCount: 2, blocks: [
            Block(id: BlockID(0), instructions: [ir(.copy(x, .constant(0)))],
                  terminator: .branch(.ne, .bits64, .temp(Temp(0)), .constant(0), then: BlockID(1), else: BlockID(2))),
            Block(id: BlockID(1), instructions: [ir(.copy(x, .constant(5)))], terminator: .jump(BlockID(3))),
            Block(id: BlockID(2), instructions: otherSide, terminator: .jump(BlockID(3))),
            Block(id: BlockID(3), terminator: .return(.temp(x))),
        ])
        var function = original
        #expect(speculateConstants(&function) == !otherSideReadsFirst)
        if !otherSideReadsFirst {
            #expect(function.blocks[0].instructions.last?.operation == .copy(x, .constant(5)))
            #expect(function.blocks[1].instructions.isEmpty)
        }
        expectSameResults(original, function, [[0], [1]])
    }

    /// `(x & 0x100) != 0` is `(x & 0x100) >> 8`, `== 0` that `^ 1`, with no branch; a 32-bit
    /// test of bit 40 (always 0 in the low half) is not rewritten so.
    @Test(arguments: [(Condition.ne, ALUWidth.bits64, Int64(0x100), Int64(0)), (.eq, .bits64, 0x100, 0),
                      (.eq, .bits32, 0x100, 0x100), (.ne, .bits32, 0x100, 0x100), (.ne, .bits64, 1 << 40, 0)])
    func aTestOfOneBitIsAShift(condition: Condition, width: ALUWidth, mask: Int64, c: Int64) {
        let original = testFunction(parameters: 1, tempCount: 3, blocks: [
            Block(id: BlockID(0), instructions: [
                ir(.binary(Temp(1), .and, .bits64, .temp(Temp(0)), .constant(mask))),
                ir(.setCondition(Temp(2), condition, width, .temp(Temp(1)), .constant(c))),
            ], terminator: .return(.temp(Temp(2)))),
        ])
        var function = original
        #expect(propagateOnceAssigned(&function, OnceAssigned(function), nonNull: [], comparisonsWithoutBranches: true))
        #expect(!operations(function).contains { if case .setCondition = $0 { return true } else { return false } })
        expectSameResults(original, function, [[0], [mask.magnitude], [UInt64.max], [UInt64(mask.magnitude) ^ UInt64.max]])
    }

    /// `a < b` of two loaded `int`s (zero-extended: unsigned order) or sign-extended ones (signed
    /// order), and `a <= 7`, `a >= 7`, `a > b`: the sign of a 64-bit difference, no branch.
    /// Numbers the comparison would have to extend first keep their comparison.
    @Test(arguments: [Condition.ult, .ugt, .ule, .uge, .slt, .sgt, .sle, .sge])
    func aComparisonOfNarrowNumbersIsTheSignOfTheirDifference(condition: Condition) {
        let signed = [.slt, .sgt, .sle, .sge].contains(condition)
        let againstConstant = [.ule, .uge, .sle, .sge].contains(condition)
        let extend: Operation = signed ? .signExtend(Temp(3), .temp(Temp(1)), fromBits: 32)
                                       : .binary(Temp(3), .and, .bits64, .temp(Temp(1)), .constant(0xffff_ffff))
        let original = testFunction(parameters: 2, tempCount: 6, blocks: [
            Block(id: BlockID(0), instructions: [
                ir(.load(Temp(1), .temp(Temp(0), offset: 0), .word, addressSpace: 0)),
                ir(.load(Temp(2), .temp(Temp(0), offset: 4), .word, addressSpace: 0)),
                ir(extend),
                ir(.signExtend(Temp(4), .temp(Temp(2)), fromBits: 32)),
                ir(.setCondition(Temp(5), condition, .bits64, .temp(Temp(3)),
                                 againstConstant ? .constant(7) : .temp(signed ? Temp(4) : Temp(2)))),
                ir(.store(.temp(Temp(0), offset: 8), .temp(Temp(3)), .double, addressSpace: 0)),
                ir(.store(.temp(Temp(0), offset: 16), .temp(Temp(4)), .double, addressSpace: 0)),
            ], terminator: .return(.temp(Temp(5)))),
        ])
        var function = original
        #expect(propagateOnceAssigned(&function, OnceAssigned(function), nonNull: [], comparisonsWithoutBranches: true))
        #expect(!operations(function).contains { if case .setCondition = $0 { return true } else { return false } })
        for (a, b) in [(0, 0), (7, 7), (6, 8), (8, 6), (0xffff_fff9, 7), (7, 0xffff_fff9), (0x8000_0000, 0x7fff_ffff)]
            as [(UInt32, UInt32)] {
            let bytes = withUnsafeBytes(of: a.littleEndian, Array.init) + withUnsafeBytes(of: b.littleEndian, Array.init)
            var before = IRInterpreter(module: Module(functions: [original]))
            before.write(bytes, at: 0x1000)
            var after = IRInterpreter(module: Module(functions: [function]))
            after.write(bytes, at: 0x1000)
            #expect(before.call("f", [0x1000, 0]) == after.call("f", [0x1000, 0]), "\(condition) \(a) \(b)")
        }
    }

    /// A sign extension only the comparison reads would cost as much as the branch it saves:
    /// the comparison stays.
    @Test func aComparisonThatWouldNeedItsOwnExtensionStays() {
        var function = testFunction(parameters: 2, tempCount: 5, blocks: [
            Block(id: BlockID(0), instructions: [
                ir(.signExtend(Temp(2), .temp(Temp(0)), fromBits: 32)),
                ir(.signExtend(Temp(3), .temp(Temp(1)), fromBits: 32)),
                ir(.setCondition(Temp(4), .slt, .bits64, .temp(Temp(2)), .temp(Temp(3)))),
            ], terminator: .return(.temp(Temp(4)))),
        ])
        _ = propagateOnceAssigned(&function, OnceAssigned(function), nonNull: [], comparisonsWithoutBranches: true)
        #expect(operations(function).contains { if case .setCondition = $0 { return true } else { return false } })
    }

    /// A 32-bit test of bit 40 reads none of it: the comparison stays (the shift would give 1).
    @Test func aThirtyTwoBitTestOfAHighBitStays() {
        var function = testFunction(parameters: 1, tempCount: 3, blocks: [
            Block(id: BlockID(0), instructions: [
                ir(.binary(Temp(1), .and, .bits64, .temp(Temp(0)), .constant(1 << 40))),
                ir(.setCondition(Temp(2), .ne, .bits32, .temp(Temp(1)), .constant(0))),
            ], terminator: .return(.temp(Temp(2)))),
        ])
        _ = propagateOnceAssigned(&function, OnceAssigned(function), nonNull: [], comparisonsWithoutBranches: true)
        #expect(operations(function).contains(.setCondition(Temp(2), .ne, .bits32, .temp(Temp(1)), .constant(0))))
    }

    /// A branch whose two sides are one block is a jump there; one on two constants takes its side.
    @Test func branchesThatCannotChooseAreJumps() {
        #expect(foldTerminator(.branch(.ne, .bits32, .temp(Temp(0)), .constant(0), then: BlockID(3), else: BlockID(3)))
                == .jump(BlockID(3)))
        #expect(foldTerminator(.branch(.slt, .bits64, .constant(-1), .constant(0), then: BlockID(1), else: BlockID(2)))
                == .jump(BlockID(1)))
        let undecided = Terminator.branch(.ne, .bits32, .temp(Temp(0)), .constant(0), then: BlockID(1), else: BlockID(2))
        #expect(foldTerminator(undecided) == undecided)
    }

    /// Every operator at both widths folds to what BPF computes, and division by zero stays.
    @Test func foldingComputesWhatBPFComputes() {
        let operators: [BinaryOperator] = [.add, .sub, .mul, .udiv, .umod, .sdiv, .smod, .and, .or, .xor, .shl, .lshr, .ashr]
        let operands: [Int64] = [0, 1, -1, 3, 31, 32, 63, 64, Int64(Int32.min), Int64(UInt32.max), Int64.min, -12345]
        for op in operators {
            for width in [ALUWidth.bits32, .bits64] {
                for a in operands {
                    for b in operands {
                        let folded = fold(.binary(Temp(0), op, width, .constant(a), .constant(b)),
                                          zeroExtendedBits: { _ in nil }, signExtendedBits: { _ in nil },
                                          signExtensionSource: { _ in nil })
                        let divisorBits = width == .bits32 ? Int64(UInt32(truncatingIfNeeded: b)) : b
                        if [.udiv, .umod, .sdiv, .smod].contains(op) && divisorBits == 0 {
                            #expect(folded == .binary(Temp(0), op, width, .constant(a), .constant(b)))
                            continue
                        }
                        let expected = evaluate(op, width, UInt64(bitPattern: a), UInt64(bitPattern: b))
                        #expect(folded == .copy(Temp(0), .constant(Int64(bitPattern: expected))), "\(a) \(op) \(b) \(width)")
                    }
                }
            }
        }
    }

    /// A loaded `int` sign-extended and then only stored as 4 bytes: the store takes the loaded
    /// value, and the extension is left for dead code. Read in full too, it stays.
    @Test(arguments: [false, true])
    func extensionOnlyReadInItsLowHalfIsSkipped(readInFull: Bool) {
        var instructions = [
            ir(.load(Temp(1), .temp(Temp(0), offset: 0), .word, addressSpace: 0)),
            ir(.signExtend(Temp(2), .temp(Temp(1)), fromBits: 32)),
            ir(.store(.temp(Temp(0), offset: 8), .temp(Temp(2)), .word, addressSpace: 0)),
        ]
        if readInFull { instructions.append(ir(.store(.temp(Temp(0), offset: 16), .temp(Temp(2)), .double, addressSpace: 0))) }
        var function = testFunction(parameters: 1, tempCount: 3, blocks: [
            Block(id: BlockID(0), instructions: instructions, terminator: .return(.constant(0))),
        ])
        #expect(removeUnneededExtensions(&function, OnceAssigned(function)) == !readInFull)
        let stored = operations(function).compactMap { operation -> Value? in
            if case .store(.temp(_, offset: 8), let value, _, _, _) = operation { return value }
            return nil
        }
        #expect(stored == [readInFull ? .temp(Temp(2)) : .temp(Temp(1))])
    }

    /// A shift reads the low 6 bits of its amount: an `int` amount's sign extension is not
    /// needed, in each kind of 64-bit shift.
    @Test(arguments: [BinaryOperator.shl, .lshr, .ashr])
    func aShiftAmountsExtensionGoes(op: BinaryOperator) {
        var function = testFunction(parameters: 2, tempCount: 5, blocks: [
            Block(id: BlockID(0), instructions: [
                ir(.load(Temp(2), .temp(Temp(1), offset: 0), .word, addressSpace: 0)),
                ir(.signExtend(Temp(3), .temp(Temp(2)), fromBits: 32)),
                ir(.binary(Temp(4), op, .bits64, .temp(Temp(0)), .temp(Temp(3)))),
            ], terminator: .return(.temp(Temp(4)))),
        ])
        #expect(removeUnneededExtensions(&function, OnceAssigned(function)))
        #expect(operations(function).contains(.binary(Temp(4), op, .bits64, .temp(Temp(0)), .temp(Temp(2)))))
    }

    /// Inside a block, a Temp assigned twice is known between its assignments, and a global's
    /// address already in a register is not loaded again.
    @Test func blockPropagationFollowsReassignmentsAndReusesAddresses() {
        var block = Block(id: BlockID(0), instructions: [
            ir(.copy(Temp(1), .constant(2))),
            ir(.binary(Temp(2), .add, .bits64, .temp(Temp(0)), .temp(Temp(1)))),
            ir(.copy(Temp(1), .temp(Temp(0)))),
            ir(.binary(Temp(3), .mul, .bits64, .temp(Temp(2)), .temp(Temp(1)))),
            ir(.symbolAddress(Temp(4), symbol: "g", offset: 0)),
            ir(.symbolAddress(Temp(5), symbol: "g", offset: 0)),
        ], terminator: .return(.temp(Temp(3))))
        #expect(propagateWithinBlock(&block))
        #expect(block.instructions.map(\.operation) == [
            .copy(Temp(1), .constant(2)),
            .binary(Temp(2), .add, .bits64, .temp(Temp(0)), .constant(2)),
            .copy(Temp(1), .temp(Temp(0))),
            .binary(Temp(3), .mul, .bits64, .temp(Temp(2)), .temp(Temp(0))),
            .symbolAddress(Temp(4), symbol: "g", offset: 0),
            .copy(Temp(5), .temp(Temp(4))),
        ])
    }

    /// `t2 = t0 + 1; t1 = t2` becomes `t1 = t0 + 1` when nothing else reads t2, or only later
    /// reads in the block (a loop's `i++` that its test reads), which then read t1. Read in
    /// another block, t2 stays.
    @Test(arguments: ["nowhere", "later in the block", "in another block"])
    func copyCoalescingWritesTheCopysDestination(t2Read: String) {
        let read: Value = t2Read == "nowhere" ? .temp(Temp(1)) : .temp(Temp(2))
        let original = testFunction(parameters: 1, tempCount: 3, blocks: t2Read == "in another block" ? [
            Block(id: BlockID(0), instructions: [
                ir(.binary(Temp(2), .add, .bits64, .temp(Temp(0)), .constant(1))),
                ir(.copy(Temp(1), .temp(Temp(2)))),
            ], terminator: .jump(BlockID(1))),
            Block(id: BlockID(1), terminator: .return(read)),
        ] : [
            Block(id: BlockID(0), instructions: [
                ir(.binary(Temp(2), .add, .bits64, .temp(Temp(0)), .constant(1))),
                ir(.copy(Temp(1), .temp(Temp(2)))),
            ], terminator: .return(read)),
        ])
        var function = original
        let coalesced = t2Read != "in another block"
        #expect(coalesceCopies(&function) == coalesced)
        if coalesced {
            #expect(operations(function) == [.binary(Temp(1), .add, .bits64, .temp(Temp(0)), .constant(1))])
            #expect(function.blocks[0].terminator == .return(.temp(Temp(1))))
        }
        expectSameResults(original, function, [[0], [9]])
    }

    /// A flag set to 1 then tested in an empty block: the jump goes straight to the side the test
    /// takes, and the test's block goes once nothing else reaches it.
    @Test func jumpThreadingSkipsATestOfAKnownValue() {
        let blocks = [
            Block(id: BlockID(0), instructions: [ir(.copy(Temp(1), .constant(1)))], terminator: .jump(BlockID(1))),
            Block(id: BlockID(1), terminator: .branch(.eq, .bits64, .temp(Temp(1)), .constant(1), then: BlockID(2), else: BlockID(3))),
            Block(id: BlockID(2), terminator: .return(.temp(Temp(0)))),
            Block(id: BlockID(3), terminator: .return(.constant(0))),
        ]
        let original = testFunction(parameters: 1, tempCount: 2, blocks: blocks)
        var function = original
        #expect(threadJumps(&function))
        #expect(function.blocks.count == 2)
        #expect(function.blocks[0].terminator == .jump(BlockID(1)))
        #expect(function.blocks[1].terminator == .return(.temp(Temp(0))))
        expectSameResults(original, function, [[0], [5]])
    }

    /// `x = p ? load : q; if (p) ...`: each side of the first test of p joins in a block that copies
    /// x and tests p again; each side takes a copy of that block and goes where the test would,
    /// and the second test is gone. A test the block's own path already decided goes too.
    @Test(arguments: [Condition.ne, .eq])
    func aTestDecidedByAnEarlierOneGoes(condition: Condition) {
        let blocks = [
            Block(id: BlockID(0), terminator: .branch(condition, .bits32, .temp(Temp(0)), .constant(0),
                                                     then: BlockID(1), else: BlockID(2))),
            Block(id: BlockID(1), instructions: [ir(.copy(Temp(2), .constant(10)))], terminator: .jump(BlockID(3))),
            Block(id: BlockID(2), instructions: [ir(.copy(Temp(2), .constant(20)))], terminator: .jump(BlockID(3))),
            Block(id: BlockID(3), instructions: [ir(.copy(Temp(3), .temp(Temp(2))))],
                  terminator: .branch(condition, .bits32, .temp(Temp(0)), .constant(0), then: BlockID(4), else: BlockID(5))),
            Block(id: BlockID(4), instructions: [ir(.binary(Temp(4), .add, .bits64, .temp(Temp(3)), .constant(1)))],
                  terminator: .branch(condition, .bits32, .temp(Temp(0)), .constant(0), then: BlockID(6), else: BlockID(5))),
            Block(id: BlockID(5), terminator: .return(.temp(Temp(3)))),
            Block(id: BlockID(6), terminator: .return(.temp(Temp(4)))),
        ]
        let original = testFunction(parameters: 1, tempCount: 5, blocks: blocks)
        var function = original
        #expect(threadJumps(&function))
        let branches = function.blocks.filter { if case .branch = $0.terminator { return true } else { return false } }
        #expect(branches.count == 1, "\(function.blocks)")
        expectSameResults(original, function, [[0], [1], [0x1_0000_0000]])
    }

    /// bpf_cmp_unlikely's shape: a flag set to 1 before an asm goto and tested at its label. The
    /// asm's jump goes to the side the test takes, and its fall-through edge, into a block that
    /// only jumps, goes where that block jumps.
    @Test func asmGotoEdgesSkipATestOfAKnownValueAndABareJump() {
        let asm = InlineAsm(template: [.text("if "), .operand(0, halfWord: false), .text(" > 5 goto "), .label(0)],
                            operands: [.input(.temp(Temp(0)))], clobbers: [])
        let blocks = [
            Block(id: BlockID(0), instructions: [ir(.copy(Temp(1), .constant(1)))],
                  terminator: .inlineAsmGoto(asm, labels: [BlockID(1)], next: BlockID(2))),
            Block(id: BlockID(1), terminator: .branch(.ne, .bits64, .temp(Temp(1)), .constant(0), then: BlockID(3), else: BlockID(4))),
            Block(id: BlockID(2), terminator: .jump(BlockID(4))),
            Block(id: BlockID(3), terminator: .return(.constant(1))),
            Block(id: BlockID(4), terminator: .return(.temp(Temp(0)))),
        ]
        var function = testFunction(parameters: 1, tempCount: 2, blocks: blocks)
        #expect(threadJumps(&function))
        #expect(function.blocks.count == 3)
        #expect(function.blocks[0].terminator == .inlineAsmGoto(asm, labels: [BlockID(1)], next: BlockID(2)))
        #expect(function.blocks[1].terminator == .return(.constant(1)))
        #expect(function.blocks[2].terminator == .return(.temp(Temp(0))))
    }

    /// `if (x == 1) return 0; if (x == 2) { g(x); return 0; } return x;`: both returns of 0 end in
    /// one block, and the program computes what it did.
    @Test func returnsOfOneValueShareABlock() {
        let blocks = [
            Block(id: BlockID(0), terminator: .branch(.eq, .bits64, .temp(Temp(0)), .constant(1), then: BlockID(1), else: BlockID(2))),
            Block(id: BlockID(1), terminator: .return(.constant(0))),
            Block(id: BlockID(2), terminator: .branch(.eq, .bits64, .temp(Temp(0)), .constant(2), then: BlockID(3), else: BlockID(4))),
            Block(id: BlockID(3), instructions: [ir(.binary(Temp(1), .mul, .bits64, .temp(Temp(0)), .constant(3)))],
                  terminator: .return(.constant(0))),
            Block(id: BlockID(4), terminator: .return(.temp(Temp(0)))),
        ]
        let original = testFunction(parameters: 1, tempCount: 2, blocks: blocks)
        var function = original
        #expect(mergeReturns(&function))
        let returns = function.blocks.filter {
            if case .return(.constant(0)) = $0.terminator { return true } else { return false }
        }
        #expect(returns.count == 1, "\(function.blocks)")
        expectSameResults(original, function, [[1], [2], [3]])
    }

    /// An unread load goes (libbpf-bootstrap's kprobe read `dfd` from pt_regs for nothing); an
    /// unread volatile or ordered one stays, as C requires.
    @Test func unreadLoadsGoUnlessVolatileOrOrdered() {
        let block = Block(id: BlockID(0), instructions: [
            ir(.load(Temp(1), .temp(Temp(0), offset: 0), .double, addressSpace: 0)),
            ir(.load(Temp(2), .temp(Temp(0), offset: 8), .double, addressSpace: 0, AccessFlags(isVolatile: true))),
            ir(.load(Temp(3), .temp(Temp(0), offset: 16), .double, addressSpace: 0, AccessFlags(isOrdered: true))),
        ], terminator: .return(.constant(0)))
        var function = testFunction(parameters: 1, tempCount: 4, blocks: [block])
        #expect(removeDeadInstructions(&function))
        let offsets = operations(function).compactMap { operation -> Int? in
            guard case .load(_, .temp(_, let offset), _, _, _) = operation else { return nil }
            return offset
        }
        #expect(offsets == [8, 16])
    }

    /// A value only its own loop updates read (`s = s * 7 + x` with s unused after the loop) is
    /// dead; the counter the loop's branch tests stays.
    @Test func aValueOnlyItsOwnUpdateReadsGoes() {
        let original = testFunction(parameters: 1, tempCount: 3, blocks: [
            Block(id: BlockID(0), instructions: [ir(.copy(Temp(1), .constant(0))), ir(.copy(Temp(2), .constant(0)))],
                  terminator: .jump(BlockID(1))),
            Block(id: BlockID(1), instructions: [
                ir(.binary(Temp(1), .mul, .bits64, .temp(Temp(1)), .constant(7))),
                ir(.binary(Temp(1), .add, .bits64, .temp(Temp(1)), .temp(Temp(0)))),
                ir(.binary(Temp(2), .add, .bits64, .temp(Temp(2)), .constant(1))),
            ], terminator: .branch(.slt, .bits64, .temp(Temp(2)), .constant(8), then: BlockID(1), else: BlockID(2))),
            Block(id: BlockID(2), instructions: [], terminator: .return(.temp(Temp(2)))),
        ])
        var function = original
        #expect(removeDeadInstructions(&function))
        #expect(operations(function) == [.copy(Temp(2), .constant(0)),
                                         .binary(Temp(2), .add, .bits64, .temp(Temp(2)), .constant(1))])
        expectSameResults(original, function, [[0], [5]])
    }

    /// An assignment that a later one in its block overwrites before anything reads it goes; one
    /// read in between stays.
    @Test func overwrittenAssignmentsGo() {
        let block = Block(id: BlockID(0), instructions: [
            ir(.copy(Temp(1), .constant(1))),
            ir(.copy(Temp(1), .constant(2))),
            ir(.binary(Temp(2), .add, .bits64, .temp(Temp(1)), .temp(Temp(0)))),
            ir(.copy(Temp(1), .constant(3))),
            ir(.binary(Temp(1), .add, .bits64, .temp(Temp(1)), .temp(Temp(2)))),
        ], terminator: .return(.temp(Temp(1))))
        var function = testFunction(parameters: 1, tempCount: 3, blocks: [block])
        #expect(removeDeadInstructions(&function))
        #expect(operations(function) == Array(block.instructions.dropFirst().map(\.operation)))
    }

    /// A mask of all 63 bits a shift right by one leaves is no mask (its test once overflowed).
    @Test func aMaskOfSixtyThreeBitsGoes() {
        let original = testFunction(parameters: 1, tempCount: 3, blocks: [
            Block(id: BlockID(0), instructions: [
                ir(.binary(Temp(1), .lshr, .bits64, .temp(Temp(0)), .constant(1))),
                ir(.binary(Temp(2), .and, .bits64, .temp(Temp(1)), .constant(Int64.max))),
            ], terminator: .return(.temp(Temp(2)))),
        ])
        var module = Module(functions: [original])
        simplify(&module)
        #expect(!operations(module.functions[0]).contains { if case .binary(_, .and, _, _, _) = $0 { true } else { false } })
        expectSameResults(original, module.functions[0], [[0], [UInt64.max], [12345]])
    }

    /// A 64-bit value's bytes, split as stack alignment stores a packed member and ored back in
    /// place as its reload does, are the value; with a byte left out, the value masked; bytes of
    /// another place (`x >> 8` left unshifted) stay an `or`.
    @Test(arguments: [(7, 0), (6, 2), (3, 1), (1, 1)])
    func bytesOredBackInPlaceAreTheValue(bytes: Int, reassembly: Int) {
        var instructions = [ir(.binary(Temp(1), .and, .bits64, .temp(Temp(0)), .constant(255)))]
        var next = 2
        var assembled = Temp(1)
        for k in 1...bytes {
            let shifted = Temp(next), byte = Temp(next + 1), placed = Temp(next + 2), joined = Temp(next + 3)
            next += 4
            instructions += [
                ir(.binary(shifted, .lshr, .bits64, .temp(Temp(0)), .constant(Int64(8 * k)))),
                ir(.binary(byte, .and, .bits64, .temp(shifted), .constant(255))),
                ir(.binary(placed, .shl, .bits64, .temp(byte), .constant(Int64(8 * k)))),
                ir(.binary(joined, .or, .bits64, .temp(assembled), .temp(placed))),
            ]
            assembled = joined
        }
        // Unshifted, the next byte is in the wrong place.
        instructions += [
            ir(.binary(Temp(next), .lshr, .bits64, .temp(Temp(0)), .constant(8))),
            ir(.binary(Temp(next + 1), .or, .bits64, .temp(Temp(next)), .temp(Temp(1)))),
            ir(.binary(Temp(next + 2), .xor, .bits64, .temp(Temp(next + 1)), .temp(assembled))),
        ]
        let original = testFunction(parameters: 1, tempCount: next + 3, blocks: [
            Block(id: BlockID(0), instructions: instructions, terminator: .return(.temp(Temp(next + 2)))),
        ])
        var module = Module(functions: [original])
        simplify(&module)
        let ops = operations(module.functions[0])
        let ors = ops.filter { if case .binary(_, .or, _, _, _) = $0 { true } else { false } }
        #expect(ors.count == 1, "\(ops)")
        // What stays of the bytes: nothing (x itself), a 32-bit move, an `and`, or a shift up and down; and
        // the wrong place's shift, `or` and `xor`, with the first byte it reads.
        #expect(ops.count == 4 + reassembly, "\(ops)")
        expectSameResults(original, module.functions[0], [[0], [UInt64.max], [0x0123_4567_89ab_cdef], [0x8000_0000_0000_0001]])
    }

    /// `bits |= 2; bits |= 16; bits |= 32` of a local assigned in several places is one `|= 50`;
    /// `u = t + 3` of `t = x + 4` is `x + 7`; a read of the local between two updates keeps both.
    @Test func constantChainsJoin() {
        let original = testFunction(parameters: 2, tempCount: 6, blocks: [
            Block(id: BlockID(0), instructions: [ir(.copy(Temp(2), .temp(Temp(0))))],
                  terminator: .branch(.eq, .bits64, .temp(Temp(1)), .constant(0), then: BlockID(1), else: BlockID(2))),
            Block(id: BlockID(1), instructions: [ir(.copy(Temp(2), .constant(9)))], terminator: .jump(BlockID(2))),
            Block(id: BlockID(2), instructions: [
                ir(.binary(Temp(2), .or, .bits64, .temp(Temp(2)), .constant(2))),
                ir(.binary(Temp(2), .or, .bits64, .temp(Temp(2)), .constant(16))),
                ir(.binary(Temp(2), .or, .bits64, .temp(Temp(2)), .constant(32))),
                ir(.binary(Temp(3), .add, .bits32, .temp(Temp(2)), .constant(4))),
                ir(.binary(Temp(4), .add, .bits32, .temp(Temp(3)), .constant(-1))),
                ir(.binary(Temp(2), .xor, .bits64, .temp(Temp(2)), .constant(1))),
                ir(.binary(Temp(5), .mul, .bits64, .temp(Temp(2)), .temp(Temp(4)))),
                ir(.binary(Temp(2), .xor, .bits64, .temp(Temp(2)), .constant(3))),
                ir(.binary(Temp(5), .add, .bits64, .temp(Temp(5)), .temp(Temp(2)))),
            ], terminator: .return(.temp(Temp(5)))),
        ])
        var function = original
        #expect(joinConstantChains(&function))
        let ops = operations(function)
        #expect(ops.contains(.binary(Temp(2), .or, .bits64, .temp(Temp(2)), .constant(50))), "\(ops)")
        #expect(ops.filter { if case .binary(_, .or, _, _, _) = $0 { true } else { false } }.count == 1, "\(ops)")
        #expect(ops.contains(.binary(Temp(4), .add, .bits32, .temp(Temp(2)), .constant(3))), "\(ops)")
        // The mul reads the first xor's result: the second xor stays on its own.
        #expect(ops.filter { if case .binary(_, .xor, _, _, _) = $0 { true } else { false } }.count == 2, "\(ops)")
        expectSameResults(original, function, [[0, 0], [5, 0], [0x7fff_ffff, 1], [UInt64.max, 1]])
    }

    /// `((x + 40) + y) - 5` is `(x + y) + 35`; not when y is assigned between the two adds.
    @Test(arguments: [false, true])
    func aConstantMovesPastATempToJoinTheNext(reassigned: Bool) {
        var instructions = [
            ir(.binary(Temp(2), .add, .bits64, .temp(Temp(0)), .constant(40))),
            ir(.binary(Temp(3), .add, .bits64, .temp(Temp(2)), .temp(Temp(1)))),
            ir(.binary(Temp(4), .add, .bits64, .temp(Temp(3)), .constant(-5))),
        ]
        if reassigned { instructions.insert(ir(.binary(Temp(1), .mul, .bits64, .temp(Temp(1)), .constant(3))), at: 1) }
        let original = testFunction(parameters: 2, tempCount: 5, blocks: [
            Block(id: BlockID(0), instructions: instructions, terminator: .return(.temp(Temp(4)))),
        ])
        var function = original
        _ = joinConstantChains(&function)
        let ops = operations(function)
        #expect(ops.contains(.binary(Temp(4), .add, .bits64, .temp(Temp(2)), .constant(35))) == !reassigned, "\(ops)")
        expectSameResults(original, function, [[0, 0], [5, 7], [UInt64.max, 1]])
    }

    /// `x ^ x` is 0, `x | x` is x; `0 < x` and `x > 0` are both `x != 0`, computed once; an
    /// unsigned `x < 0` never holds.
    @Test func sameOperandsAndUnsignedTestsOfZeroFold() {
        let original = testFunction(parameters: 1, tempCount: 8, blocks: [
            Block(id: BlockID(0), instructions: [
                ir(.binary(Temp(1), .xor, .bits64, .temp(Temp(0)), .temp(Temp(0)))),
                ir(.binary(Temp(2), .or, .bits64, .temp(Temp(0)), .temp(Temp(0)))),
                ir(.setCondition(Temp(3), .ult, .bits64, .constant(0), .temp(Temp(2)))),
                ir(.setCondition(Temp(4), .ugt, .bits64, .temp(Temp(0)), .constant(0))),
                ir(.binary(Temp(5), .add, .bits64, .temp(Temp(3)), .temp(Temp(4)))),
                ir(.binary(Temp(6), .add, .bits64, .temp(Temp(5)), .temp(Temp(1)))),
            ], terminator: .branch(.ult, .bits64, .temp(Temp(0)), .constant(0), then: BlockID(1), else: BlockID(2))),
            Block(id: BlockID(1), instructions: [], terminator: .return(.constant(7))),
            Block(id: BlockID(2), instructions: [], terminator: .return(.temp(Temp(6)))),
        ])
        var module = Module(functions: [original])
        simplify(&module)
        let ops = operations(module.functions[0])
        #expect(ops.filter { if case .setCondition = $0 { true } else { false } }.count == 1, "\(ops)")
        #expect(!ops.contains { if case .binary(_, .xor, _, _, _) = $0 { true } else { false } }, "\(ops)")
        #expect(module.functions[0].blocks.count == 1, "\(module.functions[0].blocks)")
        expectSameResults(original, module.functions[0], [[0], [1], [UInt64.max]])
    }

    /// After `x = c ? 2 : 4`, the join's `y = x + 6; z = y * 10` are constants in each arm; what
    /// also reads the parameter stays in the join, and so does a step of a value read again.
    @Test func arithmeticOnArmsConstantsMovesIntoTheArms() {
        let original = testFunction(parameters: 1, tempCount: 6, blocks: [
            Block(id: BlockID(0), instructions: [],
                  terminator: .branch(.eq, .bits64, .temp(Temp(0)), .constant(0), then: BlockID(1), else: BlockID(2))),
            Block(id: BlockID(1), instructions: [ir(.copy(Temp(1), .constant(2)))], terminator: .jump(BlockID(3))),
            Block(id: BlockID(2), instructions: [ir(.copy(Temp(1), .constant(4)))], terminator: .jump(BlockID(3))),
            Block(id: BlockID(3), instructions: [
                ir(.binary(Temp(2), .add, .bits64, .temp(Temp(1)), .constant(6))),
                ir(.binary(Temp(3), .mul, .bits32, .temp(Temp(2)), .constant(10))),
                ir(.binary(Temp(4), .add, .bits64, .temp(Temp(0)), .temp(Temp(3)))),
                ir(.binary(Temp(5), .xor, .bits64, .temp(Temp(4)), .temp(Temp(3)))),
            ], terminator: .return(.temp(Temp(5)))),
        ])
        var function = original
        #expect(foldIntoPredecessors(&function))
        #expect(function.blocks[3].instructions.count == 2, "\(function.blocks[3])")
        #expect(function.blocks[1].instructions.last?.operation == .copy(Temp(3), .constant(80)), "\(function.blocks[1])")
        #expect(function.blocks[2].instructions.last?.operation == .copy(Temp(3), .constant(100)), "\(function.blocks[2])")
        expectSameResults(original, function, [[0], [1], [UInt64.max]])
    }

    /// After `x = c ? 1 : 2`, the join's load and store that do not read x move above the branch,
    /// where the verifier walks them once; the add that reads x stays, and so does a load after
    /// it that would pass a store which stays.
    @Test func whatFollowsAnArmsJoinAndReadsNeitherMovesAboveTheBranch() {
        let original = testFunction(parameters: 2, tempCount: 8, blocks: [
            Block(id: BlockID(0), instructions: [],
                  terminator: .branch(.eq, .bits64, .temp(Temp(0)), .constant(0), then: BlockID(1), else: BlockID(2))),
            Block(id: BlockID(1), instructions: [ir(.copy(Temp(2), .constant(1)))], terminator: .jump(BlockID(3))),
            Block(id: BlockID(2), instructions: [ir(.copy(Temp(2), .constant(2)))], terminator: .jump(BlockID(3))),
            Block(id: BlockID(3), instructions: [
                ir(.load(Temp(3), .temp(Temp(1), offset: 0), .double, addressSpace: 0)),
                ir(.store(.temp(Temp(1), offset: 8), .temp(Temp(3)), .double, addressSpace: 0)),
                ir(.binary(Temp(4), .add, .bits64, .temp(Temp(3)), .temp(Temp(2)))),
                ir(.store(.temp(Temp(1), offset: 16), .temp(Temp(4)), .double, addressSpace: 0)),
                ir(.load(Temp(5), .temp(Temp(1), offset: 24), .double, addressSpace: 0)),
                ir(.binary(Temp(6), .xor, .bits64, .temp(Temp(4)), .temp(Temp(5)))),
            ], terminator: .return(.temp(Temp(6)))),
        ])
        var function = original
        #expect(hoistFromJoins(&function))
        #expect(function.blocks[0].instructions.count == 2, "\(function.blocks[0])")
        #expect(function.blocks[3].instructions.count == 4, "\(function.blocks[3])")
        for c: UInt64 in [0, 1] {
            var before = IRInterpreter(module: Module(functions: [original]))
            var after = IRInterpreter(module: Module(functions: [function]))
            let bytes = (0..<32).map { UInt8($0 * 5 & 0xff) }
            before.write(bytes, at: 0x1000)
            after.write(bytes, at: 0x1000)
            #expect(before.call("f", [c, 0x1000]) == after.call("f", [c, 0x1000]))
            #expect(before.read(32, at: 0x1000) == after.read(32, at: 0x1000))
        }
    }

    /// `b = x & 1 ? 0 : x < 10; b |= x > 100; return b != 0`: every value `b` is ever assigned
    /// is 0 or 1, so `b != 0` is `b`; with an arm that assigns 2 instead, the test stays.
    @Test(arguments: [1, 2])
    func aTestOfATempEveryAssignmentGivesOneBitIsThatTemp(armConstant: Int64) {
        let original = testFunction(parameters: 1, tempCount: 6, blocks: [
            Block(id: BlockID(0), instructions: [ir(.binary(Temp(2), .and, .bits64, .temp(Temp(0)), .constant(1)))],
                  terminator: .branch(.ne, .bits64, .temp(Temp(2)), .constant(0), then: BlockID(1), else: BlockID(2))),
            Block(id: BlockID(1), instructions: [ir(.copy(Temp(1), .constant(armConstant)))], terminator: .jump(BlockID(3))),
            Block(id: BlockID(2), instructions: [ir(.setCondition(Temp(1), .ult, .bits64, .temp(Temp(0)), .constant(10)))],
                  terminator: .jump(BlockID(3))),
            Block(id: BlockID(3), instructions: [
                ir(.setCondition(Temp(3), .ugt, .bits64, .temp(Temp(0)), .constant(100))),
                ir(.binary(Temp(1), .or, .bits64, .temp(Temp(1)), .temp(Temp(3)))),
                ir(.setCondition(Temp(4), .ne, .bits64, .temp(Temp(1)), .constant(0))),
                ir(.binary(Temp(5), .add, .bits64, .temp(Temp(4)), .temp(Temp(0)))),
            ], terminator: .return(.temp(Temp(5)))),
        ])
        var module = Module(functions: [original])
        simplify(&module)
        let tests = operations(module.functions[0]).filter {
            if case .setCondition(_, .ne, _, _, .constant(0)) = $0 { true } else { false }
        }
        #expect(tests.count == (armConstant == 1 ? 0 : 1), "\(operations(module.functions[0]))")
        expectSameResults(original, module.functions[0], [[0], [1], [5], [20], [101], [102], [UInt64.max]])
    }

    /// `if ((signed char)s[i] == c)`: the loaded byte is compared with c's low byte, without
    /// the extension, where c is a `signed char`'s value (0, -1); 200 is none, and the test stays.
    @Test(arguments: [0, -1, 200] as [Int64])
    func anEqualityOfAnExtendedByteTestsTheByte(c: Int64) {
        let original = testFunction(parameters: 1, tempCount: 3, blocks: [
            Block(id: BlockID(0), instructions: [
                ir(.load(Temp(1), .temp(Temp(0), offset: 0), .byte, addressSpace: 0)),
                ir(.signExtend(Temp(2), .temp(Temp(1)), fromBits: 8)),
            ], terminator: .branch(.eq, .bits32, .temp(Temp(2)), .constant(c), then: BlockID(1), else: BlockID(2))),
            Block(id: BlockID(1), terminator: .return(.constant(1))),
            Block(id: BlockID(2), terminator: .return(.temp(Temp(2)))),
        ])
        var module = Module(functions: [original])
        simplify(&module)
        let branch = module.functions[0].blocks[0].terminator
        if c == 200 {
            #expect(branch == .jump(BlockID(2)) || branch.usedTemps == [Temp(2)], "\(branch)")
        } else {
            #expect(branch.usedTemps == [Temp(1)], "\(branch)")
        }
    }

    /// Two blocks that store their path's value into a slot of their own, load it back and return
    /// it plus 7 are one block, each path giving its value through a new Temp (BPF_KSYSCALL's two
    /// inlined copies of one body); not where the second block's slot is also used elsewhere.
    @Test(arguments: [false, true])
    func blocksThatComputeTheSameThingAreOne(slotUsedElsewhere: Bool) {
        func tail(_ id: Int, slot: Int, value: Int, loaded: Int, sum: Int) -> Block {
            Block(id: BlockID(id), instructions: [
                ir(.store(.slot(SlotID(slot), offset: 0), .temp(Temp(value)), .double, addressSpace: 0)),
                ir(.load(Temp(loaded), .slot(SlotID(slot), offset: 0), .double, addressSpace: 0)),
                ir(.binary(Temp(sum), .add, .bits64, .temp(Temp(loaded)), .constant(7))),
            ], terminator: .return(.temp(Temp(sum))))
        }
        var entry = [IRInstruction]()
        if slotUsedElsewhere { entry.append(ir(.store(.slot(SlotID(1), offset: 0), .constant(1), .double, addressSpace: 0))) }
        let slot = StackSlot(size: 8, alignment: 8, name: "s", location: nil)
        let original = testFunction(parameters: 1, tempCount: 7, blocks: [
            Block(id: BlockID(0), instructions: entry,
                  terminator: .branch(.ne, .bits64, .temp(Temp(0)), .constant(0), then: BlockID(1), else: BlockID(2))),
            Block(id: BlockID(1), instructions: [ir(.binary(Temp(1), .add, .bits64, .temp(Temp(0)), .constant(5)))],
                  terminator: .branch(.eq, .bits64, .temp(Temp(1)), .constant(100), then: BlockID(5), else: BlockID(3))),
            Block(id: BlockID(2), instructions: [ir(.binary(Temp(2), .mul, .bits64, .temp(Temp(0)), .constant(3)))],
                  terminator: .branch(.eq, .bits64, .temp(Temp(2)), .constant(99), then: BlockID(5), else: BlockID(4))),
            tail(3, slot: 0, value: 1, loaded: 3, sum: 4),
            tail(4, slot: 1, value: 2, loaded: 5, sum: 6),
            Block(id: BlockID(5), terminator: .return(.constant(0))),
        ], slots: [slot, slot])
        var function = original
        #expect(mergeTails(&function) == !slotUsedElsewhere)
        #expect(function.blocks.count == (slotUsedElsewhere ? 6 : 5))
        expectSameResults(original, function, [[0], [1], [95], [33], [7]])
    }

    /// The predecessors of two merged blocks come after them and get the copies that give the new
    /// Temp its value: they are left alone in the same call (a csmith program crashed on them).
    @Test func predecessorsOfMergedBlocksAreLeftAlone() {
        let original = testFunction(parameters: 1, tempCount: 5, blocks: [
            Block(id: BlockID(0), terminator: .branch(.ne, .bits64, .temp(Temp(0)), .constant(0),
                                                       then: BlockID(3), else: BlockID(4))),
            Block(id: BlockID(1), instructions: [ir(.binary(Temp(3), .add, .bits64, .temp(Temp(1)), .constant(7)))],
                  terminator: .return(.temp(Temp(3)))),
            Block(id: BlockID(2), instructions: [ir(.binary(Temp(4), .add, .bits64, .temp(Temp(2)), .constant(7)))],
                  terminator: .return(.temp(Temp(4)))),
            Block(id: BlockID(3), instructions: [ir(.binary(Temp(1), .mul, .bits64, .temp(Temp(0)), .constant(3)))],
                  terminator: .jump(BlockID(1))),
            Block(id: BlockID(4), instructions: [ir(.binary(Temp(2), .mul, .bits64, .temp(Temp(0)), .constant(5)))],
                  terminator: .jump(BlockID(2))),
        ])
        var function = original
        #expect(mergeTails(&function))
        #expect(function.blocks.count == 4)
        expectSameResults(original, function, [[0], [1], [10]])
    }

    /// The negation of a constant is a constant: in 32 bits, of the low half (`-a` of an inlined
    /// `int a = 100`).
    @Test(arguments: [ALUWidth.bits64, .bits32])
    func aNegatedConstantFolds(width: ALUWidth) {
        let original = testFunction(parameters: 1, tempCount: 3, blocks: [
            Block(id: BlockID(0), instructions: [
                ir(.negate(Temp(1), width, .constant(100))),
                ir(.binary(Temp(2), .add, .bits64, .temp(Temp(1)), .temp(Temp(0)))),
            ], terminator: .return(.temp(Temp(2)))),
        ])
        var module = Module(functions: [original])
        simplify(&module)
        let ops = operations(module.functions[0])
        #expect(!ops.contains { if case .negate = $0 { true } else { false } }, "\(ops)")
        expectSameResults(original, module.functions[0], [[0], [1], [UInt64.max]])
    }

    /// `(x == 7) * 100000 + 233` is a branch between 100233 and 233: no comparison's 0 or 1, no
    /// multiply; what reads the 0 or 1 twice keeps it.
    @Test(arguments: [false, true])
    func aComparisonsConstantArithmeticIsAChoiceOfResults(readTwice: Bool) {
        var instructions = [
            ir(.setCondition(Temp(1), .eq, .bits64, .temp(Temp(0)), .constant(7))),
            ir(.binary(Temp(2), .mul, .bits32, .temp(Temp(1)), .constant(100_000))),
            ir(.binary(Temp(3), .add, .bits32, .temp(Temp(2)), .constant(233))),
            ir(.binary(Temp(4), .add, .bits64, .temp(Temp(3)), .temp(Temp(0)))),
        ]
        if readTwice { instructions.append(ir(.binary(Temp(4), .add, .bits64, .temp(Temp(4)), .temp(Temp(1))))) }
        let original = testFunction(parameters: 1, tempCount: 5, blocks: [
            Block(id: BlockID(0), instructions: instructions, terminator: .return(.temp(Temp(4)))),
        ])
        var function = original
        #expect(foldSelects(&function) == !readTwice)
        let ops = operations(function)
        #expect(ops.contains { if case .setCondition = $0 { true } else { false } } == readTwice, "\(ops)")
        if !readTwice {
            #expect(ops.contains(.copy(Temp(3), .constant(100_233))) && ops.contains(.copy(Temp(3), .constant(233))), "\(ops)")
        }
        expectSameResults(original, function, [[7], [0], [UInt64.max]])
    }

    /// The rounds together: a chain of copies, constants and extensions collapses to one add.
    @Test func roundsCollapseAChain() {
        let original = testFunction(parameters: 1, tempCount: 6, blocks: [
            Block(id: BlockID(0), instructions: [
                ir(.copy(Temp(1), .constant(3))),
                ir(.copy(Temp(2), .temp(Temp(0)))),
                ir(.zeroExtend(Temp(3), .temp(Temp(1)), fromBits: 8)),
                ir(.binary(Temp(4), .add, .bits64, .temp(Temp(2)), .temp(Temp(3)))),
                ir(.copy(Temp(5), .temp(Temp(4)))),
            ], terminator: .return(.temp(Temp(5)))),
        ])
        var module = Module(functions: [original])
        simplify(&module)
        #expect(operations(module.functions[0]).count == 1, "\(module.functions[0].blocks)")
        expectSameResults(original, module.functions[0], [[0], [100]])
    }
}
