import BPFDiagnostics
import BPFIR
import IRTestSupport
import Testing
@testable import Passes

private let typed = AccessFlags(isTyped: true)

/// A module whose function `f` runs `blocks`, with one 8-byte global `g` holding 41 and a
/// function `h` that stores 99 into it.
private func module(parameters: Int = 1, tempCount: Int, blocks: [Block], slots: [StackSlot] = []) -> Module {
    withGlobalAndWriter(testFunction(parameters: parameters, tempCount: tempCount, blocks: blocks, slots: slots))
}

/// A module of `function`, one 8-byte global `g` holding 41 and a function `h` that stores 99 into it.
func withGlobalAndWriter(_ function: Function) -> Module {
    let global = GlobalVariable(symbol: "g", name: "g", linkage: .global, section: ".data", type: TypeID(rawValue: 0),
                                size: 8, alignment: 8, initializer: [41, 0, 0, 0, 0, 0, 0, 0],
                                location: SourceLocation(file: "test.c", line: 1, column: 1))
    let writer = Block(id: BlockID(0), instructions: [
        ir(.symbolAddress(Temp(0), symbol: "g", offset: 0)),
        ir(.store(.temp(Temp(0), offset: 0), .constant(99), .word, addressSpace: 0, typed)),
    ], terminator: .return(nil))
    return Module(functions: [function, testFunction("h", parameters: 0, tempCount: 1, blocks: [writer], linkage: .static)],
                  globals: [global])
}

private func loads(_ module: Module) -> Int {
    module.functions[0].blocks.flatMap(\.instructions).filter {
        if case .load = $0.operation { return true }
        return false
    }.count
}

/// Runs `f` before and after forwarding with each argument and checks both agree; returns the
/// forwarded module.
private func forwardedAgreeing(_ original: Module, arguments: [[UInt64]]) -> Module {
    var forwarded = original
    forwardLoads(&forwarded)
    for argument in arguments {
        var before = IRInterpreter(module: original), after = IRInterpreter(module: forwarded)
        let pointer = before.globalAddresses["g"]!
        let actual = argument.map { $0 == .max ? pointer : $0 }
        #expect(before.call("f", actual) == after.call("f", actual), "\(argument)")
    }
    return forwarded
}

@Suite struct LoadForwardingTests {
    /// `*(u32 *)p = x; b = *(u8 *)(p + k)`: each byte of the stored int is a byte of x, the upper
    /// ones shifted down; a store of 16 bits does not answer a load of 32 bits above it.
    @Test func storesOfWiderValuesAnswerLoadsOfTheirParts() {
        var instructions = [ir(.store(.temp(Temp(0), offset: 0), .temp(Temp(1)), .word, addressSpace: 0, typed))]
        var sum = Temp(2)
        instructions.append(ir(.copy(sum, .constant(0))))
        for k in 0..<4 {
            let byte = Temp(3 + 2 * k), next = Temp(4 + 2 * k)
            instructions += [
                ir(.load(byte, .temp(Temp(0), offset: k), .byte, addressSpace: 0)),
                ir(.binary(next, .mul, .bits64, .temp(sum), .constant(301))),
                ir(.binary(next, .add, .bits64, .temp(next), .temp(byte))),
            ]
            sum = next
        }
        instructions += [
            ir(.load(Temp(11), .temp(Temp(0), offset: 2), .half, addressSpace: 0)),
            ir(.store(.temp(Temp(0), offset: 4), .temp(Temp(1)), .half, addressSpace: 0, typed)),
            ir(.load(Temp(12), .temp(Temp(0), offset: 4), .word, addressSpace: 0)),
            ir(.binary(Temp(13), .add, .bits64, .temp(sum), .temp(Temp(11)))),
            ir(.binary(Temp(14), .xor, .bits64, .temp(Temp(13)), .temp(Temp(12)))),
        ]
        let original = module(parameters: 2, tempCount: 15, blocks: [
            Block(id: BlockID(0), instructions: instructions, terminator: .return(.temp(Temp(14)))),
        ])
        let forwarded = forwardedAgreeing(original, arguments: [[.max, 0x1234_5678_9abc_def0], [.max, 0xff], [.max, .max]])
        #expect(loads(forwarded) == 1, "\(forwarded.functions[0].blocks)")
    }

