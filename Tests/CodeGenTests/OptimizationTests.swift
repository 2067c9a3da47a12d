import BPFIR
import IRTestSupport
import KernelTestSupport
import Testing
@testable import Passes

/// Inlining and simplification must not change what a program computes: random programs run in
/// the reference interpreter before and after.
@Suite struct OptimizationTests {
    @Test func randomProgramsKeepTheirMeaning() {
        var random = RandomSource(state: 7)
        for seed in 0..<1000 as Range<UInt64> {
            var builder = RandomProgramBuilder(seed: seed)
            let module = builder.build()
            var optimized = module
            inlineFunctions(&optimized)
            simplify(&optimized)
            for _ in 0..<4 {
                let inputs = (0..<4).map { _ in random.below(3) == 0 ? UInt64(random.below(9)) : random.next() }
                var before = IRInterpreter(module: module)
                before.write(littleEndian(inputs + [0]), at: 0x1000)
                var after = IRInterpreter(module: optimized)
                after.write(littleEndian(inputs + [0]), at: 0x1000)
                let want = before.call("f", [0x1000])
                let got = after.call("f", [0x1000])
                #expect(got == want, "seed \(seed), inputs \(inputs)\n\(printIR(module))\n--- optimized ---\n\(printIR(optimized))")
                if got != want { return }
            }
        }
    }
}
