import BPFDiagnostics
import BPFIR
import IRTestSupport
import Testing
@testable import Passes

@Suite struct LoopUnrollingTests {
    /// `t = 0; for (i = start; i < end; i += step) t += i * 3 (or t += 5); return t`, tested at the
    /// top, or rotated (the first test done, the test after the step, as simplification leaves it).
    private func loop(start: Int64, end: Int64, step: Int64, rotated: Bool, readsCounter: Bool = true) -> Function {
        let body: [IRInstruction] = [
            ir(.binary(Temp(2), .mul, .bits64, readsCounter ? .temp(Temp(1)) : .constant(5), .constant(3))),
            ir(.binary(Temp(0), .add, .bits64, .temp(Temp(0)), .temp(Temp(2)))),
            ir(.binary(Temp(3), .add, .bits64, .temp(Temp(1)), .constant(step))),
            ir(.copy(Temp(1), .temp(Temp(3)))),
        ]
        // A body that does not read the counter adds to a total that comes in unknown (the parameter).
        let entry = Block(id: BlockID(0), instructions: (readsCounter ? [ir(.copy(Temp(0), .constant(0)))] : [])
                                                        + [ir(.copy(Temp(1), .constant(start)))],
                          terminator: .jump(BlockID(1)))
        if rotated {
            return testFunction(parameters: readsCounter ? 0 : 1, tempCount: 4, blocks: [
                entry,
                Block(id: BlockID(1), instructions: body,
                      terminator: .branch(.slt, .bits64, .temp(Temp(3)), .constant(end), then: BlockID(1), else: BlockID(2))),
                Block(id: BlockID(2), terminator: .return(.temp(Temp(0)))),
            ])
        }
        return testFunction(parameters: readsCounter ? 0 : 1, tempCount: 4, blocks: [
            entry,
            Block(id: BlockID(1), terminator: .branch(.slt, .bits64, .temp(Temp(1)), .constant(end), then: BlockID(2), else: BlockID(3))),
            Block(id: BlockID(2), instructions: body, terminator: .jump(BlockID(1))),
            Block(id: BlockID(3), terminator: .return(.temp(Temp(0)))),
        ])
    }

    /// `g`, a writable global of `size` bytes starting at zero.
    private func zeroedGlobal(size: Int) -> GlobalVariable {
        GlobalVariable(symbol: "g", name: "g", linkage: .global, section: ".bss", type: TypeID(rawValue: 0),
                       size: size, alignment: size, initializer: [UInt8](repeating: 0, count: size),
                       location: SourceLocation(file: "test.c", line: 1, column: 1))
    }

    private func hasCycle(_ function: Function) -> Bool {
        !ControlFlow(function).inCycle.isEmpty
    }

    /// Unrolled, `original` has no loop left and returns what it returned.
    private func expectStraightLine(_ original: Function, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        var module = Module(functions: [original])
        #expect(unrollLoops(&module, cpu: .v3), sourceLocation: sourceLocation)
        #expect(!hasCycle(module.functions[0]), sourceLocation: sourceLocation)
        #expect(result(module.functions[0]) == result(original), sourceLocation: sourceLocation)
    }

    private func result(_ function: Function) -> UInt64 {
        var interpreter = IRInterpreter(module: Module(functions: [function]))
        return interpreter.call("f", [])
    }

    @Test(arguments: [false, true])
    func countedLoopsBecomeStraightLine(rotated: Bool) {
        for (start, end, step) in [(0, 4, 1), (10, 2, 1), (3, 20, 5), (0, 16, 1)] as [(Int64, Int64, Int64)] {
            if rotated && start >= end { continue }
            let original = loop(start: start, end: end, step: step, rotated: rotated)
            var module = Module(functions: [original])
            unrollLoops(&module, cpu: .v3)
            #expect(!hasCycle(module.functions[0]), "\(start)..<\(end) by \(step)")
            #expect(result(module.functions[0]) == result(original), "\(start)..<\(end) by \(step)")
        }
    }

    /// Too many trips, or a body whose known values only count (a CRC's shifts of unknown data:
    /// nothing would fold): a loop stays.
    @Test func otherLoopsStay() {
        for original in [loop(start: 0, end: 1000, step: 1, rotated: false),
                         loop(start: 0, end: 4, step: 1, rotated: false, readsCounter: false)] {
            var module = Module(functions: [original])
            unrollLoops(&module, cpu: .v3)
            #expect(module.functions[0].blocks == original.blocks)
        }
    }