    /// `*p = 7; a = *p; b = *p; return a + b`: neither load is needed.
    @Test func storesAndEarlierLoadsAnswerLoads() {
        let block = Block(id: BlockID(0), instructions: [
            ir(.store(.temp(Temp(0), offset: 4), .constant(0x1_0000_0007), .word, addressSpace: 0, typed)),
            ir(.load(Temp(1), .temp(Temp(0), offset: 4), .word, addressSpace: 0, typed)),
            ir(.load(Temp(2), .temp(Temp(0), offset: 4), .word, addressSpace: 0)),
            ir(.binary(Temp(3), .add, .bits64, .temp(Temp(1)), .temp(Temp(2)))),
        ], terminator: .return(.temp(Temp(3))))
        let forwarded = forwardedAgreeing(module(tempCount: 4, blocks: [block]), arguments: [[.max]])
        #expect(loads(forwarded) == 0, "\(forwarded.functions[0].blocks)")
    }

    /// `struct big b = { 1, 2 }; struct big c = b; return c.v[0] + c.v[1]`: each piece of the copy
    /// keeps what it carried, so neither load of `c` is needed once the copy is lowered.
    @Test func eachPieceOfACopyIsRemembered() {
        let slot = StackSlot(size: 16, alignment: 8, name: "b", location: nil)
        let block = Block(id: BlockID(0), instructions: [
            ir(.store(.slot(SlotID(0), offset: 0), .constant(1), .double, addressSpace: 0)),
            ir(.store(.slot(SlotID(0), offset: 8), .constant(2), .double, addressSpace: 0)),
            ir(.copyMemory(destination: .slot(SlotID(1), offset: 0), source: .slot(SlotID(0), offset: 0), size: 16,
                           alignment: 8, destinationSpace: 0, sourceSpace: 0)),
            ir(.load(Temp(1), .slot(SlotID(1), offset: 0), .double, addressSpace: 0, typed)),
            ir(.load(Temp(2), .slot(SlotID(1), offset: 8), .double, addressSpace: 0, typed)),
            ir(.binary(Temp(3), .add, .bits64, .temp(Temp(1)), .temp(Temp(2)))),
        ], terminator: .return(.temp(Temp(3))))
        var lowered = module(tempCount: 4, blocks: [block], slots: [slot, slot])
        lowerAggregates(&lowered)
        let forwarded = forwardedAgreeing(lowered, arguments: [[0]])
        let reads = forwarded.functions[0].blocks.flatMap(\.instructions).filter {
            if case .load(_, .slot(SlotID(1), _), _, _, _) = $0.operation { return true }
            return false
        }
        #expect(reads.isEmpty, "\(forwarded.functions[0].blocks)")
    }

    /// A load of a constant global at a known offset reads its initializer (bytes 1 to 4 of g:
    /// 41 >> 8 is 0); the same global, not constant (a `const volatile` one), is loaded.
    @Test(arguments: [true, false])
    func constantGlobalsFold(isConstant: Bool) {
        let block = Block(id: BlockID(0), instructions: [
            ir(.symbolAddress(Temp(1), symbol: "g", offset: 0)),
            ir(.load(Temp(2), .temp(Temp(1), offset: 0), .byte, addressSpace: 0)),
            ir(.load(Temp(3), .temp(Temp(1), offset: 1), .word, addressSpace: 0)),
            ir(.binary(Temp(4), .add, .bits64, .temp(Temp(2)), .temp(Temp(3)))),
        ], terminator: .return(.temp(Temp(4))))
        var original = module(tempCount: 5, blocks: [block])
        original.globals[0].isConstant = isConstant
        let forwarded = forwardedAgreeing(original, arguments: [[0]])
        #expect(loads(forwarded) == (isConstant ? 0 : 2), "\(forwarded.functions[0].blocks)")
        #expect(!isConstant || forwarded.functions[0].blocks[0].instructions.contains { $0.operation == .copy(Temp(2), .constant(41)) })
    }

