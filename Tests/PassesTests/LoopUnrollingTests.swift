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
        let entry = Block(id: BlockID(0), instructions: [ir(.copy(Temp(0), .constant(0))), ir(.copy(Temp(1), .constant(start)))],
                          terminator: .jump(BlockID(1)))
        if rotated {
            return testFunction(parameters: 0, tempCount: 4, blocks: [
                entry,
                Block(id: BlockID(1), instructions: body,
                      terminator: .branch(.slt, .bits64, .temp(Temp(3)), .constant(end), then: BlockID(1), else: BlockID(2))),
                Block(id: BlockID(2), terminator: .return(.temp(Temp(0)))),
            ])
        }
        return testFunction(parameters: 0, tempCount: 4, blocks: [
            entry,
            Block(id: BlockID(1), terminator: .branch(.slt, .bits64, .temp(Temp(1)), .constant(end), then: BlockID(2), else: BlockID(3))),
            Block(id: BlockID(2), instructions: body, terminator: .jump(BlockID(1))),
            Block(id: BlockID(3), terminator: .return(.temp(Temp(0)))),
        ])
    }

    private func hasCycle(_ function: Function) -> Bool {
        !ControlFlow(function).inCycle.isEmpty
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
            unrollLoops(&module)
            #expect(!hasCycle(module.functions[0]), "\(start)..<\(end) by \(step)")
            #expect(result(module.functions[0]) == result(original), "\(start)..<\(end) by \(step)")
        }
    }

    /// Too many trips, or a body that does not read the counter (nothing would fold): a loop stays.
    @Test func otherLoopsStay() {
        for original in [loop(start: 0, end: 100, step: 1, rotated: false),
                         loop(start: 0, end: 4, step: 1, rotated: false, readsCounter: false)] {
            var module = Module(functions: [original])
            unrollLoops(&module)
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
        unrollLoops(&module)
        #expect(!hasCycle(module.functions[0]))
        for x: UInt64 in [0, 2, 5, 9] {
            var before = IRInterpreter(module: Module(functions: [original]))
            var after = IRInterpreter(module: module)
            #expect(before.call("f", [x]) == after.call("f", [x]), "x = \(x)")
        }
    }
}
