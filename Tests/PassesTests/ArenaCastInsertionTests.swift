import BPFDiagnostics
import BPFIR
import IRTestSupport
import Testing
@testable import Passes

@Suite struct ArenaCastInsertionTests {
    /// `p->a = p->b = NULL` after aggregate lowering, plus a stack store and a load through a
    /// pointer that is reassigned: the shapes of bpf-arena-abi.md §2.
    private func sample() -> Module {
        let p = Temp(0), q = Temp(1), loaded = Temp(2)
        let block = Block(id: BlockID(0), instructions: [
            ir(.store(.temp(p, offset: 8), .constant(0), .double, addressSpace: 1)),
            ir(.store(.temp(p, offset: 0), .constant(0), .double, addressSpace: 1)),
            ir(.store(.slot(SlotID(0), offset: 0), .temp(p), .double, addressSpace: 0)),
            ir(.load(loaded, .temp(q, offset: 16), .word, addressSpace: 1)),
            ir(.copy(q, .temp(p))),
            ir(.store(.temp(q, offset: 4), .temp(p), .double, addressSpace: 1)),
        ], terminator: .return(.temp(loaded)))
        var function = testFunction(parameters: 2, tempCount: 3, blocks: [block])
        function.slots = [StackSlot(size: 8, alignment: 8, name: "spill", location: nil)]
        return Module(functions: [function])
    }

    @Test func castsEveryArenaAccessOncePerPointerValue() {
        var module = sample()
        insertArenaCasts(&module)
        let operations = module.functions[0].blocks[0].instructions.map(\.operation)
        let casts = operations.compactMap { op -> (Temp, Value)? in
            if case .addrSpaceCast(let dst, let src, to: 0, from: 1) = op { return (dst, src) }
            return nil
        }
        // p (used twice), q before and after its reassignment: three casts, none for the stack.
        #expect(casts.map(\.1) == [.temp(Temp(0)), .temp(Temp(1)), .temp(Temp(1))])
        for op in operations {
            switch op {
            case .load(_, .temp(let base, _), _, 1, _), .store(.temp(let base, _), _, _, 1, _):
                #expect(casts.contains { $0.0 == base }, "arena access through uncast \(base)")
            case .store(_, let value, _, _, _):
                // Stored values keep their user form.
                #expect(!casts.contains { .temp($0.0) == value })
            default:
                break
            }
        }
    }

    @Test func castsCarryTheirReason() {
        var module = sample()
        insertArenaCasts(&module)
        let notes = module.functions[0].blocks[0].instructions.compactMap(\.note)
        #expect(notes.count == 3)
        #expect(notes.allSatisfy { $0.hasPrefix("cast_kern: ") && $0.contains("__arena pointer") })
    }

