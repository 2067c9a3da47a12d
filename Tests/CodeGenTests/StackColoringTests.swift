import BPFIR
import IRTestSupport
import Testing

/// Three 64-byte slots and a 8-byte one, for functions whose uses decide which may share bytes.
private let slots = ["a", "b", "c"].map { StackSlot(size: 64, alignment: 8, name: $0, location: nil) }
    + [StackSlot(size: 8, alignment: 8, name: "holder", location: nil)]

private func store(_ slot: Int, _ value: Int64) -> IRInstruction {
    ir(.store(.slot(SlotID(slot), offset: 0), .constant(value), .double, addressSpace: 0))
}

private func load(_ temp: Int, _ slot: Int) -> IRInstruction {
    ir(.load(Temp(temp), .slot(SlotID(slot), offset: 8), .double, addressSpace: 0))
}

@Suite struct StackColoringTests {
    /// Used one after the other, straight-line, the three slots share bytes.
    @Test func slotsUsedInTurnShareBytes() {
        let f = testFunction(parameters: 0, tempCount: 3, blocks: [
            Block(id: BlockID(0), instructions: [store(0, 1), load(0, 0), store(1, 2), load(1, 1), store(2, 3), load(2, 2)],
                  terminator: .return(.temp(Temp(2)))),
        ], slots: slots)
        let coloring = StackColoring(f)
        #expect(coloring.offsets[0] == -64 && coloring.offsets[1] == -64 && coloring.offsets[2] == -64)
        #expect(coloring.depth == 64)
    }

    /// In a loop, a slot used early in the body is needed again at the next iteration, after the
    /// later slot's uses: the two cannot share.
    @Test func aLoopKeepsItsSlotsApart() {
        let f = testFunction(parameters: 1, tempCount: 3, blocks: [
            Block(id: BlockID(0), terminator: .jump(BlockID(1))),
            Block(id: BlockID(1), instructions: [store(0, 1), load(1, 0), store(1, 2), load(2, 1)],
                  terminator: .branch(.eq, .bits64, .temp(Temp(0)), .constant(0), then: BlockID(1), else: BlockID(2))),
            Block(id: BlockID(2), terminator: .return(.temp(Temp(2)))),
        ], slots: Array(slots.prefix(2)))
        let coloring = StackColoring(f)
        #expect(Set(coloring.offsets) == [-64, -128])
    }

    /// A pointer into `a` kept in a register (through a copy and an add) keeps `a` needed while
    /// `b` is used, until the pointer's last use.
    @Test func aDerivedPointerKeepsItsSlot() {
        let f = testFunction(parameters: 0, tempCount: 5, blocks: [
            Block(id: BlockID(0), instructions: [
                ir(.slotAddress(Temp(0), SlotID(0), offset: 0)),
                ir(.copy(Temp(1), .temp(Temp(0)))),
                ir(.binary(Temp(2), .add, .bits64, .temp(Temp(1)), .constant(8))),
                store(1, 2), load(3, 1),
                ir(.load(Temp(4), .temp(Temp(2), offset: 0), .double, addressSpace: 0)),
            ], terminator: .return(.temp(Temp(4)))),
        ], slots: Array(slots.prefix(2)))
        #expect(Set(StackColoring(f).offsets) == [-64, -128])
    }

    /// `a`'s address stored in `holder` may be loaded back anywhere: `a` is needed throughout and
    /// shares bytes with nothing, while `b` and `c` still share.
    @Test func anAddressStoredToMemoryEscapes() {
        let f = testFunction(parameters: 0, tempCount: 6, blocks: [
            Block(id: BlockID(0), instructions: [
                ir(.slotAddress(Temp(0), SlotID(0), offset: 0)),
                ir(.store(.slot(SlotID(3), offset: 0), .temp(Temp(0)), .double, addressSpace: 0)),
                store(1, 2), load(1, 1), store(2, 3), load(2, 2),
                ir(.load(Temp(3), .slot(SlotID(3), offset: 0), .double, addressSpace: 0)),
                ir(.load(Temp(4), .temp(Temp(3), offset: 0), .double, addressSpace: 0)),
            ], terminator: .return(.temp(Temp(4)))),
        ], slots: slots)
        let offsets = StackColoring(f).offsets
        #expect(offsets[1] == offsets[2])
        #expect(offsets[0] != offsets[1])
        #expect(Set([offsets[0], offsets[1], offsets[3]]).count == 3)
    }
}
