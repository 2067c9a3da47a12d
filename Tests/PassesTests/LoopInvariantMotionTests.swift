import BPFDiagnostics
import BPFIR
import IRTestSupport
import Testing
@testable import Passes

private let typed = AccessFlags(isTyped: true)
// The Temps of `countedLoop`: f's parameters n and p, the sum and the counter.
private let n = Temp(0), p = Temp(1), s = Temp(2), i = Temp(3)

/// `f(n, p)`: `s = 0; for (i = 0; i < n; i++) { body }; return s`, as simplification leaves a
/// loop: a guard before it (so the way in is a branch, and a preheader must be made), the test
/// at its end. With one 8-byte global `g` holding 41 and a function `h` that stores 99 into it
/// (`withGlobalAndWriter`).
private func countedLoop(_ body: [IRInstruction], tempCount: Int, slots: [StackSlot] = []) -> Module {
    let function = testFunction(parameters: 2, tempCount: tempCount, blocks: [
        Block(id: BlockID(0), instructions: [ir(.copy(s, .constant(0))), ir(.copy(i, .constant(0)))],
              terminator: .branch(.slt, .bits64, .constant(0), .temp(n), then: BlockID(1), else: BlockID(2))),
        Block(id: BlockID(1), instructions: body + [ir(.binary(i, .add, .bits64, .temp(i), .constant(1)))],
              terminator: .branch(.slt, .bits64, .temp(i), .temp(n), then: BlockID(1), else: BlockID(2))),
        Block(id: BlockID(2), terminator: .return(.temp(s))),
    ], slots: slots)
    return withGlobalAndWriter(function)
}

/// The module after the pass, having checked that `f` returns the same before and after for
/// several trip counts (none among them), p pointing at g.
private func hoistedAgreeing(_ original: Module, sourceLocation: Testing.SourceLocation = #_sourceLocation) -> Module {
    var hoisted = original
    hoistLoopInvariants(&hoisted)
    for trips: UInt64 in [0, 1, 3, 7] {
        var before = IRInterpreter(module: original), after = IRInterpreter(module: hoisted)
        let pointer = before.globalAddresses["g"]!
        #expect(before.call("f", [trips, pointer]) == after.call("f", [trips, pointer]), "\(trips) trips",
                sourceLocation: sourceLocation)
    }
    return hoisted
}

/// The operations of f's blocks on a cycle.
private func inLoop(_ module: Module) -> [Operation] {
    let function = module.functions[0]
    let cycles = ControlFlow(function).inCycle
    return function.blocks.indices.filter(cycles.contains).flatMap { function.blocks[$0].instructions.map(\.operation) }
}

private func isLoad(_ operation: Operation) -> Bool {
    if case .load = operation { return true }
    return false
}

@Suite struct LoopInvariantMotionTests {
    /// `s += g * i`: the address of g and the load of g, which nothing in the loop writes, leave
    /// it; a new preheader takes them, since the way in is a branch.
    @Test func aLoadOfAGlobalNothingWritesLeavesTheLoop() {
        let hoisted = hoistedAgreeing(countedLoop([
            ir(.symbolAddress(Temp(4), symbol: "g", offset: 0)),
            ir(.load(Temp(5), .temp(Temp(4), offset: 0), .double, addressSpace: 0, typed)),
            ir(.binary(Temp(6), .mul, .bits64, .temp(Temp(5)), .temp(i))),
            ir(.binary(s, .add, .bits64, .temp(s), .temp(Temp(6)))),
        ], tempCount: 7))
        let loop = inLoop(hoisted)
        #expect(!loop.contains(where: isLoad), "\(hoisted.functions[0].blocks)")
        #expect(loop.count == 3)
        #expect(hoisted.functions[0].blocks.count == 4)
    }

    /// A store into g, or a call (h stores into g), in the loop keeps the load of g in it.
    @Test func aLoadOfMemoryTheLoopMayWriteStays() {
        let writes: [IRInstruction] = [
            ir(.store(.temp(Temp(4), offset: 0), .temp(i), .double, addressSpace: 0, typed)),
            ir(.call(nil, .function("h"), [])),
        ]
        for write in writes {
            let hoisted = hoistedAgreeing(countedLoop([
                ir(.symbolAddress(Temp(4), symbol: "g", offset: 0)),
                ir(.load(Temp(5), .temp(Temp(4), offset: 0), .double, addressSpace: 0, typed)),
                ir(.binary(s, .add, .bits64, .temp(s), .temp(Temp(5)))),
                write,
            ], tempCount: 6))
            #expect(inLoop(hoisted).contains(where: isLoad), "\(write.operation)")
        }
    }

