// Compatibility with the kernel's own arena programs: tools/testing/selftests/bpf of Linux 6.12
// (arena_list, arena_htab, arena_htab_asm, arena_atomics, verifier_arena, verifier_arena_large),
// plus our arena spin lock (Compat/arena_spin_lock.c; 6.12 has none) and iters_task_vma (which
// compares through bpf_experimental.h's bpf_cmp_unlikely, an asm goto whose template the macro
// joins from its stringified operator), each compiled with the
// selftests' Makefile command line, unchanged, by clang-19 and by swiftbpfcc in clang's place.
// Both compilers must compile them and libbpf 1.5 must see the same maps, programs, decl tags and
// arena globals in both objects. Where the kernel grants arena maps, our driver
// (Tests/Support/arena_compat_driver.c, on libbpf 1.5) and swiftbpf run them and check what the
// kernel's prog_tests check.
import Foundation
import KernelTestSupport
import Testing

/// One program of the suite.
struct SelftestProgram: Sendable, CustomTestStringConvertible {
    var name: String
    /// As the Makefile names it, relative to the selftests directory, or our own file.
    var source: String

    var testDescription: String { name }

    static func kernel(_ name: String) -> SelftestProgram {
        SelftestProgram(name: name, source: "progs/\(name).c")
    }
}

/// A compiler of the suite: clang-19 as the Makefile's $(CLANG), or swiftbpfcc in its place.
enum SelftestCompiler: String, Sendable, CaseIterable {
    case clang = "clang-19"
    case ours = "swiftbpfcc"

    func path() async throws -> String {
        switch self {
        case .clang: try which("clang-19")
        case .ours: try await Tools.ours("swiftbpfcc")
        }
    }
}

enum SelftestPrograms {
    static let arenaList = SelftestProgram.kernel("arena_list")
    static let arenaHtab = SelftestProgram.kernel("arena_htab")
    static let arenaHtabAsm = SelftestProgram.kernel("arena_htab_asm")
    static let arenaAtomics = SelftestProgram.kernel("arena_atomics")
    static let verifierArena = SelftestProgram.kernel("verifier_arena")
    static let verifierArenaLarge = SelftestProgram.kernel("verifier_arena_large")
    static let itersTaskVma = SelftestProgram.kernel("iters_task_vma")
    static let spinLock = SelftestProgram(
        name: "arena_spin_lock", source: Paths.endToEnd.appendingPathComponent("Compat/arena_spin_lock.c").path)

    static let all = [arenaList, arenaHtab, arenaHtabAsm, arenaAtomics, verifierArena, verifierArenaLarge, spinLock,
                      itersTaskVma]
}

/// A compiler's object and what the compiler said (the object exists when the status is 0).
struct CompiledObject: Sendable {
    var path: String
    var result: ProcessResult
}

/// Each program compiled once per compiler per test run.
actor SelftestObjects {
    static let shared = SelftestObjects()
    private var compiled: [String: Task<CompiledObject, any Error>] = [:]

    func compile(_ program: SelftestProgram, with compiler: SelftestCompiler, tree: SelftestTree)
        -> Task<CompiledObject, any Error>
    {
        let key = "\(program.name)/\(compiler.rawValue)"
        if let task = compiled[key] { return task }
        let task = Task {
            let directory = try Paths.workDirectory("kernel-selftests/\(key)")
            let object = directory.appendingPathComponent("\(program.name).bpf.o").path
            let arguments = tree.buildRule.arguments(compiler: try await compiler.path(), source: program.source,
                                                     object: object)
            // From the selftests directory, as make runs the rule there.
            let result = try await runProcess(arguments[0], Array(arguments.dropFirst()), in: tree.selftests)
            return CompiledObject(path: object, result: result)
        }
        compiled[key] = task
        return task
    }
}

/// `key=value` lines of the driver's and swiftbpf's output; `NAME retval=R` counts as
/// `NAME.retval=R`.
func keyValues(_ output: String) -> [String: Int64] {
    var values: [String: Int64] = [:]
    for line in output.split(separator: "\n") {
        let words = line.split(separator: " ")
        if words.count == 2, words[1].hasPrefix("retval="), let value = Int64(words[1].dropFirst(7)) {
            values["\(words[0]).retval"] = value
        } else if words.count == 1, let equals = line.firstIndex(of: "="), let value = Int64(line[line.index(after: equals)...]) {
            values[String(line[..<equals])] = value
        }
    }
    return values
}