    /// `for (i = 0; i < 6; i++) { if (i == x) break; t += i; }`: the break tests data, so each copy
    /// keeps it, and the loop still unrolls on its counted exit.
    @Test func aBreakOnDataStaysInEachCopy() {
        let original = testFunction(parameters: 1, tempCount: 5, blocks: [
            Block(id: BlockID(0), instructions: [ir(.copy(Temp(1), .constant(0))), ir(.copy(Temp(2), .constant(0)))],
                  terminator: .jump(BlockID(1))),
            Block(id: BlockID(1), terminator: .branch(.slt, .bits64, .temp(Temp(2)), .constant(6), then: BlockID(2), else: BlockID(4))),
            Block(id: BlockID(2), terminator: .branch(.eq, .bits64, .temp(Temp(2)), .temp(Temp(0)), then: BlockID(4), else: BlockID(3))),
            Block(id: BlockID(3), instructions: [
                ir(.binary(Temp(1), .add, .bits64, .temp(Temp(1)), .temp(Temp(2)))),
                ir(.binary(Temp(2), .add, .bits64, .temp(Temp(2)), .constant(1))),
            ], terminator: .jump(BlockID(1))),
            Block(id: BlockID(4), terminator: .return(.temp(Temp(1)))),
        ])
        var module = Module(functions: [original])
        unrollLoops(&module, cpu: .v3)
        #expect(!hasCycle(module.functions[0]))
        for x: UInt64 in [0, 2, 5, 9] {
            var before = IRInterpreter(module: Module(functions: [original]))
            var after = IRInterpreter(module: module)
            #expect(before.call("f", [x]) == after.call("f", [x]), "x = \(x)")
        }
    }
    /// `for (i = 0, j = 10; i < j; i++, j--) t += i * j`: the test compares two counters.
    @Test func twoCountersTestedAgainstEachOther() {
        let original = testFunction(parameters: 0, tempCount: 5, blocks: [
            Block(id: BlockID(0), instructions: [ir(.copy(Temp(0), .constant(0))), ir(.copy(Temp(1), .constant(0))),
                                                 ir(.copy(Temp(2), .constant(10)))],
                  terminator: .jump(BlockID(1))),
            Block(id: BlockID(1), terminator: .branch(.slt, .bits64, .temp(Temp(1)), .temp(Temp(2)), then: BlockID(2), else: BlockID(3))),
            Block(id: BlockID(2), instructions: [
                ir(.binary(Temp(3), .mul, .bits64, .temp(Temp(1)), .temp(Temp(2)))),
                ir(.binary(Temp(0), .add, .bits64, .temp(Temp(0)), .temp(Temp(3)))),
                ir(.binary(Temp(1), .add, .bits64, .temp(Temp(1)), .constant(1))),
                ir(.binary(Temp(2), .sub, .bits64, .temp(Temp(2)), .constant(1))),
            ], terminator: .jump(BlockID(1))),
            Block(id: BlockID(3), terminator: .return(.temp(Temp(0)))),
        ])
        expectStraightLine(original)
    }

    /// What load forwarding leaves of a counter kept in memory: the header copies it
    /// (`%3 = %5`), the step reads the copy, and the stepped value is copied back.
    @Test func aCounterReadThroughACopy() {
        let original = testFunction(parameters: 0, tempCount: 7, blocks: [
            Block(id: BlockID(0), instructions: [ir(.copy(Temp(0), .constant(0))), ir(.copy(Temp(5), .constant(0)))],
                  terminator: .jump(BlockID(1))),
            Block(id: BlockID(1), instructions: [ir(.copy(Temp(3), .temp(Temp(5))))],
                  terminator: .branch(.slt, .bits32, .temp(Temp(5)), .constant(16), then: BlockID(2), else: BlockID(3))),
            Block(id: BlockID(2), instructions: [
                ir(.binary(Temp(6), .mul, .bits64, .temp(Temp(3)), .constant(5))),
                ir(.binary(Temp(0), .add, .bits64, .temp(Temp(0)), .temp(Temp(6)))),
                ir(.binary(Temp(4), .add, .bits32, .temp(Temp(3)), .constant(1))),
                ir(.copy(Temp(5), .temp(Temp(4)))),
            ], terminator: .jump(BlockID(1))),
            Block(id: BlockID(3), terminator: .return(.temp(Temp(0)))),
        ])
        expectStraightLine(original)
    }