    /// A line named by its number alone is the main file's, as in the `-S` listing, also in a
    /// function defined in a header: there its own lines are named with the header's name.
    @Test func castNotesNameTheFileOfEachLineOutsideTheMainFile() {
        let p = Temp(0), q = Temp(1)
        func at(_ file: String, _ line: Int) -> BPFDiagnostics.SourceLocation { BPFDiagnostics.SourceLocation(file: file, line: line, column: 1) }
        let block = Block(id: BlockID(0), instructions: [
            IRInstruction(.store(.temp(p, offset: 0), .constant(0), .double, addressSpace: 1), at: at("list.h", 12)),
            IRInstruction(.store(.temp(p, offset: 8), .constant(0), .double, addressSpace: 1), at: at("list.c", 30)),
            IRInstruction(.copy(q, .temp(p)), at: at("list.h", 13)),
            IRInstruction(.copy(q, .temp(q)), at: at("list.h", 13)),
            IRInstruction(.store(.temp(q, offset: 0), .constant(0), .double, addressSpace: 1), at: at("list.h", 14)),
        ], terminator: .return(.constant(0)))
        var function = testFunction(parameters: 1, tempCount: 2, blocks: [block])
        function.location = at("list.h", 10)
        var module = Module(functions: [function], mainFile: "list.c")
        insertArenaCasts(&module)
        let notes = module.functions[0].blocks[0].instructions.compactMap(\.note)
        #expect(notes == ["cast_kern: this __arena pointer is dereferenced at lines 30, list.h:12",
                          "cast_kern: store at line list.h:14 goes through an __arena pointer"])
    }

    /// A chain walk, `e` reassigned: a block entered only from the block that cast e uses that
    /// cast, while e is unchanged; a join (bb1, entered from bb0 and bb4) and a block after e
    /// changed (bb4) cast again.
    @Test func blocksEnteredFromOneBlockReuseItsCasts() throws {
        let e = Temp(0), key = Temp(1), value = Temp(2), first = Temp(3)
        let function = testFunction(parameters: 1, tempCount: 4, blocks: [
            Block(id: BlockID(0), instructions: [ir(.load(first, .temp(e, offset: 0), .word, addressSpace: 1))],
                  terminator: .jump(BlockID(1))),
            Block(id: BlockID(1), instructions: [ir(.load(key, .temp(e, offset: 8), .word, addressSpace: 1))],
                  terminator: .branch(.eq, .bits32, .temp(key), .constant(7), then: BlockID(2), else: BlockID(3))),
            Block(id: BlockID(2), instructions: [ir(.load(value, .temp(e, offset: 12), .word, addressSpace: 1))],
                  terminator: .return(.temp(value))),
            Block(id: BlockID(3), instructions: [ir(.load(e, .temp(e, offset: 0), .double, addressSpace: 1))],
                  terminator: .jump(BlockID(4))),
            Block(id: BlockID(4), instructions: [ir(.load(first, .temp(e, offset: 0), .word, addressSpace: 1))],
                  terminator: .branch(.eq, .bits32, .temp(first), .constant(0), then: BlockID(5), else: BlockID(1))),
            Block(id: BlockID(5), terminator: .return(.temp(first))),
        ])
        var module = Module(functions: [function])
        insertArenaCasts(&module)
        let blocks = module.functions[0].blocks
        func casts(_ b: Int) -> [Temp] {
            blocks[b].instructions.compactMap {
                if case .addrSpaceCast(let d, .temp(e), to: 0, from: 1) = $0.operation { return d }
                return nil
            }
        }
        func accessBase(_ b: Int) -> Temp? {
            blocks[b].instructions.lazy.compactMap {
                if case .load(_, .temp(let base, _), _, 1, _) = $0.operation { return base }
                return nil
            }.first
        }
        #expect([0, 1, 2, 3, 4].map { casts($0).count } == [1, 1, 0, 0, 1])
        let bb1Cast = try #require(casts(1).first)
        #expect(accessBase(1) == bb1Cast)
        #expect(accessBase(2) == bb1Cast)
        #expect(accessBase(3) == bb1Cast)
        #expect(accessBase(4) == casts(4).first)
    }

    /// The block that reads `e->value` may come before the test of `e->key` that enters it (as
    /// the frontend places a loop's exit before its body): it still uses the test's cast.
    @Test func aPredecessorLaterInTheFunctionLendsItsCasts() throws {
        let e = Temp(0), key = Temp(1), value = Temp(2)
        let function = testFunction(parameters: 1, tempCount: 3, blocks: [
            Block(id: BlockID(0), terminator: .jump(BlockID(2))),
            Block(id: BlockID(1), instructions: [ir(.load(value, .temp(e, offset: 12), .word, addressSpace: 1))],
                  terminator: .return(.temp(value))),
            Block(id: BlockID(2), instructions: [ir(.load(key, .temp(e, offset: 8), .word, addressSpace: 1))],
                  terminator: .branch(.eq, .bits32, .temp(key), .constant(7), then: BlockID(1), else: BlockID(3))),
            Block(id: BlockID(3), instructions: [ir(.copy(e, .constant(0)))], terminator: .return(.temp(e))),
        ])
        var module = Module(functions: [function])
        insertArenaCasts(&module)
        let operations = module.functions[0].blocks.map { $0.instructions.map(\.operation) }
        let casts = operations.map { block in
            block.compactMap { operation -> Temp? in
                if case .addrSpaceCast(let d, .temp(e), to: 0, from: 1) = operation { return d }
                return nil
            }
        }
        #expect(casts.map(\.count) == [0, 0, 1, 0])
        let cast = try #require(casts[2].first)
        #expect(operations[1].first == .load(value, .temp(cast, offset: 12), .word, addressSpace: 1))
    }

    @Test func leavesOtherAddressSpacesAlone() {
        var module = sample()
        module.functions[0].blocks[0].instructions.removeAll {
            if case .store(_, _, _, 0, _) = $0.operation { return false }
            return true
        }
        let before = module.functions[0].blocks[0].instructions
        insertArenaCasts(&module)
        #expect(module.functions[0].blocks[0].instructions == before)
    }
}
