import BPFDiagnostics
import BPFIR
import IRTestSupport
import Testing
@testable import Passes

@Suite struct ArenaAssociationTests {
    /// A module with `mapCount` arena maps and a program `prog` that dereferences an arena
    /// pointer it was given, naming no map.
    private func module(arenaMaps mapCount: Int, programNamesMap: Bool = false) -> Module {
        var types = TypeTable()
        let int = types.intern(.integer(name: "int", size: 4, isSigned: true))
        let arenaType = types.intern(.array(element: int, count: 33))
        let field = CType.Field(name: "type", type: types.intern(.pointer(pointee: arenaType, addressSpace: 0)),
                                bitOffset: 0, bitWidth: 0)
        let mapType = types.intern(.structure(name: "", size: 8, align: 8, fields: [field]))
        let location = SourceLocation(file: "t.c", line: 1, column: 1)
        let maps = (0..<mapCount).map {
            GlobalVariable(symbol: "arena\($0)", name: "arena\($0)", linkage: .global, section: ".maps",
                           type: mapType, size: 8, alignment: 8, initializer: [UInt8](repeating: 0, count: 8),
                           location: location)
        }
        var instructions = [ir(.addrSpaceCast(Temp(1), .temp(Temp(0)), to: 0, from: 1)),
                            ir(.load(Temp(2), .temp(Temp(1), offset: 0), .word, addressSpace: 1))]
        if programNamesMap {
            instructions.insert(ir(.symbolAddress(Temp(3), symbol: "arena0", offset: 0)), at: 0)
        }
        var program = testFunction("prog", parameters: 1, tempCount: 4, blocks: [
            Block(id: BlockID(0), instructions: instructions, terminator: .return(.temp(Temp(2)))),
        ])
        program.section = "syscall"
        return Module(functions: [program], globals: maps, types: types)
    }

    private func referencedMaps(_ module: Module) -> [String] {
        module.functions[0].blocks[0].instructions.compactMap {
            if case .symbolAddress(_, let symbol, _) = $0.operation { return symbol }
            return nil
        }
    }

    @Test func theOnlyArenaIsNamedForTheProgram() throws {
        var m = module(arenaMaps: 1)
        try associateArenas(&m)
        #expect(referencedMaps(m) == ["arena0"])
        #expect(m.functions[0].blocks[0].instructions[0].note?.contains("arena") == true)
    }

    @Test func aProgramThatNamesItsArenaIsLeftAlone() throws {
        var m = module(arenaMaps: 2, programNamesMap: true)
        try associateArenas(&m)
        #expect(referencedMaps(m) == ["arena0"])
    }

    @Test(arguments: [0, 2])
    func noOrSeveralArenasIsAnErrorNamingTheProgram(maps: Int) {
        var m = module(arenaMaps: maps)
        #expect {
            try associateArenas(&m)
        } throws: { error in
            guard let diagnostic = (error as? DiagnosticList)?.diagnostics.first else { return false }
            return diagnostic.message.contains("program 'prog' uses arena memory") && diagnostic.location?.file == "test.c"
        }
    }
}