    /// `s += t; t = n * 3`: the first iteration reads the t from before the loop, so the
    /// multiplication stays; so does one whose destination the loop assigns twice.
    @Test func aTempReadBeforeItsAssignmentOrAssignedTwiceStays() {
        let t = Temp(4)
        let readFirst = countedLoop([
            ir(.binary(s, .add, .bits64, .temp(s), .temp(t))),
            ir(.binary(t, .mul, .bits64, .temp(n), .constant(3))),
        ], tempCount: 5)
        let assignedTwice = countedLoop([
            ir(.binary(t, .mul, .bits64, .temp(n), .constant(3))),
            ir(.binary(s, .add, .bits64, .temp(s), .temp(t))),
            ir(.binary(t, .add, .bits64, .temp(i), .constant(5))),
            ir(.binary(s, .add, .bits64, .temp(s), .temp(t))),
        ], tempCount: 5)
        for original in [readFirst, assignedTwice] {
            let hoisted = hoistedAgreeing(original)
            #expect(hoisted.functions[0].blocks == original.functions[0].blocks)
        }
    }

    /// `for (;;) { if (!p) break; s += *p; if (++i >= n) break; }`: the load sits below the loop's
    /// NULL test, which the verifier must see first; it stays. The same loop without the test
    /// loses it.
    @Test func aLoadBelowATestThatLeavesTheLoopStays() {
        func loop(testingNull: Bool) -> Module {
            let body = Block(id: BlockID(2), instructions: [
                ir(.load(Temp(4), .temp(p, offset: 0), .double, addressSpace: 0, typed)),
                ir(.binary(s, .add, .bits64, .temp(s), .temp(Temp(4)))),
                ir(.binary(i, .add, .bits64, .temp(i), .constant(1))),
            ], terminator: .branch(.slt, .bits64, .temp(i), .temp(n), then: BlockID(1), else: BlockID(3)))
            return withGlobalAndWriter(testFunction(parameters: 2, tempCount: 5, blocks: [
                Block(id: BlockID(0), instructions: [ir(.copy(s, .constant(0))), ir(.copy(i, .constant(0)))],
                      terminator: .jump(BlockID(1))),
                Block(id: BlockID(1), terminator: testingNull
                    ? .branch(.eq, .bits64, .temp(p), .constant(0), then: BlockID(3), else: BlockID(2))
                    : .jump(BlockID(2))),
                body,
                Block(id: BlockID(3), terminator: .return(.temp(s))),
            ]))
        }
        #expect(inLoop(hoistedAgreeing(loop(testingNull: true))).contains(where: isLoad))
        let untested = hoistedAgreeing(loop(testingNull: false))
        #expect(!inLoop(untested).contains(where: isLoad))
        // The entry only jumps to the header: it is the preheader.
        #expect(untested.functions[0].blocks.count == 4)
    }

    /// In a block only some iterations run, a slot's address (which the verifier accepts
    /// anywhere) leaves the loop; arithmetic stays.
    @Test func onlyAddressesLeaveBlocksSomeIterationsSkip() {
        let slot = StackSlot(size: 8, alignment: 8, name: "a", location: nil)
        let function = testFunction(parameters: 2, tempCount: 8, blocks: [
            Block(id: BlockID(0), instructions: [ir(.copy(s, .constant(0))), ir(.copy(i, .constant(0)))],
                  terminator: .jump(BlockID(1))),
            Block(id: BlockID(1), instructions: [ir(.binary(Temp(4), .and, .bits64, .temp(i), .constant(1)))],
                  terminator: .branch(.eq, .bits64, .temp(Temp(4)), .constant(0), then: BlockID(3), else: BlockID(2))),
            Block(id: BlockID(2), instructions: [
                ir(.slotAddress(Temp(5), SlotID(0), offset: 0)),
                ir(.binary(Temp(6), .mul, .bits64, .temp(n), .constant(5))),
                ir(.store(.temp(Temp(5), offset: 0), .temp(Temp(6)), .double, addressSpace: 0, typed)),
                ir(.load(Temp(7), .temp(Temp(5), offset: 0), .double, addressSpace: 0, typed)),
                ir(.binary(s, .add, .bits64, .temp(s), .temp(Temp(7)))),
            ], terminator: .jump(BlockID(3))),
            Block(id: BlockID(3), instructions: [ir(.binary(i, .add, .bits64, .temp(i), .constant(1)))],
                  terminator: .branch(.slt, .bits64, .temp(i), .temp(n), then: BlockID(1), else: BlockID(4))),
            Block(id: BlockID(4), terminator: .return(.temp(s))),
        ], slots: [slot])
        let loop = inLoop(hoistedAgreeing(withGlobalAndWriter(function)))
        #expect(!loop.contains { if case .slotAddress = $0 { return true } else { return false } })
        #expect(loop.contains { if case .binary(_, .mul, _, _, _) = $0 { return true } else { return false } })
    }

