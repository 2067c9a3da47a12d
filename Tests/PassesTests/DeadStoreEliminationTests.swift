import BPFIR
import IRTestSupport
import Testing
@testable import Passes

@Suite struct DeadStoreEliminationTests {
    private let slot = StackSlot(size: 16, alignment: 8, name: "s", location: nil)

    private func stores(_ function: Function) -> [Operation] {
        function.blocks.flatMap(\.instructions).map(\.operation).filter {
            if case .store = $0 { return true } else { return false }
        }
    }

    /// `s.a = 1; s.b = 2; x = s.b; s.b = x + 1; return x`: `s.a` is never read and the last
    /// store dies with the frame; the store `x` reads stays. The result is the same.
    @Test func storesNobodyReadsGo() {
        let original = testFunction(parameters: 0, tempCount: 2, blocks: [
            Block(id: BlockID(0), instructions: [
                ir(.store(.slot(SlotID(0), offset: 0), .constant(1), .double, addressSpace: 0)),
                ir(.store(.slot(SlotID(0), offset: 8), .constant(2), .double, addressSpace: 0)),
                ir(.load(Temp(0), .slot(SlotID(0), offset: 8), .double, addressSpace: 0)),
                ir(.binary(Temp(1), .add, .bits64, .temp(Temp(0)), .constant(1))),
                ir(.store(.slot(SlotID(0), offset: 8), .temp(Temp(1)), .double, addressSpace: 0)),
            ], terminator: .return(.temp(Temp(0)))),
        ], slots: [slot])
        var module = Module(functions: [original])
        eliminateDeadStores(&module)
        #expect(stores(module.functions[0]) == [.store(.slot(SlotID(0), offset: 8), .constant(2), .double, addressSpace: 0)])
        var before = IRInterpreter(module: Module(functions: [original])), after = IRInterpreter(module: module)
        #expect(before.call("f", []) == after.call("f", []))
    }

    /// A store read in a later block, around a loop, or through a pointer at an unknown offset
    /// stays; so does every store into a slot whose address is passed to a call, and a volatile
    /// store.
    @Test func storesSomeoneMayReadStay() {
        let blocks = [
            Block(id: BlockID(0), instructions: [
                ir(.store(.slot(SlotID(0), offset: 0), .constant(1), .double, addressSpace: 0)),
                ir(.store(.slot(SlotID(0), offset: 8), .constant(2), .double, addressSpace: 0)),
                ir(.store(.slot(SlotID(1), offset: 0), .constant(3), .double, addressSpace: 0)),
                ir(.store(.slot(SlotID(2), offset: 0), .constant(4), .double, addressSpace: 0, AccessFlags(isVolatile: true))),
                ir(.slotAddress(Temp(1), SlotID(1), offset: 0)),
                ir(.call(nil, .helper(1), [.temp(Temp(1))])),
            ], terminator: .jump(BlockID(1))),
            Block(id: BlockID(1), instructions: [
                ir(.slotAddress(Temp(2), SlotID(0), offset: 0)),
                ir(.binary(Temp(3), .add, .bits64, .temp(Temp(2)), .temp(Temp(0)))),
                ir(.load(Temp(4), .temp(Temp(3), offset: 0), .double, addressSpace: 0)),
            ], terminator: .return(.temp(Temp(4)))),
        ]
        var module = Module(functions: [testFunction(parameters: 1, tempCount: 5, blocks: blocks, slots: [slot, slot, slot])])
        let original = stores(module.functions[0])
        eliminateDeadStores(&module)
        #expect(stores(module.functions[0]) == original)
    }
}