@Suite("Kernel 6.12 arena selftests", .serialized)
struct KernelCompatTests {
    /// The compiler's object, which must exist.
    private func object(_ program: SelftestProgram, _ compiler: SelftestCompiler, tree: SelftestTree) async throws
        -> String
    {
        let compiled = try await SelftestObjects.shared.compile(program, with: compiler, tree: tree).value
        try #require(compiled.result.status == 0, "\(compiler.rawValue) \(program.source): \(compiled.result.transcript)")
        return compiled.path
    }

    /// Runs `body` on each compiler's object.
    private func forEachObject(_ program: SelftestProgram,
                               _ body: (SelftestCompiler, String, SelftestTree) async throws -> Void) async throws
    {
        let tree = try await KernelSelftests.require()
        for compiler in SelftestCompiler.allCases {
            try await body(compiler, try await object(program, compiler, tree: tree), tree)
        }
    }

    @Test("the command line is the Makefile's")
    func commandLineFromTheMakefile() async throws {
        let tree = try await KernelSelftests.require()
        let words = tree.buildRule.arguments(compiler: "CC", source: "progs/x.c", object: "x.o")
        // What the kernel's BPF objects are built with, found in the Makefile, not written here.
        for expected in ["-g", "-Wall", "-Werror", "-D__TARGET_ARCH_x86", "-mlittle-endian", "-DENABLE_ATOMICS_TESTS",
                         "-O2", "--target=bpf", "-c", "-mcpu=v3", "-Wno-compare-distinct-pointer-types", "-idirafter"] {
            #expect(words.contains(expected), "\(words)")
        }
        #expect(words.first == "CC")
        #expect(words.contains("-I\(tree.includeDirectory.path)"), "\(words)")
        #expect(words.suffix(7) == ["-O2", "--target=bpf", "-c", "progs/x.c", "-mcpu=v3", "-o", "x.o"], "\(words)")
    }

    @Test(arguments: SelftestPrograms.all)
    func bothCompilersCompileAndLibbpfSeesTheSameObject(_ program: SelftestProgram) async throws {
        var inspections: [SelftestCompiler: [String]] = [:]
        try await forEachObject(program) { compiler, object, tree in
            let result = try await runProcess(tree.driver, ["inspect", object], in: tree.selftests)
            try #require(result.status == 0, "libbpf 1.5 opens \(compiler.rawValue)'s object: \(result.transcript)")
            // The order of maps, programs and arena globals is the compiler's to choose.
            inspections[compiler] = result.stdout.split(separator: "\n").map(String.init).sorted()
        }
        let clang = try #require(inspections[.clang])
        #expect(clang.contains { $0.hasPrefix("program ") })
        if let ours = inspections[.ours] {
            #expect(ours == clang)
        }
    }

    @Test(.needs(.arena), arguments: [1, 1000])
    func arenaList(count: Int) async throws {
        let expectedSum = Int64(count) * Int64(count - 1) / 2
        try await forEachObject(SelftestPrograms.arenaList) { compiler, object, tree in
            let result = try await runProcess(tree.driver, ["list", object, "\(count)"], in: tree.selftests)
            try #require(result.status == 0, "\(compiler.rawValue): \(result.transcript)")
            let values = keyValues(result.stdout)
            let expected: [String: Int64] = [
                "arena_list_add.retval": 0, "arena_list_del.retval": 0, "skip": 0,
                "user_sum_after_add": expectedSum, "arena_sum_after_add": expectedSum, "test_val": Int64(count) + 1,
                "user_sum_after_del": 0, "list_sum": expectedSum, "arena_sum_after_del": expectedSum,
            ]
            for (key, value) in expected {
                #expect(values[key] == value, "\(compiler.rawValue) \(key): \(result.stdout)")
            }

            let swiftbpf = try await runProcess(try await Tools.ours("swiftbpf"), [
                "run", object, "--set", "cnt=\(count)", "--prog", "arena_list_add", "--prog", "arena_list_del",
                "--get", "skip", "--get", "test_val", "--get", "list_sum", "--get", "arena_sum",
            ], in: tree.selftests)
            try #require(swiftbpf.status == 0, "swiftbpf, \(compiler.rawValue)'s object: \(swiftbpf.transcript)")
            let loaded = keyValues(swiftbpf.stdout)
            for key in ["arena_list_add.retval", "arena_list_del.retval", "skip", "test_val", "list_sum"] {
                #expect(loaded[key] == expected[key], "swiftbpf \(compiler.rawValue) \(key): \(swiftbpf.stdout)")
            }
            #expect(loaded["arena_sum"] == expectedSum, "swiftbpf \(compiler.rawValue): \(swiftbpf.stdout)")
        }
    }