    /// `while (s[n]) n++` over a const string: the exit tests bytes of `.rodata`, which the
    /// simulation reads.
    @Test func anExitOnConstantData() {
        let text: [UInt8] = Array("unroll".utf8) + [0]
        let string = GlobalVariable(symbol: "s", name: "s", linkage: .global, section: ".rodata", type: TypeID(rawValue: 0),
                                    size: text.count, alignment: 1, initializer: text,
                                    location: BPFDiagnostics.SourceLocation(file: "test.c", line: 1, column: 1),
                                    isConstant: true)
        let original = testFunction(parameters: 0, tempCount: 4, blocks: [
            Block(id: BlockID(0), instructions: [ir(.copy(Temp(0), .constant(0)))], terminator: .jump(BlockID(1))),
            Block(id: BlockID(1), instructions: [
                ir(.symbolAddress(Temp(1), symbol: "s", offset: 0)),
                ir(.binary(Temp(2), .add, .bits64, .temp(Temp(1)), .temp(Temp(0)))),
                ir(.load(Temp(3), .temp(Temp(2), offset: 0), .byte, addressSpace: 0)),
            ], terminator: .branch(.ne, .bits32, .temp(Temp(3)), .constant(0), then: BlockID(2), else: BlockID(3))),
            Block(id: BlockID(2), instructions: [ir(.binary(Temp(0), .add, .bits64, .temp(Temp(0)), .constant(1)))],
                  terminator: .jump(BlockID(1))),
            Block(id: BlockID(3), terminator: .return(.temp(Temp(0)))),
        ])
        var module = Module(functions: [original], globals: [string])
        #expect(unrollLoops(&module, cpu: .v3))
        #expect(!hasCycle(module.functions[0]))
        var interpreter = IRInterpreter(module: module)
        #expect(interpreter.call("f", []) == 6)
        // The same bytes in `.data`, which the program may change, say nothing.
        var writable = Module(functions: [original], globals: [string])
        writable.globals[0].section = ".data"
        writable.globals[0].isConstant = false
        #expect(!unrollLoops(&writable, cpu: .v3))
    }

    /// On trial, the unrolled function is kept when it is worth its size: 40 copies of a load,
    /// arithmetic and a store of unknown data are not; 40 copies that fold to one constant are.
    @Test func onTrialTheCleanedUpCopiesDecide() {
        let stores = testFunction(parameters: 1, tempCount: 3, blocks: [
            Block(id: BlockID(0), instructions: [ir(.copy(Temp(1), .constant(0)))], terminator: .jump(BlockID(1))),
            Block(id: BlockID(1), instructions: [
                ir(.load(Temp(2), .temp(Temp(0), offset: 8), .double, addressSpace: 0)),
                ir(.binary(Temp(2), .mul, .bits64, .temp(Temp(2)), .constant(3))),
                ir(.binary(Temp(2), .add, .bits64, .temp(Temp(2)), .temp(Temp(1)))),
                ir(.store(.temp(Temp(0), offset: 0), .temp(Temp(2)), .double, addressSpace: 0)),
                ir(.binary(Temp(1), .add, .bits64, .temp(Temp(1)), .constant(1))),
            ], terminator: .branch(.slt, .bits64, .temp(Temp(1)), .constant(40), then: BlockID(1), else: BlockID(2))),
            Block(id: BlockID(2), terminator: .return(.constant(0))),
        ])
        var module = Module(functions: [stores])
        #expect(!unrollLoops(&module, cpu: .v3, cleanup: { simplify(&$0) }))
        var folding = Module(functions: [loop(start: 0, end: 40, step: 1, rotated: true)])
        #expect(unrollLoops(&folding, cpu: .v3, cleanup: { simplify(&$0) }))
        #expect(!hasCycle(folding.functions[0]))
        #expect(result(folding.functions[0]) == result(loop(start: 0, end: 40, step: 1, rotated: true)))
    }

    /// `for (k = 40; k > 0; k -= 7) { if (k == 26) s += 1000; else s += k * 3; }` as jump
    /// threading leaves it: the first test done before entry, which enters at the `else` arm, and
    /// the `if` arm jumping straight to the step and test, a second back edge to a block of its
    /// own. One loop, counted from its first block.
    /// With `k == x`, x a parameter, in place of `k == 26`, an iteration may start at either block.
    @Test(arguments: [false, true])
    func aLoopThreadingSplitInTwo(testsData: Bool) {
        let original = testFunction(parameters: 1, tempCount: 4, blocks: [
            Block(id: BlockID(0), instructions: [ir(.copy(Temp(1), .constant(0))), ir(.copy(Temp(2), .constant(40)))],
                  terminator: .jump(BlockID(5))),
            Block(id: BlockID(1), terminator: .branch(.eq, .bits64, .temp(Temp(2)), testsData ? .temp(Temp(0)) : .constant(26),
                                                      then: BlockID(4), else: BlockID(5))),
            Block(id: BlockID(2), terminator: .return(.temp(Temp(1)))),
            Block(id: BlockID(3), instructions: [ir(.binary(Temp(2), .add, .bits64, .temp(Temp(2)), .constant(-7)))],
                  terminator: .branch(.sgt, .bits64, .temp(Temp(2)), .constant(0), then: BlockID(1), else: BlockID(2))),
            Block(id: BlockID(4), instructions: [ir(.binary(Temp(1), .add, .bits64, .temp(Temp(1)), .constant(1000)))],
                  terminator: .jump(BlockID(3))),
            Block(id: BlockID(5), instructions: [
                ir(.binary(Temp(3), .mul, .bits64, .temp(Temp(2)), .constant(3))),
                ir(.binary(Temp(1), .add, .bits64, .temp(Temp(1)), .temp(Temp(3)))),
            ], terminator: .jump(BlockID(3))),
        ])
        var module = Module(functions: [original])
        #expect(unrollLoops(&module, cpu: .v3))
        #expect(!hasCycle(module.functions[0]))
        for x: UInt64 in [26, 33, 5, 40, 1] {
            var before = IRInterpreter(module: Module(functions: [original]))
            var after = IRInterpreter(module: module)
            #expect(before.call("f", [x]) == after.call("f", [x]), "x = \(x)")
        }
        if !testsData {
            var interpreter = IRInterpreter(module: module)
            #expect(interpreter.call("f", [0]) == 1000 + 3 * (40 + 33 + 19 + 12 + 5))
        }
    }