    /// A struct argument's register assembled from constant fields (`3 | 4 << 32`) is stored into
    /// the callee's copy, whose field loads then read 3 and 4: the store's value is a constant only
    /// once simplification has folded it, so the passes forward loads a second time.
    @Test func loadsOfAValueFoldedAfterForwardingAreForwardedToo() throws {
        let slot = StackSlot(size: 8, alignment: 8, name: "s", location: nil)
        let block = Block(id: BlockID(0), instructions: [
            ir(.store(.slot(SlotID(0), offset: 0), .constant(3), .word, addressSpace: 0)),
            ir(.store(.slot(SlotID(0), offset: 4), .constant(4), .word, addressSpace: 0)),
            ir(.load(Temp(1), .slot(SlotID(0), offset: 4), .word, addressSpace: 0)),
            ir(.load(Temp(7), .slot(SlotID(0), offset: 0), .word, addressSpace: 0)),
            ir(.binary(Temp(2), .shl, .bits64, .temp(Temp(1)), .constant(32))),
            ir(.binary(Temp(3), .or, .bits64, .temp(Temp(2)), .temp(Temp(7)))),
            ir(.store(.slot(SlotID(1), offset: 0), .temp(Temp(3)), .double, addressSpace: 0)),
            ir(.load(Temp(4), .slot(SlotID(1), offset: 0), .word, addressSpace: 0)),
            ir(.load(Temp(5), .slot(SlotID(1), offset: 4), .word, addressSpace: 0)),
            ir(.binary(Temp(6), .mul, .bits64, .temp(Temp(4)), .temp(Temp(5)))),
        ], terminator: .return(.temp(Temp(6))))
        var optimized = module(tempCount: 8, blocks: [block], slots: [slot, slot])
        try runPasses(&optimized, cpu: .v3)
        #expect(loads(optimized) == 0, "\(optimized.functions[0].blocks)")
        #expect(optimized.functions[0].blocks.last?.terminator == .return(.constant(12)))
    }

    /// After `g = 5`, each of these may change g, so the load of g that follows stays.
    @Test(arguments: [
        Operation.call(nil, .function("h"), []),
        .store(.temp(Temp(0), offset: 0), .constant(3), .word, addressSpace: 0),
        .store(.temp(Temp(0), offset: 1), .constant(3), .byte, addressSpace: 0, typed),
        .atomic(nil, .add, .temp(Temp(0), offset: 0), .constant(1), .word, addressSpace: 0),
        .compareExchange(Temp(3), .temp(Temp(0), offset: 0), expected: .constant(5), desired: .constant(6), .word,
                         addressSpace: 0),
    ])
    func whatMayWriteMemoryForgetsIt(_ between: Operation) {
        let block = Block(id: BlockID(0), instructions: [
            ir(.symbolAddress(Temp(1), symbol: "g", offset: 0)),
            ir(.store(.temp(Temp(1), offset: 0), .constant(5), .word, addressSpace: 0, typed)),
            ir(between),
            ir(.load(Temp(2), .temp(Temp(1), offset: 0), .word, addressSpace: 0, typed)),
        ], terminator: .return(.temp(Temp(2))))
        // The pointer parameter points at g.
        let forwarded = forwardedAgreeing(module(tempCount: 4, blocks: [block]), arguments: [[.max]])
        #expect(loads(forwarded) == 1)
    }

    /// A volatile load reads memory every time.
    @Test func volatileLoadsStay() {
        let volatile = AccessFlags(isVolatile: true, isTyped: true)
        let block = Block(id: BlockID(0), instructions: [
            ir(.store(.temp(Temp(0), offset: 0), .constant(5), .word, addressSpace: 0, typed)),
            ir(.load(Temp(1), .temp(Temp(0), offset: 0), .word, addressSpace: 0, volatile)),
            ir(.load(Temp(2), .temp(Temp(0), offset: 0), .word, addressSpace: 0, volatile)),
        ], terminator: .return(.temp(Temp(2))))
        let forwarded = forwardedAgreeing(module(tempCount: 3, blocks: [block]), arguments: [[.max]])
        #expect(loads(forwarded) == 2)
    }

