// Differential testing with programs nobody here wrote: csmith's random C (Debian's csmith
// package), built natively by cc and for BPF by swiftbpfcc, run in the kernel; both must compute
// the same checksum of every global. csmith's programs have no undefined behaviour and use C
// widely (bit-fields, unions, unnamed members, nested initializers, wide arithmetic), which is
// how it found, for example, positional initializers that did not skip `unsigned : 0`.
//
// Options keep to what a BPF program can be: no pointers (globals cannot hold addresses), no
// floating point, no structs passed or returned by value, small arrays. Programs our compiler
// reports as beyond BPF (a stack frame over 512 bytes) or that the verifier rejects are counted,
// not failed: csmith keeps loop counters in globals, which the verifier cannot bound. A wrong
// checksum, a crash, or too few programs run in the kernel fails the test.
//
// `CSMITH_SEEDS=300 swift test --filter CsmithTests` runs more; `CSMITH_FIRST_SEED` moves the window.
import Foundation
import KernelTestSupport
import Testing

@Suite("csmith programs")
struct CsmithTests {
    static let options = [
        "--no-pointers", "--no-float", "--no-argc", "--max-funcs", "3", "--no-return-structs", "--no-arg-structs",
        "--no-return-unions", "--no-arg-unions", "--no-packed-struct", "--max-array-dim", "2",
        "--max-array-len-per-dim", "4", "--max-block-depth", "3",
    ]

    /// csmith's safe_math.h without the functions that take or return floating point.
    static func integerSafeMath() throws -> String {
        let lines = try String(contentsOfFile: "/usr/include/csmith/safe_math.h", encoding: .utf8)
            .split(separator: "\n", omittingEmptySubsequences: false)
        var kept: [Substring] = []
        var index = 0
        while index < lines.count {
            let line = lines[index]
            let signature = line + (index + 1 < lines.count ? lines[index + 1] : "")
            if line.hasPrefix("STATIC") && (signature.contains("float") || signature.contains("double")) {
                while index < lines.count && lines[index] != "}" { index += 1 }
                index += 1
                continue
            }
            kept.append(line)
            index += 1
        }
        return kept.joined(separator: "\n")
    }

    enum Outcome: Equatable {
        case same
        /// Beyond what BPF allows, said by our compiler (the message).
        case refused(String)
        /// The verifier's rejection.
        case rejected(String)
    }

    @Test(.needs(.bpf))
    func csmithProgramsMatchNative() async throws {
        let environment = ProcessInfo.processInfo.environment
        let count = environment["CSMITH_SEEDS"].flatMap { Int($0) } ?? 30
        let first = environment["CSMITH_FIRST_SEED"].flatMap { Int($0) } ?? 1
        let directory = try Paths.workDirectory("csmith")
        try Self.integerSafeMath().write(to: directory.appendingPathComponent("safe_math_int.h"), atomically: true,
                                    encoding: .utf8)
        let header = Paths.support.appendingPathComponent("csmith").path
        let (csmith, cc) = (try which("csmith"), try which("cc"))
        let (compiler, loader) = (try await Tools.ours("swiftbpfcc"), try await Tools.ours("swiftbpf"))
        var outcomes: [Int: [Outcome]] = [:]
        for seed in first..<(first + count) {
            let program = directory.appendingPathComponent("p\(seed).c").path
            let generated = try await runProcess(csmith, Self.options + ["--seed", "\(seed)", "-o", program], in: directory)
            // csmith itself sometimes gives up on a seed (an assertion of its own).
            guard generated.status == 0 else { continue }
            try """
                #define main csmith_main
                #include "p\(seed).c"
                #undef main
                char LICENSE[] __attribute__((section("license"), used)) = "GPL";
                __attribute__((section("syscall"), used)) int prog(void *ctx) { csmith_main(); return 0; }

                """.write(toFile: "\(directory.path)/bpf\(seed).c", atomically: true, encoding: .utf8)
            try """
                #define main csmith_main
                #include "p\(seed).c"
                #undef main
                #undef printf
                #include <stdio.h>
                int main(void) { csmith_main(); printf("prog retval=0\\ncsmith_result=%llu\\n", (unsigned long long)csmith_result); return 0; }

                """.write(toFile: "\(directory.path)/native\(seed).c", atomically: true, encoding: .utf8)
            _ = try await runChecked(cc, ["-w", "-O1", "-I", header, "-I", ".", "-o", "native\(seed)", "native\(seed).c"],
                                     in: directory)
            let expected = try await runProcess("\(directory.path)/native\(seed)", [], in: directory, timeout: 10)
            // A program that loops for long natively is of no use in the kernel either.
            guard expected.status == 0 else { continue }
            // -O0 on every third seed: every call a BPF-to-BPF call.
            for level in seed % 3 == 0 ? ["-O2", "-O0"] : ["-O2"] {
                let object = "p\(seed)\(level).o"
                let compiled = try await runProcess(compiler, ["-w", level, "-g", "-I", header, "-I", ".", "bpf\(seed).c",
                                                               "-o", object], in: directory)
                try #require(compiled.status <= 1, "seed \(seed) \(level): swiftbpfcc crashed\n\(compiled.transcript)")
                guard compiled.status == 0 else {
                    let error = compiled.stderr.split(separator: "\n").first { $0.contains("error:") } ?? ""
                    outcomes[seed, default: []].append(.refused(String(error)))
                    continue
                }
                let run = try await runProcess(loader, ["run", object, "--prog", "prog", "--get", "csmith_result"],
                                               in: directory)
                try #require(run.status <= 1, "seed \(seed) \(level): swiftbpf crashed\n\(run.transcript)")
                guard run.status == 0 else {
                    outcomes[seed, default: []].append(.rejected(run.stderr.split(separator: "\n").last.map(String.init) ?? ""))
                    continue
                }
                #expect(run.stdout == expected.stdout, "seed \(seed) \(level): csmith program computes another checksum (\(program))")
                outcomes[seed, default: []].append(.same)
            }
        }
        let all = outcomes.values.flatMap { $0 }
        let same = all.filter { $0 == .same }.count
        let refused = all.compactMap { if case .refused(let m) = $0 { m } else { nil } }
        let rejected = all.filter { if case .rejected = $0 { true } else { false } }.count
        print("CsmithTests: seeds \(first)..<\(first + count): \(all.count) builds, \(same) ran in the kernel with the native checksum, \(refused.count) beyond BPF, \(rejected) rejected by the verifier")
        // Refusals may only be BPF's own limits, never a construct we fail to compile.
        for message in refused {
            #expect(message.contains("stack frame") || message.contains("a whole chain of calls")
                        || message.contains("not supported on BPF"), "\(message)")
        }
        // Between a sixth and a third of the builds run today (the verifier rejects the rest);
        // far fewer means something broke on the way.
        #expect(same >= 3 && same * 10 >= all.count, "only \(same) of \(all.count) csmith builds ran in the kernel")
    }
}