    @Test(.needs(.arena), arguments: [SelftestPrograms.arenaHtab, SelftestPrograms.arenaHtabAsm])
    func arenaHtab(_ program: SelftestProgram) async throws {
        // arena_htab_asm.c renames the program.
        let programName = program.name == "arena_htab" ? "arena_htab_llvm" : "arena_htab_asm"
        try await forEachObject(program) { compiler, object, tree in
            let result = try await runProcess(tree.driver, ["htab", object, programName], in: tree.selftests)
            try #require(result.status == 0, "\(compiler.rawValue): \(result.transcript)")
            let values = keyValues(result.stdout)
            #expect(values["\(programName).retval"] == 0, "\(result.stdout)")
            #expect(values["skip"] == 0, "\(result.stdout)")
            #expect(result.stdout.contains("buckets=mapped\n"), "\(result.stdout)")
            // Keys read back from user space through the arena's mapping hold themselves.
            for key in stride(from: 0, to: 16, by: 4) {
                #expect(result.stdout.contains("lookup \(key)=\(key)\n"), "\(compiler.rawValue): \(result.stdout)")
            }

            let swiftbpf = try await runProcess(try await Tools.ours("swiftbpf"), [
                "run", object, "--prog", programName, "--get", "skip", "--get", "htab_for_user",
            ], in: tree.selftests)
            try #require(swiftbpf.status == 0, "swiftbpf, \(compiler.rawValue)'s object: \(swiftbpf.transcript)")
            let loaded = keyValues(swiftbpf.stdout)
            #expect(loaded["\(programName).retval"] == 0 && loaded["skip"] == 0, "\(swiftbpf.stdout)")
            #expect((loaded["htab_for_user"] ?? 0) != 0, "\(swiftbpf.stdout)")
        }
    }

    @Test(.needs(.arena))
    func arenaAtomics() async throws {
        // What prog_tests/arena_atomics.c asserts after running each program once.
        let expected: [String: Int64] = [
            "skip_tests": 0,
            "add64_value": 3, "add64_result": 1, "add32_value": 3, "add32_result": 1,
            "add_stack_value_copy": 3, "add_stack_result": 1, "add_noreturn_value": 3,
            "sub64_value": -1, "sub64_result": 1, "sub32_value": -1, "sub32_result": 1,
            "sub_stack_value_copy": -1, "sub_stack_result": 1, "sub_noreturn_value": -1,
            "and64_value": 0x010 << 32, "and32_value": 0x010, "or64_value": 0x111 << 32, "or32_value": 0x111,
            "xor64_value": 0x101 << 32, "xor32_value": 0x101,
            "cmpxchg64_value": 2, "cmpxchg64_result_fail": 1, "cmpxchg64_result_succeed": 1,
            "cmpxchg32_value": 2, "cmpxchg32_result_fail": 1, "cmpxchg32_result_succeed": 1,
            "xchg64_value": 2, "xchg64_result": 1, "xchg32_value": 2, "xchg32_result": 1,
            "uaf_recovery_fails": 0,
        ]
        try await forEachObject(SelftestPrograms.arenaAtomics) { compiler, object, tree in
            let result = try await runProcess(tree.driver, ["atomics", object], in: tree.selftests)
            try #require(result.status == 0, "\(compiler.rawValue): \(result.transcript)")
            let values = keyValues(result.stdout)
            for name in ["add", "sub", "and", "or", "xor", "cmpxchg", "xchg", "uaf"] {
                #expect(values["\(name).retval"] == 0, "\(compiler.rawValue) \(name): \(result.stdout)")
            }
            for (key, value) in expected {
                #expect(values[key] == value, "\(compiler.rawValue) \(key): \(result.stdout)")
            }
        }
    }

