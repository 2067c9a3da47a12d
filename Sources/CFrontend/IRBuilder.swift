import BPFDiagnostics
import BPFIR

/// Appends IR to a function under construction, one block at a time.
///
/// Blocks are created empty and closed by a terminator; code emitted after a terminator (the
/// statements after a `return` or `break`) goes into a fresh unreachable block, which is dropped
/// when the function is finished.
struct IRBuilder {
    private(set) var blocks: [Block] = []
    private(set) var slots: [StackSlot] = []
    private(set) var tempCount = 0
    private(set) var current: BlockID
    /// Blocks that already have their real terminator.
    private var closed: Set<BlockID> = []
    /// The location that instructions emitted now are attributed to.
    var location: SourceLocation?

    init() {
        current = BlockID(0)
        blocks.append(Block(id: current, terminator: .return(nil)))
    }

    mutating func makeTemp() -> Temp {
        defer { tempCount += 1 }
        return Temp(tempCount)
    }

    mutating func makeSlot(size: Int, alignment: Int, name: String) -> SlotID {
        slots.append(StackSlot(size: size, alignment: alignment, name: name, location: location))
        return SlotID(slots.count - 1)
    }

    /// Aligns `slot` to at least `alignment`, for wider accesses to it.
    mutating func raiseAlignment(of slot: SlotID, to alignment: Int) {
        slots[slot.index].alignment = max(slots[slot.index].alignment, alignment)
    }

    mutating func makeBlock() -> BlockID {
        let id = BlockID(blocks.count)
        blocks.append(Block(id: id, terminator: .return(nil)))
        return id
    }

    /// Continue emitting into `block`.
    mutating func position(at block: BlockID) {
        current = block
    }

    var isTerminated: Bool { closed.contains(current) }

    mutating func emit(_ operation: Operation) {
        if isTerminated { position(at: makeBlock()) }
        blocks[current.index].instructions.append(IRInstruction(operation, at: location))
    }

    /// Ends the current block.
    mutating func terminate(_ terminator: Terminator) {
        if isTerminated { position(at: makeBlock()) }
        blocks[current.index].terminator = terminator
        blocks[current.index].terminatorLocation = location
        closed.insert(current)
    }

    /// Jumps to `target` unless the block already ended (after `return`, `break`...), then continues there.
    mutating func fallThrough(to target: BlockID) {
        if !isTerminated { terminate(.jump(target)) }
        position(at: target)
    }

    /// Finishes the function: open blocks return `fallbackReturn`, unreachable blocks are dropped
    /// and the survivors renumbered densely.
    mutating func finish(fallbackReturn: Value?) -> (blocks: [Block], slots: [StackSlot], tempCount: Int) {
        for i in blocks.indices where !closed.contains(blocks[i].id) {
            blocks[i].terminator = .return(fallbackReturn)
        }
        let kept = removingUnreachableBlocks(blocks)
        return (kept, slots, tempCount)
    }
}