    /// An `int` store cannot change a `long` (C11 6.5p7); a slot whose address is never taken is
    /// changed by nothing but its own accesses.
    @Test func typedStoresOfOtherWidthsAndPrivateSlotsKeepWhatIsKnown() {
        let block = Block(id: BlockID(0), instructions: [
            ir(.symbolAddress(Temp(1), symbol: "g", offset: 0)),
            ir(.store(.temp(Temp(1), offset: 0), .constant(5), .double, addressSpace: 0, typed)),
            ir(.store(.slot(SlotID(0), offset: 0), .constant(6), .double, addressSpace: 0)),
            ir(.store(.temp(Temp(0), offset: 0), .constant(7), .word, addressSpace: 0, typed)),
            ir(.call(nil, .function("h"), [])),
            ir(.load(Temp(2), .slot(SlotID(0), offset: 0), .double, addressSpace: 0)),
        ], terminator: .return(.temp(Temp(2))))
        let slot = StackSlot(size: 8, alignment: 8, name: "x", location: nil)
        var original = module(tempCount: 3, blocks: [block], slots: [slot])
        // The int store goes elsewhere: a buffer at 0x100.
        var forwarded = forwardedAgreeing(original, arguments: [[0x100]])
        #expect(loads(forwarded) == 0)

        original.functions[0].blocks[0].instructions.removeLast(2)
        original.functions[0].blocks[0].instructions.append(
            ir(.load(Temp(2), .temp(Temp(1), offset: 0), .double, addressSpace: 0, typed)))
        forwarded = forwardedAgreeing(original, arguments: [[0x100]])
        #expect(loads(forwarded) == 0)
    }

    /// `if (x) g = 5; return g;`: the join reads g in the predecessor that does not know it and
    /// takes 5 from the other; the address is computed in the join itself.
    @Test func joinsTakeTheValueEachPredecessorKnows() {
        let blocks = [
            Block(id: BlockID(0), terminator: .branch(.ne, .bits64, .temp(Temp(0)), .constant(0),
                                                       then: BlockID(1), else: BlockID(2))),
            Block(id: BlockID(1), instructions: [
                ir(.symbolAddress(Temp(1), symbol: "g", offset: 0)),
                ir(.store(.temp(Temp(1), offset: 0), .constant(5), .word, addressSpace: 0, typed)),
            ], terminator: .jump(BlockID(3))),
            Block(id: BlockID(2), instructions: [], terminator: .jump(BlockID(3))),
            Block(id: BlockID(3), instructions: [
                ir(.symbolAddress(Temp(2), symbol: "g", offset: 0)),
                ir(.load(Temp(3), .temp(Temp(2), offset: 0), .word, addressSpace: 0, typed)),
            ], terminator: .return(.temp(Temp(3)))),
        ]
        let forwarded = forwardedAgreeing(module(tempCount: 4, blocks: blocks), arguments: [[0], [1]])
        let join = forwarded.functions[0].blocks[3].instructions.map(\.operation)
        #expect(!join.contains { if case .load = $0 { return true } else { return false } }, "\(join)")
        #expect(forwarded.functions[0].blocks[1].instructions.count == 3)
    }