    /// The address of g (an ld_imm64) that the loop only adds its counter to stays: out of it,
    /// each iteration would copy it instead. Read as an address, it leaves.
    @Test func aGlobalsAddressLeavesWhenReadInPlace() {
        func loop(indexed: Bool) -> Module {
            let address: [IRInstruction] = indexed
                ? [ir(.binary(Temp(5), .add, .bits64, .temp(Temp(4)), .temp(i))),
                   ir(.load(Temp(6), .temp(Temp(5), offset: 0), .byte, addressSpace: 0))]
                : [ir(.load(Temp(6), .temp(Temp(4), offset: 0), .byte, addressSpace: 0))]
            return countedLoop([ir(.symbolAddress(Temp(4), symbol: "g", offset: 0))] + address + [
                ir(.binary(s, .add, .bits64, .temp(s), .temp(Temp(6)))),
                // Something in the loop may write g: its loads stay, so only the address may move.
                ir(.store(.temp(p, offset: 0), .temp(s), .byte, addressSpace: 0)),
            ], tempCount: 7)
        }
        func movesAddress(_ module: Module) -> Bool {
            !inLoop(module).contains { if case .symbolAddress = $0 { return true } else { return false } }
        }
        #expect(!movesAddress(hoistedAgreeing(loop(indexed: true))))
        #expect(movesAddress(hoistedAgreeing(loop(indexed: false))))
    }

    /// `for (r...) for (c...) s += g * (r * 16 + c)`: `r * 16` leaves the inner loop only, the
    /// load of g both.
    @Test func nestedLoopsHoistToEachLevel() {
        let r = Temp(4), c = Temp(5)
        let function = testFunction(parameters: 2, tempCount: 11, blocks: [
            Block(id: BlockID(0), instructions: [ir(.copy(s, .constant(0))), ir(.copy(r, .constant(0)))],
                  terminator: .jump(BlockID(1))),
            Block(id: BlockID(1), instructions: [ir(.copy(c, .constant(0)))], terminator: .jump(BlockID(2))),
            Block(id: BlockID(2), instructions: [
                ir(.binary(Temp(6), .mul, .bits64, .temp(r), .constant(16))),
                ir(.binary(Temp(7), .add, .bits64, .temp(Temp(6)), .temp(c))),
                ir(.symbolAddress(Temp(8), symbol: "g", offset: 0)),
                ir(.load(Temp(9), .temp(Temp(8), offset: 0), .double, addressSpace: 0, typed)),
                ir(.binary(Temp(10), .mul, .bits64, .temp(Temp(9)), .temp(Temp(7)))),
                ir(.binary(s, .add, .bits64, .temp(s), .temp(Temp(10)))),
                ir(.binary(c, .add, .bits64, .temp(c), .constant(1))),
            ], terminator: .branch(.slt, .bits64, .temp(c), .constant(4), then: BlockID(2), else: BlockID(3))),
            Block(id: BlockID(3), instructions: [ir(.binary(r, .add, .bits64, .temp(r), .constant(1)))],
                  terminator: .branch(.slt, .bits64, .temp(r), .temp(n), then: BlockID(1), else: BlockID(4))),
            Block(id: BlockID(4), terminator: .return(.temp(s))),
        ])
        let hoisted = hoistedAgreeing(withGlobalAndWriter(function)).functions[0]
        let blocks = hoisted.blocks.map { $0.instructions.map(\.operation) }
        // The entry holds the load; the outer loop's first block, the inner loop's preheader, `r * 16`.
        #expect(blocks[0].contains(where: isLoad), "\(hoisted.blocks)")
        #expect(blocks[1].contains { if case .binary(Temp(6), .mul, _, _, _) = $0 { return true } else { return false } })
        #expect(blocks[2].count == 4)
    }
}