    /// `for (r = 0; r < 3; r++) for (c = r; c < 4; c++) s += r * 10 + c`: the inner loop starts
    /// where the outer counter is, which only the nest knows; the nest unrolls whole.
    @Test func aNestWhoseInnerBoundsFollowTheOuterCounter() {
        let original = testFunction(parameters: 0, tempCount: 5, blocks: [
            Block(id: BlockID(0), instructions: [ir(.copy(Temp(0), .constant(0))), ir(.copy(Temp(1), .constant(0)))],
                  terminator: .jump(BlockID(1))),
            Block(id: BlockID(1), terminator: .branch(.slt, .bits64, .temp(Temp(1)), .constant(3), then: BlockID(2), else: BlockID(5))),
            Block(id: BlockID(2), instructions: [ir(.copy(Temp(2), .temp(Temp(1))))], terminator: .jump(BlockID(3))),
            Block(id: BlockID(3), terminator: .branch(.slt, .bits64, .temp(Temp(2)), .constant(4), then: BlockID(4), else: BlockID(6))),
            Block(id: BlockID(4), instructions: [
                ir(.binary(Temp(3), .mul, .bits64, .temp(Temp(1)), .constant(10))),
                ir(.binary(Temp(4), .add, .bits64, .temp(Temp(3)), .temp(Temp(2)))),
                ir(.binary(Temp(0), .add, .bits64, .temp(Temp(0)), .temp(Temp(4)))),
                ir(.binary(Temp(2), .add, .bits64, .temp(Temp(2)), .constant(1))),
            ], terminator: .jump(BlockID(3))),
            Block(id: BlockID(5), terminator: .return(.temp(Temp(0)))),
            Block(id: BlockID(6), instructions: [ir(.binary(Temp(1), .add, .bits64, .temp(Temp(1)), .constant(1)))],
                  terminator: .jump(BlockID(1))),
        ])
        expectStraightLine(original)
    }