    @Test(.needs(.arena), arguments: [SelftestPrograms.verifierArena, SelftestPrograms.verifierArenaLarge])
    func verifierExpectations(_ program: SelftestProgram) async throws {
        try await forEachObject(program) { compiler, object, tree in
            let inspection = try await runChecked(tree.driver, ["inspect", object], in: tree.selftests)
            let programs = inspection.split(separator: "\n").filter { $0.hasPrefix("program ") }.count
            let result = try await runProcess(tree.driver, ["verifier", object], in: tree.selftests)
            try #require(result.status == 0, "\(compiler.rawValue): \(result.transcript)")
            let verdicts = result.stdout.split(separator: "\n").filter { $0.hasSuffix(": ok") || $0.contains(": FAIL ") }
            #expect(verdicts.count == programs && programs > 0, "\(result.stdout)")
            #expect(verdicts.allSatisfy { $0.hasSuffix(": ok") }, "\(compiler.rawValue): \(result.stdout)")
        }
    }

    /// `bpf_cmp_unlikely(seen, >=, 1000)`: the asm's comparison is the one clang-19 writes, an
    /// unsigned 64-bit compare with the constant as its immediate (not `s>=`, and with no sign
    /// extension of the `(short)` operand the macro casts), and the kernel verifies both objects.
    @Test(.needs(.bpf))
    func bpfCmpUnlikelyBranchesAsClangDoes() async throws {
        var comparisons: [SelftestCompiler: [String]] = [:]
        try await forEachObject(SelftestPrograms.itersTaskVma) { compiler, object, tree in
            let listing = try await runChecked(try which("llvm-objdump-19"), ["-d", object], in: tree.selftests)
            comparisons[compiler] = immediateComparisons(listing)
            let result = try await runProcess(tree.driver, ["verifier", object], in: tree.selftests)
            try #require(result.status == 0, "\(compiler.rawValue): \(result.transcript)")
            #expect(result.stdout == "iter_task_vma_for_each: ok\n", "\(compiler.rawValue): \(result.stdout)")
        }
        let clang = try #require(comparisons[.clang])
        #expect(!clang.isEmpty)
        #expect(comparisons[.ours] == clang)
    }

    /// The conditional jumps of an llvm-objdump listing that compare with a nonzero immediate
    /// (`>= 0x3e8 (64-bit)`), sorted; tests of zero are left out, as the two compilers lay out
    /// their null checks and loop tests differently.
    private func immediateComparisons(_ listing: String) -> [String] {
        let jump = /\tif ([rw])\d+ (\S+) (-?0x[0-9a-f]+) goto/
        return listing.split(separator: "\n").compactMap { line -> String? in
            guard let match = line.firstMatch(of: jump), match.3 != "0x0" else { return nil }
            return "\(match.2) \(match.3) (\(match.1 == "w" ? 32 : 64)-bit)"
        }.sorted()
    }

    @Test(.needs(.arena))
    func arenaSpinLockFromTwoCPUs() async throws {
        let threads = 2, runs = 100
        try await forEachObject(SelftestPrograms.spinLock) { compiler, object, tree in
            let result = try await runProcess(tree.driver, ["spinlock", object, "increment", "\(threads)", "\(runs)"],
                                              in: tree.selftests)
            try #require(result.status == 0, "\(compiler.rawValue): \(result.transcript)")
            let values = keyValues(result.stdout)
            let rounds = try #require(values["rounds"], "\(result.stdout)")
            let acquired = try #require(values["acquired"], "\(result.stdout)")
            #expect(values["failed_runs"] == 0, "\(result.stdout)")
            // Without mutual exclusion, increments from the two CPUs get lost.
            #expect(values["counter"] == acquired && acquired > 0, "\(compiler.rawValue): \(result.stdout)")
            #expect(acquired + (values["gave_up"] ?? -1) == Int64(threads * runs) * rounds, "\(result.stdout)")

            let swiftbpf = try await runProcess(try await Tools.ours("swiftbpf"), [
                "run", object, "--prog", "increment", "--prog", "increment",
                "--get", "counter", "--get", "acquired", "--get", "gave_up",
            ], in: tree.selftests)
            try #require(swiftbpf.status == 0, "swiftbpf, \(compiler.rawValue)'s object: \(swiftbpf.transcript)")
            let loaded = keyValues(swiftbpf.stdout)
            // One CPU at a time: every round takes the lock.
            #expect(loaded["counter"] == 2 * rounds && loaded["acquired"] == 2 * rounds && loaded["gave_up"] == 0,
                    "\(swiftbpf.stdout)")
        }
    }
}
