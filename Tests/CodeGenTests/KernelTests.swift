import BPFIR
import BPFInstructions
import IRTestSupport
import KernelTestSupport
import Testing
@testable import CodeGen
@testable import Passes

/// Runs the passes, compiles every function and links `f` with the functions it calls (the
/// verifier rejects unreachable code, so uncalled ones stay out, as libbpf leaves them out).
func kernelProgram(_ module: Module, cpu: CPUVersion) throws -> [Instruction] {
    var module = module
    try runPasses(&module, cpu: cpu)
    let functions = try module.functions.map { function in
        let compiled = try compileFunction(function, in: module, cpu: cpu)
        return (name: function.name, instructions: compiled.instructions,
                calls: compiled.relocations.map { (index: $0.instructionIndex, symbol: $0.symbol) })
    }
    var used: Set<String> = ["f"]
    var work = ["f"]
    while let name = work.popLast() {
        for call in functions.first(where: { $0.name == name })?.calls ?? [] where used.insert(call.symbol).inserted {
            work.append(call.symbol)
        }
    }
    return link(functions.filter { used.contains($0.name) })
}

@Suite(.needs(.bpf))
struct KernelTests {
    /// Every division of both widths, with register and constant divisors, against the reference
    /// semantics (Swift's `/` and `%` where C defines them, BPF's rule for zero and MIN / -1).
    @Test(arguments: [CPUVersion.v3, .v4])
    func divisionMatchesSwift(cpu: CPUVersion) throws {
        let ctx = Temp(0), a = Temp(1), b = Temp(2)
        var instructions = [
            ir(.load(a, .temp(ctx, offset: 0), .double, addressSpace: 0)),
            ir(.load(b, .temp(ctx, offset: 8), .double, addressSpace: 0)),
        ]
        var expected: [(BinaryOperator, ALUWidth, Int64?)] = []
        for width in [ALUWidth.bits64, .bits32] {
            for op in [BinaryOperator.sdiv, .smod, .udiv, .umod] { expected.append((op, width, nil)) }
            for divisor: Int64 in [-7, 2, -1, 3] {
                for op in [BinaryOperator.sdiv, .smod] { expected.append((op, width, divisor)) }
            }
        }
        var next = 3
        for (i, (op, width, divisor)) in expected.enumerated() {
            let t = Temp(next)
            next += 1
            instructions.append(ir(.binary(t, op, width, .temp(a), divisor.map { .constant($0) } ?? .temp(b))))
            instructions.append(ir(.store(.temp(ctx, offset: 16 + 8 * i), .temp(t), .double, addressSpace: 0)))
        }
        let block = Block(id: BlockID(0), instructions: instructions, terminator: .return(.constant(0)))
        let module = Module(functions: [testFunction(parameters: 1, tempCount: next, blocks: [block])])
        let program = try SyscallProgram(try kernelProgram(module, cpu: cpu))

        let operands: [Int64] = [0, 1, -1, 2, -2, 7, -7, 100, -100, 12345, -98765, Int64(Int32.max), Int64(Int32.min),
                                 Int64.max, Int64.min, Int64.min + 1, 1 << 40, -(1 << 40), 0x1_0000_0007, -0x1_0000_0007]
        var compared = 0
        for x in operands {
            for y in operands {
                var context = littleEndian([UInt64(bitPattern: x), UInt64(bitPattern: y)]
                                           + [UInt64](repeating: 0xdead, count: expected.count))
                _ = try program.run(context: &context)
                let results = words(context).dropFirst(2)
                for ((op, width, divisor), result) in zip(expected, results) {
                    let d = divisor ?? y
                    let want = evaluate(op, width, UInt64(bitPattern: x), UInt64(bitPattern: d))
                    #expect(result == want, "\(cpu): \(x) \(op) \(d) on \(width)")
                    compared += 1
                }
            }
        }
        #expect(compared == operands.count * operands.count * expected.count)
        // The C examples, spelled out against Swift's own operators.
        for (x, y) in [(-7, 2), (7, -2), (-7, -2), (Int64.min, 1), (Int64.min, 2)] as [(Int64, Int64)] {
            var context = littleEndian([UInt64(bitPattern: x), UInt64(bitPattern: y)]
                                       + [UInt64](repeating: 0, count: expected.count))
            _ = try program.run(context: &context)
            let results = words(context)
            #expect(Int64(bitPattern: results[2]) == x / y)
            #expect(Int64(bitPattern: results[3]) == x % y)
        }
    }

    /// Random programs (branches, loops, may_goto, calls, spills, a stack slot, Temps read before
    /// written) must pass the verifier and compute what the IR means.
    @Test(arguments: [CPUVersion.v3, .v4])
    func randomProgramsMatchTheInterpreter(cpu: CPUVersion) throws {
        var random = RandomSource(state: 42)
        var spilled = 0
        for seed in 0..<150 as Range<UInt64> {
            var builder = RandomProgramBuilder(seed: seed)
            let module = builder.build()
            let instructions = try kernelProgram(module, cpu: cpu)
            var lowered = module
            try runPasses(&lowered, cpu: cpu)
            if try compileFunction(lowered.functions[0], in: lowered, cpu: cpu).stackSize > 16 { spilled += 1 }
            let program: SyscallProgram
            do {
                program = try SyscallProgram(instructions)
            } catch {
                Issue.record("seed \(seed) at \(cpu) rejected: \(error)\n\(printIR(lowered))")
                continue
            }
            for _ in 0..<4 {
                let inputs = (0..<4).map { _ in random.below(3) == 0 ? UInt64(random.below(9)) : random.next() }
                var context = littleEndian(inputs + [0])
                let returned = try program.run(context: &context)
                var interpreter = IRInterpreter(module: module)
                interpreter.write(littleEndian(inputs + [0]), at: 0x1000)
                let want = interpreter.call("f", [0x1000])
                #expect(words(context)[4] == want, "seed \(seed) at \(cpu), inputs \(inputs)")
                #expect(returned == UInt32(truncatingIfNeeded: want))
            }
        }
        // The programs are meant to exercise spilling; make sure most of them do.
        #expect(spilled > 75)
    }
}