    /// `for (j = 0; j < 100; j++) acc = acc * 31 + *p;` then `for (i = 0; i < 40; i++) t += a[(i * 3) & 31]`,
    /// `a` an int array of the stack, after 100 stores of data. Unrolled, the second loop's
    /// copies are a load, a sign extension (two instructions at v3) and an add each, and save the
    /// verifier less than the first loop costs it anyway: it stays. (Counted in IR instructions,
    /// a copy is three, and with the first loop's walk left out, the copies looked worth it.)
    @Test func copiesThatCostMoreToLoadThanTheySaveTheVerifierStay() {
        var entry: [IRInstruction] = [ir(.copy(Temp(1), .constant(0))), ir(.copy(Temp(2), .constant(0))),
                                      ir(.load(Temp(4), .temp(Temp(0), offset: 0), .word, addressSpace: 0))]
        for k in 0..<100 {
            entry.append(ir(.store(.slot(SlotID(0), offset: 4 * (k % 32)), .temp(Temp(4)), .word, addressSpace: 0)))
        }
        let original = testFunction(parameters: 1, tempCount: 12, blocks: [
            Block(id: BlockID(0), instructions: entry, terminator: .jump(BlockID(1))),
            Block(id: BlockID(1), instructions: [
                ir(.binary(Temp(1), .mul, .bits64, .temp(Temp(1)), .constant(31))),
                ir(.load(Temp(5), .temp(Temp(0), offset: 0), .double, addressSpace: 0)),
                ir(.binary(Temp(1), .add, .bits64, .temp(Temp(1)), .temp(Temp(5)))),
                ir(.binary(Temp(2), .add, .bits64, .temp(Temp(2)), .constant(1))),
            ], terminator: .branch(.slt, .bits64, .temp(Temp(2)), .constant(100), then: BlockID(1), else: BlockID(2))),
            Block(id: BlockID(2), instructions: [ir(.copy(Temp(3), .constant(0)))], terminator: .jump(BlockID(3))),
            Block(id: BlockID(3), instructions: [
                ir(.binary(Temp(6), .mul, .bits32, .temp(Temp(3)), .constant(3))),
                ir(.binary(Temp(7), .and, .bits32, .temp(Temp(6)), .constant(31))),
                ir(.binary(Temp(8), .mul, .bits64, .temp(Temp(7)), .constant(4))),
                ir(.slotAddress(Temp(9), SlotID(0), offset: 0)),
                ir(.binary(Temp(10), .add, .bits64, .temp(Temp(9)), .temp(Temp(8)))),
                ir(.load(Temp(11), .temp(Temp(10), offset: 0), .word, addressSpace: 0)),
                ir(.signExtend(Temp(11), .temp(Temp(11)), fromBits: 32)),
                ir(.binary(Temp(1), .add, .bits64, .temp(Temp(1)), .temp(Temp(11)))),
                ir(.binary(Temp(3), .add, .bits32, .temp(Temp(3)), .constant(1))),
            ], terminator: .branch(.slt, .bits32, .temp(Temp(3)), .constant(40), then: BlockID(3), else: BlockID(4))),
            Block(id: BlockID(4), terminator: .return(.temp(Temp(1)))),
        ], slots: [StackSlot(size: 128, alignment: 4, name: "a", location: nil)])
        var module = Module(functions: [original])
        #expect(!unrollLoops(&module, cpu: .v3, cleanup: { simplify(&$0) }))
        // Without the first loop's walk, the copies are worth it.
        var short = Module(functions: [original])
        short.functions[0].blocks[1].terminator = .jump(BlockID(2))
        #expect(unrollLoops(&short, cpu: .v3, cleanup: { simplify(&$0) }))
    }

    /// `for (i = 0; i < 16; i++) s = ((s + p[i] * 3) ^ p) * 5`: unrolled, the copies load more
    /// than the loop and save the verifier less than twice as much. Alone in its object, the loop stays; beside a program of
    /// 300 stores, what it adds to the object's size is small beside what it saves the walk: it
    /// unrolls. The kernel loads and verifies the object's programs together.
    @Test func theObjectIsTheScale() {
        let loop = testFunction(parameters: 1, tempCount: 6, blocks: [
            Block(id: BlockID(0), instructions: [ir(.copy(Temp(1), .constant(0))), ir(.copy(Temp(2), .constant(0)))],
                  terminator: .jump(BlockID(1))),
            Block(id: BlockID(1), instructions: [
                ir(.binary(Temp(3), .mul, .bits64, .temp(Temp(2)), .constant(8))),
                ir(.binary(Temp(4), .add, .bits64, .temp(Temp(0)), .temp(Temp(3)))),
                ir(.load(Temp(5), .temp(Temp(4), offset: 0), .double, addressSpace: 0)),
                ir(.binary(Temp(5), .mul, .bits64, .temp(Temp(5)), .constant(3))),
                ir(.binary(Temp(1), .add, .bits64, .temp(Temp(1)), .temp(Temp(5)))),
                ir(.binary(Temp(1), .xor, .bits64, .temp(Temp(1)), .temp(Temp(0)))),
                ir(.binary(Temp(1), .mul, .bits64, .temp(Temp(1)), .constant(5))),
                ir(.binary(Temp(2), .add, .bits64, .temp(Temp(2)), .constant(1))),
            ], terminator: .branch(.slt, .bits64, .temp(Temp(2)), .constant(16), then: BlockID(1), else: BlockID(2))),
            Block(id: BlockID(2), terminator: .return(.temp(Temp(1)))),
        ])
        let stores = testFunction("g", parameters: 1, tempCount: 1, blocks: [
            Block(id: BlockID(0), instructions: (0..<300).map { k in
                ir(.store(.temp(Temp(0), offset: 8 * k), .constant(Int64(k)), .double, addressSpace: 0))
            }, terminator: .return(.constant(0))),
        ])
        var alone = Module(functions: [loop])
        #expect(!unrollLoops(&alone, cpu: .v3, cleanup: { simplify(&$0) }))
        var beside = Module(functions: [loop, stores])
        #expect(unrollLoops(&beside, cpu: .v3, cleanup: { simplify(&$0) }))
        #expect(!hasCycle(beside.functions[0]))
        var before = IRInterpreter(module: Module(functions: [loop]))
        var after = IRInterpreter(module: Module(functions: [beside.functions[0]]))
        #expect(before.call("f", [0]) == after.call("f", [0]))
    }