    /// A struct stored 8 bytes at a time and read a field at a time, and a struct stored a byte at
    /// a time and read whole: the loads read constants wherever known stores cover all their bytes,
    /// and stay where one byte is unknown.
    @Test func loadsCoveredByConstantStoresReadConstants() {
        let slot = StackSlot(size: 8, alignment: 8, name: "s", location: nil)
        let block = Block(id: BlockID(0), instructions: [
            ir(.store(.slot(SlotID(0), offset: 0), .constant(0x4_0000_0003), .double, addressSpace: 0)),
            ir(.load(Temp(1), .slot(SlotID(0), offset: 4), .word, addressSpace: 0)),
            ir(.store(.slot(SlotID(1), offset: 0), .constant(0x101), .byte, addressSpace: 0)),
            ir(.store(.slot(SlotID(1), offset: 1), .constant(0x2), .byte, addressSpace: 0)),
            ir(.load(Temp(2), .slot(SlotID(1), offset: 0), .half, addressSpace: 0)),
            ir(.load(Temp(3), .slot(SlotID(1), offset: 0), .word, addressSpace: 0)),
            ir(.binary(Temp(4), .add, .bits64, .temp(Temp(1)), .temp(Temp(2)))),
            ir(.binary(Temp(5), .add, .bits64, .temp(Temp(4)), .temp(Temp(3)))),
        ], terminator: .return(.temp(Temp(5))))
        let forwarded = forwardedAgreeing(module(tempCount: 6, blocks: [block], slots: [slot, slot]), arguments: [[0]])
        let operations = forwarded.functions[0].blocks.flatMap(\.instructions).map(\.operation)
        #expect(operations.contains(.copy(Temp(1), .constant(4))))
        #expect(operations.contains(.copy(Temp(2), .constant(0x201))))
        #expect(loads(forwarded) == 1, "the word load reads two bytes never stored")
    }
}

/// `p = &g[0]; if (g[0] != 41) goto found; p = &g[1]; if (g[1]) goto found; return -1;
/// found: <store>; return *p;` with `g[1] = x` stored first: `p` is a pointer into `g` that
/// each predecessor of `found` assigns, and each loaded `*p` through another name.
private func joinedPointerModule(storingInJoin store: Operation) -> Module {
    let blocks = [
        Block(id: BlockID(0), instructions: [
            ir(.symbolAddress(Temp(1), symbol: "g", offset: 0)),
            ir(.store(.temp(Temp(1), offset: 4), .temp(Temp(0)), .word, addressSpace: 0, typed)),
            ir(.copy(Temp(2), .temp(Temp(1)))),
            ir(.load(Temp(3), .temp(Temp(1), offset: 0), .word, addressSpace: 0, typed)),
        ], terminator: .branch(.ne, .bits32, .temp(Temp(3)), .constant(41), then: BlockID(2), else: BlockID(1))),
        Block(id: BlockID(1), instructions: [
            ir(.binary(Temp(2), .add, .bits64, .temp(Temp(1)), .constant(4))),
            ir(.load(Temp(4), .temp(Temp(1), offset: 4), .word, addressSpace: 0, typed)),
        ], terminator: .branch(.ne, .bits32, .temp(Temp(4)), .constant(0), then: BlockID(2), else: BlockID(3))),
        Block(id: BlockID(2), instructions: [
            ir(.symbolAddress(Temp(6), symbol: "e", offset: 0)),
            ir(store),
            ir(.load(Temp(5), .temp(Temp(2), offset: 0), .word, addressSpace: 0, typed)),
        ], terminator: .return(.temp(Temp(5)))),
        Block(id: BlockID(3), terminator: .return(.constant(-1))),
    ]
    var module = module(tempCount: 7, blocks: blocks)
    module.globals.append(GlobalVariable(symbol: "e", name: "e", linkage: .global, section: ".bss", type: TypeID(rawValue: 0),
                                         size: 4, alignment: 4, initializer: [0, 0, 0, 0],
                                         location: SourceLocation(file: "test.c", line: 2, column: 1)))
    return module
}

extension LoadForwardingTests {
    /// `found` loads `*p` where each predecessor assigned `p` a pointer into `g` and loaded
    /// through it: the load becomes the value each loaded, though both predecessors branch
    /// elsewhere too (a copy, not a load, is added there), and a store to another global `e`
    /// between does not change `*p`.
    @Test func joinsOfPointersTakeTheValueEachPredecessorLoaded() {
        let store = Operation.store(.temp(Temp(6), offset: 0), .constant(1), .word, addressSpace: 0, typed)
        let forwarded = forwardedAgreeing(joinedPointerModule(storingInJoin: store), arguments: [[0], [9]])
        let join = forwarded.functions[0].blocks[2].instructions.map(\.operation)
        #expect(!join.contains { if case .load = $0 { return true } else { return false } }, "\(join)")
        #expect(loads(forwarded) == 1, "the predecessors keep their own loads and add none")
    }

