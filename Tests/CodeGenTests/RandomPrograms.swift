import BPFIR
import IRTestSupport

// Random IR programs for differential testing: the kernel runs the generated code, the reference
// interpreter runs the IR, and the results must agree. The programs mutate a dozen C-local-like
// Temps (not SSA: each is assigned in many blocks) through straight-line code, if/else diamonds,
// counted loops (some with may_goto), calls to a sub-program with values live across them, and a
// stack slot; half of the Temps are read before ever written. That is more than r1-r4/r6-r9 can
// hold, so the allocator spills.

private let constants: [Int64] = [0, 1, -1, 2, 7, -3, 31, 63, 64, 255, 0x7fff_ffff, -0x8000_0000, 0x1_0000_0000,
                                  0x1234_5678_9abc_def0, -0x0fed_cba9_8765_4321]
private let operators: [BinaryOperator] = [.add, .sub, .mul, .udiv, .umod, .sdiv, .smod, .and, .or, .xor, .shl,
                                           .lshr, .ashr]
private let conditions: [Condition] = [.eq, .ne, .ugt, .uge, .ult, .ule, .sgt, .sge, .slt, .sle]

/// Builds `f(ctx)`: reads four inputs from ctx[0..32], computes, writes a digest to ctx[32] and
/// returns it; and `g(a, b, c)`, which `f` calls.
struct RandomProgramBuilder {
    private var random: RandomSource
    private var blocks: [Block] = []
    private var current = BlockID(0)
    private var tempCount: Int
    private let variables: [Temp]
    private let context = Temp(0)

    init(seed: UInt64) {
        random = RandomSource(state: seed)
        variables = (1...12).map(Temp.init)
        tempCount = 13
    }

    mutating func build() -> Module {
        _ = makeBlock()
        emit(.setMemory(.slot(SlotID(0), offset: 0), byte: 0, size: 16, alignment: 8, addressSpace: 0))
        for i in 0..<4 {
            emit(.load(variables[i], .temp(context, offset: 8 * i), .double, addressSpace: 0))
        }
        for _ in 0..<(6 + random.below(5)) {
            switch random.below(6) {
            case 0: straight(4 + random.below(5))
            case 1: diamond()
            case 2: loop(withMayGoto: false)
            case 3: loop(withMayGoto: true)
            case 4: call()
            default: memory()
            }
        }
        let digest = makeTemp()
        emit(.copy(digest, .constant(17)))
        for v in variables {
            emit(.binary(digest, .mul, .bits64, .temp(digest), .constant(31)))
            emit(.binary(digest, .add, .bits64, .temp(digest), .temp(v)))
        }
        emit(.store(.temp(context, offset: 32), .temp(digest), .double, addressSpace: 0))
        terminate(.return(.temp(digest)))
        let f = testFunction("f", parameters: 1, tempCount: tempCount, blocks: blocks,
                             slots: [StackSlot(size: 16, alignment: 8, name: "buf", location: nil)])
        return Module(functions: [f, Self.callee()])
    }

    /// `g(a, b, c)`: a little arithmetic and a branch.
    private static func callee() -> Function {
        let (a, b, c) = (Value.temp(Temp(0)), Value.temp(Temp(1)), Value.temp(Temp(2)))
        let entry = Block(id: BlockID(0), instructions: [
            ir(.binary(Temp(3), .mul, .bits64, a, .constant(3))),
            ir(.binary(Temp(3), .add, .bits64, .temp(Temp(3)), b)),
        ], terminator: .branch(.slt, .bits32, c, .constant(0), then: BlockID(1), else: BlockID(2)))
        let negative = Block(id: BlockID(1), instructions: [ir(.binary(Temp(3), .xor, .bits64, .temp(Temp(3)), c))],
                             terminator: .return(.temp(Temp(3))))
        let other = Block(id: BlockID(2), instructions: [ir(.binary(Temp(4), .sub, .bits32, .temp(Temp(3)), c))],
                          terminator: .return(.temp(Temp(4))))
        return testFunction("g", parameters: 3, tempCount: 5, blocks: [entry, negative, other], linkage: .static)
    }

    // MARK: - Segments

    private mutating func straight(_ count: Int) {
        for _ in 0..<count { randomOperation() }
    }

    private mutating func diamond() {
        let (then, otherwise, join) = (makeBlock(), makeBlock(), makeBlock())
        terminate(.branch(random.pick(conditions), random.pick([.bits32, .bits64]), operand(), operand(),
                          then: then, else: otherwise))
        current = then
        straight(1 + random.below(3))
        terminate(.jump(join))
        current = otherwise
        straight(random.below(3))
        terminate(.jump(join))
        current = join
    }

    private mutating func loop(withMayGoto: Bool) {
        let counter = makeTemp()
        emit(.copy(counter, .constant(0)))
        let (header, check, body, exit) = (makeBlock(), makeBlock(), makeBlock(), makeBlock())
        terminate(.jump(header))
        current = header
        terminate(withMayGoto ? .mayGoto(bail: exit, next: check) : .jump(check))
        current = check
        terminate(.branch(.ult, .bits64, .temp(counter), .constant(Int64(2 + random.below(3))), then: body, else: exit))
        current = body
        straight(1 + random.below(4))
        emit(.binary(counter, .add, .bits64, .temp(counter), .constant(1)))
        terminate(.jump(header))
        current = exit
    }

    private mutating func call() {
        emit(.call(random.pick(variables), .function("g"), [operand(), operand(), operand()]))
    }

    private mutating func memory() {
        emit(.store(.slot(SlotID(0), offset: 8 * random.below(2)), operand(), random.pick([.double, .word]),
                    addressSpace: 0))
        emit(.load(random.pick(variables), .slot(SlotID(0), offset: 8 * random.below(2)), .double, addressSpace: 0))
    }

    private mutating func randomOperation() {
        let dst = random.pick(variables)
        let width: ALUWidth = random.pick([.bits32, .bits64])
        switch random.below(9) {
        case 0: emit(.setCondition(dst, random.pick(conditions), width, operand(), operand()))
        case 1: emit(.negate(dst, width, operand()))
        case 2: emit(.signExtend(dst, operand(), fromBits: random.pick([8, 16, 32])))
        case 3: emit(.zeroExtend(dst, operand(), fromBits: random.pick([8, 16, 32])))
        case 4: emit(.copy(dst, operand()))
        case 5: emit(.byteSwap(dst, operand(), bits: random.pick([16, 32, 64])))
        default: emit(.binary(dst, random.pick(operators), width, operand(), operand()))
        }
    }

    private mutating func operand() -> Value {
        random.below(4) == 0 ? .constant(random.pick(constants)) : .temp(random.pick(variables))
    }

    // MARK: - Building

    private mutating func makeTemp() -> Temp {
        defer { tempCount += 1 }
        return Temp(tempCount)
    }

    private mutating func makeBlock() -> BlockID {
        let id = BlockID(blocks.count)
        blocks.append(Block(id: id, terminator: .return(nil)))
        return id
    }

    private mutating func emit(_ operation: Operation) {
        blocks[current.index].instructions.append(ir(operation, line: blocks[current.index].instructions.count + 2))
    }

    private mutating func terminate(_ terminator: Terminator) {
        blocks[current.index].terminator = terminator
    }
}
