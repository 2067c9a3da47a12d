import BPFIR
import Foundation
import IRTestSupport
import Testing
@testable import CodeGen
@testable import Passes

/// Loop unrolling weighs its copies by what code generation will emit for them, estimated on the
/// IR (`emittedSizes`): on random programs (branches, loops, calls, values spilled), the estimate
/// follows the code.
@Suite struct EmittedSizeTests {
    @Test(arguments: [CPUVersion.v3, .v4])
    func theEstimateFollowsTheCode(cpu: CPUVersion) throws {
        var logs: [Double] = []
        for seed in 0..<60 as Range<UInt64> {
            var builder = RandomProgramBuilder(seed: seed)
            var module = builder.build()
            try runPasses(&module, cpu: cpu)
            for function in module.functions {
                let estimate = emittedSizes(function, cpu: cpu, liveOut: liveTemps(function).out).reduce(0, +)
                let emitted = try compileFunction(function, in: module, cpu: cpu).instructions.count
                let ratio = Double(estimate) / Double(emitted)
                #expect(ratio > 2.0 / 3 && ratio < 1.5, "seed \(seed), \(function.name): estimated \(estimate), emitted \(emitted)")
                logs.append(log(ratio))
            }
        }
        let mean = exp(logs.reduce(0, +) / Double(logs.count))
        #expect(mean > 0.9 && mean < 1.1, "geometric mean of estimated / emitted: \(mean)")
    }
}