    /// The same, but the join stores to `g` itself through its symbol: `*p` may be that int.
    @Test func aStoreIntoTheJoinedPointersGlobalForgetsIt() {
        let store = Operation.store(.temp(Temp(1), offset: 4), .constant(1), .word, addressSpace: 0, typed)
        let forwarded = forwardedAgreeing(joinedPointerModule(storingInJoin: store), arguments: [[0], [9]])
        let join = forwarded.functions[0].blocks[2].instructions.map(\.operation)
        #expect(join.contains { if case .load = $0 { return true } else { return false } }, "\(join)")
    }
}

extension LoadForwardingTests {
    /// `p = &g[i]; a = *p; <store>; b = *p`: the offset in g is not known, but the second load
    /// reads what the first did through the same pointer, unless the store may write g.
    @Test(arguments: [false, true])
    func loadsThroughOnePointerAtAnUnknownOffsetAreOnePlace(storeIntoG: Bool) {
        let storedSymbol = storeIntoG ? "g" : "e"
        let block = Block(id: BlockID(0), instructions: [
            ir(.symbolAddress(Temp(1), symbol: "g", offset: 0)),
            ir(.binary(Temp(2), .and, .bits64, .temp(Temp(0)), .constant(7))),
            ir(.binary(Temp(3), .add, .bits64, .temp(Temp(1)), .temp(Temp(2)))),
            ir(.load(Temp(4), .temp(Temp(3), offset: 0), .byte, addressSpace: 0)),
            ir(.symbolAddress(Temp(5), symbol: storedSymbol, offset: 0)),
            ir(.store(.temp(Temp(5), offset: 0), .constant(3), .byte, addressSpace: 0)),
            ir(.load(Temp(6), .temp(Temp(3), offset: 0), .byte, addressSpace: 0)),
            ir(.binary(Temp(7), .mul, .bits64, .temp(Temp(6)), .constant(1000))),
            ir(.binary(Temp(8), .add, .bits64, .temp(Temp(7)), .temp(Temp(4)))),
        ], terminator: .return(.temp(Temp(8))))
        var original = module(tempCount: 9, blocks: [block])
        original.globals.append(GlobalVariable(symbol: "e", name: "e", linkage: .global, section: ".bss",
                                               type: TypeID(rawValue: 0), size: 1, alignment: 1, initializer: [0],
                                               location: SourceLocation(file: "test.c", line: 2, column: 1)))
        let forwarded = forwardedAgreeing(original, arguments: [[0], [1], [8]])
        #expect(loads(forwarded) == (storeIntoG ? 2 : 1))
    }
}

extension LoadForwardingTests {
    /// `g = x; k(); return g;` where the static function k writes only another global: g still
    /// holds x. After a call of h, which stores into g, it is loaded again.
    @Test(arguments: ["k", "h"])
    func aCallKeepsWhatItsCalleeCannotWrite(callee: String) {
        let block = Block(id: BlockID(0), instructions: [
            ir(.symbolAddress(Temp(1), symbol: "g", offset: 0)),
            ir(.store(.temp(Temp(1), offset: 0), .temp(Temp(0)), .double, addressSpace: 0, typed)),
            ir(.call(nil, .function(callee), [])),
            ir(.load(Temp(2), .temp(Temp(1), offset: 0), .double, addressSpace: 0, typed)),
        ], terminator: .return(.temp(Temp(2))))
        var original = module(tempCount: 3, blocks: [block])
        original.globals.append(GlobalVariable(symbol: "e", name: "e", linkage: .global, section: ".bss",
                                               type: TypeID(rawValue: 0), size: 8, alignment: 8,
                                               initializer: [UInt8](repeating: 0, count: 8),
                                               location: SourceLocation(file: "test.c", line: 2, column: 1)))
        let writer = Block(id: BlockID(0), instructions: [
            ir(.symbolAddress(Temp(0), symbol: "e", offset: 0)),
            ir(.store(.temp(Temp(0), offset: 0), .constant(7), .double, addressSpace: 0, typed)),
        ], terminator: .return(nil))
        original.functions.append(testFunction("k", parameters: 0, tempCount: 1, blocks: [writer], linkage: .static))
        let forwarded = forwardedAgreeing(original, arguments: [[5]])
        #expect(loads(forwarded) == (callee == "k" ? 0 : 1))
    }

