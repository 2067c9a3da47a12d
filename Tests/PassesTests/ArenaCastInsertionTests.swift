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