    /// `for (g = 0; g < 16; g++) ;` with g a global: each unrolled copy stores g, and all but
    /// the last store write over each other once the copies are one block. The passes keep the
    /// unrolled function: one store of 16, no loop.
    @Test func copiesStoringAGlobalStoreItOnce() throws {
        let global = zeroedGlobal(size: 8)
        let function = testFunction(parameters: 1, tempCount: 4, blocks: [
            Block(id: BlockID(0), instructions: [
                ir(.symbolAddress(Temp(1), symbol: "g", offset: 0)),
                ir(.store(.temp(Temp(1), offset: 0), .constant(0), .double, addressSpace: 0)),
            ], terminator: .jump(BlockID(1))),
            Block(id: BlockID(1), instructions: [
                ir(.symbolAddress(Temp(2), symbol: "g", offset: 0)),
                ir(.load(Temp(3), .temp(Temp(2), offset: 0), .double, addressSpace: 0)),
            ], terminator: .branch(.slt, .bits64, .temp(Temp(3)), .constant(16), then: BlockID(2), else: BlockID(3))),
            Block(id: BlockID(2), instructions: [
                ir(.binary(Temp(3), .add, .bits64, .temp(Temp(3)), .constant(1))),
                ir(.store(.temp(Temp(2), offset: 0), .temp(Temp(3)), .double, addressSpace: 0)),
            ], terminator: .jump(BlockID(1))),
            Block(id: BlockID(3), terminator: .return(.constant(0))),
        ])
        var module = Module(functions: [function], globals: [global])
        try runPasses(&module, cpu: .v3)
        #expect(!hasCycle(module.functions[0]))
        let stores = module.functions[0].blocks.flatMap(\.instructions).filter {
            if case .store = $0.operation { return true } else { return false }
        }
        #expect(stores.map(\.operation) == [.store(.temp(Temp(1), offset: 0), .constant(16), .double, addressSpace: 0)],
                "\(module.functions[0].blocks)")
    }

    /// After load forwarding, a bound stored in a slot before the loop and loaded in its header
    /// is known: the loop unrolls on trial. A store through an unknown pointer in the body may
    /// change it: the loop stays.
    @Test func aBoundStoredBeforeTheLoop() {
        func function(clobbering: Bool) -> Function {
            testFunction(parameters: 1, tempCount: 6, blocks: [
                Block(id: BlockID(0), instructions: [
                    ir(.store(.slot(SlotID(0), offset: 4), .constant(6), .word, addressSpace: 0)),
                    ir(.copy(Temp(1), .constant(0))), ir(.copy(Temp(2), .constant(0))),
                ], terminator: .jump(BlockID(1))),
                Block(id: BlockID(1), instructions: [ir(.load(Temp(3), .slot(SlotID(0), offset: 4), .word, addressSpace: 0))],
                      terminator: .branch(.slt, .bits32, .temp(Temp(2)), .temp(Temp(3)), then: BlockID(2), else: BlockID(3))),
                Block(id: BlockID(2), instructions: [
                    ir(.binary(Temp(4), .mul, .bits64, .temp(Temp(2)), .temp(Temp(2)))),
                    ir(.binary(Temp(1), .add, .bits64, .temp(Temp(1)), .temp(Temp(4)))),
                ] + (clobbering ? [ir(.store(.temp(Temp(0), offset: 0), .constant(1), .word, addressSpace: 0))] : []) + [
                    ir(.binary(Temp(2), .add, .bits64, .temp(Temp(2)), .constant(1))),
                ], terminator: .jump(BlockID(1))),
                Block(id: BlockID(3), terminator: .return(.temp(Temp(1)))),
            ], slots: [StackSlot(size: 8, alignment: 4, name: "bounds", location: nil)])
        }
        var module = Module(functions: [function(clobbering: false)])
        #expect(unrollLoops(&module, cpu: .v3, cleanup: { simplify(&$0) }))
        #expect(!hasCycle(module.functions[0]))
        var interpreter = IRInterpreter(module: module)
        #expect(interpreter.call("f", [0]) == 55)
        var clobbered = Module(functions: [function(clobbering: true)])
        #expect(!unrollLoops(&clobbered, cpu: .v3, cleanup: { simplify(&$0) }))
        // Before load forwarding, stores are load forwarding's to follow.
        var early = Module(functions: [function(clobbering: false)])
        #expect(!unrollLoops(&early, cpu: .v3))
    }

    /// A pointer stepped down through a slot is the slot's address in each copy, and the
    /// accesses through it name the slot.
    @Test func aPointerSteppedThroughASlot() {
        let original = testFunction(parameters: 0, tempCount: 6, blocks: [
            Block(id: BlockID(0), instructions: [
                ir(.slotAddress(Temp(1), SlotID(0), offset: 16)), ir(.copy(Temp(2), .constant(0))), ir(.copy(Temp(3), .constant(0))),
                ir(.store(.slot(SlotID(0), offset: 0), .constant(3), .word, addressSpace: 0)),
                ir(.store(.slot(SlotID(0), offset: 4), .constant(5), .word, addressSpace: 0)),
                ir(.store(.slot(SlotID(0), offset: 8), .constant(7), .word, addressSpace: 0)),
                ir(.store(.slot(SlotID(0), offset: 12), .constant(9), .word, addressSpace: 0)),
            ], terminator: .jump(BlockID(1))),
            Block(id: BlockID(1), terminator: .branch(.slt, .bits64, .temp(Temp(2)), .constant(4), then: BlockID(2), else: BlockID(3))),
            Block(id: BlockID(2), instructions: [
                ir(.binary(Temp(1), .sub, .bits64, .temp(Temp(1)), .constant(4))),
                ir(.load(Temp(4), .temp(Temp(1), offset: 0), .word, addressSpace: 0)),
                ir(.binary(Temp(5), .mul, .bits64, .temp(Temp(3)), .constant(10))),
                ir(.binary(Temp(3), .add, .bits64, .temp(Temp(5)), .temp(Temp(4)))),
                ir(.binary(Temp(2), .add, .bits64, .temp(Temp(2)), .constant(1))),
            ], terminator: .jump(BlockID(1))),
            Block(id: BlockID(3), terminator: .return(.temp(Temp(3)))),
        ], slots: [StackSlot(size: 16, alignment: 4, name: "a", location: nil)])
        var module = Module(functions: [original])
        #expect(unrollLoops(&module, cpu: .v3))
        #expect(!hasCycle(module.functions[0]))
        let operations = module.functions[0].blocks.flatMap(\.instructions).map(\.operation)
        #expect(!operations.contains { if case .binary(_, .sub, _, _, _) = $0 { true } else { false } })
        var interpreter = IRInterpreter(module: module)
        #expect(interpreter.call("f", []) == 9753)
    }

    /// `for (i = 0; i < 3; i++) for (j = 0; j < 4; j++) { k = i * 4 + j; s += k * k + ... }`: the
    /// inner loop alone grows the function, but tried with the loop around it, all of it folds.
    @Test func aNestIsTriedWhole() {
        let original = testFunction(parameters: 0, tempCount: 10, blocks: [
            Block(id: BlockID(0), instructions: [ir(.copy(Temp(0), .constant(0))), ir(.copy(Temp(1), .constant(0)))],
                  terminator: .jump(BlockID(1))),
            Block(id: BlockID(1), terminator: .branch(.slt, .bits64, .temp(Temp(1)), .constant(3), then: BlockID(2), else: BlockID(5))),
            Block(id: BlockID(2), instructions: [ir(.copy(Temp(2), .constant(0)))], terminator: .jump(BlockID(3))),
            Block(id: BlockID(3), terminator: .branch(.slt, .bits64, .temp(Temp(2)), .constant(4), then: BlockID(4), else: BlockID(6))),
            Block(id: BlockID(4), instructions: [
                ir(.binary(Temp(3), .mul, .bits64, .temp(Temp(1)), .constant(4))),
                ir(.binary(Temp(4), .add, .bits64, .temp(Temp(3)), .temp(Temp(2)))),
                ir(.binary(Temp(5), .mul, .bits64, .temp(Temp(4)), .temp(Temp(4)))),
                ir(.binary(Temp(0), .add, .bits64, .temp(Temp(0)), .temp(Temp(5)))),
                ir(.binary(Temp(6), .xor, .bits64, .temp(Temp(5)), .temp(Temp(1)))),
                ir(.binary(Temp(7), .mul, .bits64, .temp(Temp(6)), .constant(3))),
                ir(.binary(Temp(8), .add, .bits64, .temp(Temp(7)), .temp(Temp(2)))),
                ir(.binary(Temp(9), .mul, .bits64, .temp(Temp(8)), .temp(Temp(8)))),
                ir(.binary(Temp(0), .add, .bits64, .temp(Temp(0)), .temp(Temp(9)))),
                ir(.binary(Temp(2), .add, .bits64, .temp(Temp(2)), .constant(1))),
            ], terminator: .jump(BlockID(3))),
            Block(id: BlockID(5), terminator: .return(.temp(Temp(0)))),
            Block(id: BlockID(6), instructions: [ir(.binary(Temp(1), .add, .bits64, .temp(Temp(1)), .constant(1)))],
                  terminator: .jump(BlockID(1))),
        ])
        var module = Module(functions: [original])
        #expect(unrollLoops(&module, cpu: .v3, cleanup: { simplify(&$0) }))
        #expect(!hasCycle(module.functions[0]))
        #expect(result(module.functions[0]) == result(original))
    }

    /// `for (i = 0; i < 5; i++) g++;` with g a global: nothing the loop knows folds, but each
    /// copy's load of g is what the one before stored; load forwarding keeps it in a register. The
    /// passes keep the unrolled function: one load of g, one store.
    @Test func aGlobalIncrementedInTheLoop() throws {
        let global = zeroedGlobal(size: 4)
        let function = testFunction(parameters: 1, tempCount: 5, blocks: [
            Block(id: BlockID(0), instructions: [
                ir(.copy(Temp(1), .constant(0))), ir(.symbolAddress(Temp(2), symbol: "g", offset: 0)),
            ], terminator: .jump(BlockID(1))),
            Block(id: BlockID(1), instructions: [
                ir(.load(Temp(3), .temp(Temp(2), offset: 0), .word, addressSpace: 0)),
                ir(.binary(Temp(4), .add, .bits32, .temp(Temp(3)), .constant(1))),
                ir(.store(.temp(Temp(2), offset: 0), .temp(Temp(4)), .word, addressSpace: 0)),
                ir(.binary(Temp(1), .add, .bits64, .temp(Temp(1)), .constant(1))),
            ], terminator: .branch(.slt, .bits32, .temp(Temp(1)), .constant(5), then: BlockID(1), else: BlockID(2))),
            Block(id: BlockID(2), terminator: .return(.constant(0))),
        ])
        var module = Module(functions: [function], globals: [global])
        try runPasses(&module, cpu: .v3)
        #expect(!hasCycle(module.functions[0]), "\(module.functions[0].blocks)")
        let accesses = module.functions[0].blocks.flatMap(\.instructions).filter {
            if case .load = $0.operation { return true }
            if case .store = $0.operation { return true }
            return false
        }
        #expect(accesses.count == 2, "\(module.functions[0].blocks)")
    }

    /// `for (i = 0; i < 4; i++) t = t * 2 + above(p[i])`, `above` an asm goto: each copy keeps
    /// the asm goto, its label a block of the copy.
    @Test func anAsmGotoInTheBody() {
        let asm = InlineAsm(template: [.text("if "), .operand(0, halfWord: false), .text(" s> 6 goto "), .label(0)],
                            operands: [.input(.temp(Temp(5)))], clobbers: [])
        let original = testFunction(parameters: 1, tempCount: 6, blocks: [
            Block(id: BlockID(0), instructions: [ir(.copy(Temp(1), .constant(0))), ir(.copy(Temp(2), .constant(0)))],
                  terminator: .jump(BlockID(1))),
            Block(id: BlockID(1), instructions: [
                ir(.binary(Temp(3), .mul, .bits64, .temp(Temp(2)), .constant(8))),
                ir(.binary(Temp(4), .add, .bits64, .temp(Temp(0)), .temp(Temp(3)))),
                ir(.load(Temp(5), .temp(Temp(4), offset: 0), .double, addressSpace: 0)),
                ir(.binary(Temp(1), .mul, .bits64, .temp(Temp(1)), .constant(2))),
            ], terminator: .inlineAsmGoto(asm, labels: [BlockID(2)], next: BlockID(3))),
            Block(id: BlockID(2), instructions: [ir(.binary(Temp(1), .add, .bits64, .temp(Temp(1)), .constant(1)))],
                  terminator: .jump(BlockID(3))),
            Block(id: BlockID(3), instructions: [ir(.binary(Temp(2), .add, .bits64, .temp(Temp(2)), .constant(1)))],
                  terminator: .branch(.slt, .bits64, .temp(Temp(2)), .constant(4), then: BlockID(1), else: BlockID(4))),
            Block(id: BlockID(4), terminator: .return(.temp(Temp(1)))),
        ])
        var module = Module(functions: [original])
        #expect(unrollLoops(&module, cpu: .v3))
        let unrolled = module.functions[0]
        #expect(!hasCycle(unrolled))
        let gotos = unrolled.blocks.filter {
            if case .inlineAsmGoto = $0.terminator { return true } else { return false }
        }
        #expect(gotos.count == 4)
        // Each copy's label is a block of its own, which goes on to its copy's step.
        #expect(Set(gotos.flatMap(\.terminator.successors)).count == 8)
    }
}