    /// A loop whose counter lives in g: `g = 0; do { s += g; g = g + 1; } while (g < 3)`, its
    /// one block its own predecessor. With the counter also copied into a register at each
    /// store, the load reads that register; without, each predecessor gives what it stored.
    @Test(arguments: [true, false])
    func aLoopCounterKeptInAGlobalIsKnownInTheLoop(keptInRegister: Bool) {
        var first = [
            ir(.symbolAddress(Temp(1), symbol: "g", offset: 0)),
            ir(.store(.temp(Temp(1), offset: 0), .constant(0), .word, addressSpace: 0, typed)),
            ir(.copy(Temp(6), .constant(0))),
        ]
        var body = [
            ir(.load(Temp(3), .temp(Temp(1), offset: 0), .word, addressSpace: 0, typed)),
            ir(.binary(Temp(6), .add, .bits64, .temp(Temp(6)), .temp(Temp(3)))),
            ir(.binary(Temp(5), .add, .bits32, .temp(Temp(3)), .constant(1))),
            ir(.store(.temp(Temp(1), offset: 0), .temp(Temp(5)), .word, addressSpace: 0, typed)),
        ]
        if keptInRegister {
            first.append(ir(.copy(Temp(2), .constant(0))))
            body.append(ir(.copy(Temp(2), .temp(Temp(5)))))
        }
        let blocks = [
            Block(id: BlockID(0), instructions: first, terminator: .jump(BlockID(1))),
            Block(id: BlockID(1), instructions: body,
                  terminator: .branch(.ult, .bits32, .temp(Temp(5)), .constant(3), then: BlockID(1), else: BlockID(2))),
            Block(id: BlockID(2), terminator: .return(.temp(Temp(6)))),
        ]
        let forwarded = forwardedAgreeing(module(tempCount: 7, blocks: blocks), arguments: [[0]])
        #expect(loads(forwarded) == 0, "\(forwarded.functions[0].blocks)")
    }

    /// A loop whose body block comes before its header in block order (bb1 runs after bb2):
    /// what the way in stored, which the loop never changes, is known in the body.
    @Test func aLoopsBodyPlacedBeforeItsHeaderKnowsWhatTheWayInStored() {
        let blocks = [
            Block(id: BlockID(0), instructions: [
                ir(.symbolAddress(Temp(1), symbol: "g", offset: 0)),
                ir(.store(.temp(Temp(1), offset: 0), .temp(Temp(0)), .double, addressSpace: 0, typed)),
                ir(.copy(Temp(2), .constant(0))),
                ir(.copy(Temp(4), .constant(0))),
            ], terminator: .jump(BlockID(2))),
            Block(id: BlockID(1), instructions: [
                ir(.load(Temp(3), .temp(Temp(1), offset: 0), .double, addressSpace: 0, typed)),
                ir(.binary(Temp(4), .add, .bits64, .temp(Temp(4)), .temp(Temp(3)))),
                ir(.binary(Temp(2), .add, .bits64, .temp(Temp(2)), .constant(1))),
            ], terminator: .jump(BlockID(2))),
            Block(id: BlockID(2), terminator: .branch(.ult, .bits64, .temp(Temp(2)), .constant(3), then: BlockID(1),
                                                       else: BlockID(3))),
            Block(id: BlockID(3), terminator: .return(.temp(Temp(4)))),
        ]
        let forwarded = forwardedAgreeing(module(tempCount: 5, blocks: blocks), arguments: [[5], [9]])
        #expect(loads(forwarded) == 0)
    }
}
