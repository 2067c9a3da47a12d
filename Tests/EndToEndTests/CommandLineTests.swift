// The command lines real BPF Makefiles pass to clang, given to swiftbpfcc unchanged: the kernel
// selftests' flags, include search order, forced includes and dependency files, each checked
// against what clang-19 does with the same flags.
import Foundation
import Testing

@Suite("Command line")
struct CommandLineTests {
    /// A scratch directory with a program that includes a user header shadowing glibc's
    /// `gnu/stubs.h` (which pulls in a 32-bit stub no BPF build has), a quoted local header and a
    /// header forced in with `-include`.
    static func project(_ name: String) throws -> URL {
        let directory = try Paths.workDirectory("command-line/\(name)")
        let files = [
            "prog.c": """
                #include <swiftbpf.h>
                #include <gnu/stubs.h>
                #include "local.h"
                char LICENSE[] SEC("license") = "GPL";
                SEC("syscall") int prog(void *ctx) { return USER_STUBS + LOCAL + FORCED; }

                """,
            "user/gnu/stubs.h": "#define USER_STUBS 40\n",
            "local.h": "#define LOCAL 2\n",
            "forced.h": "#define FORCED 100\n",
        ]
        for (path, text) in files {
            let url = directory.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        return directory
    }

    /// The kernel selftests' BPF flags (tools/testing/selftests/bpf/Makefile), plus -include and
    /// -MD -MP: swiftbpfcc and clang-19 both compile, and write the same dependency file.
    @Test func selftestsFlagsAndDependencyFiles() async throws {
        let directory = try Self.project("selftests")
        let flags = [
            "-g", "-Wall", "-Werror", "-D__TARGET_ARCH_x86", "-mlittle-endian", "-Iuser", "-I", Paths.include.path,
            "-std=gnu11", "-fno-strict-aliasing", "-Wno-compare-distinct-pointer-types",
            "-idirafter", "/usr/lib/llvm-19/lib/clang/19/include", "-idirafter", "/usr/local/include",
            "-idirafter", "/usr/include/x86_64-linux-gnu", "-idirafter", "/usr/include",
            "-include", "forced.h", "-O2", "--target=bpfel", "-mcpu=v3", "-MD", "-MP", "-MT", "prog.bpf.o", "-c", "prog.c",
        ]
        let ours = try await runProcess(try await Tools.ours("swiftbpfcc"), flags + ["-o", "ours.o", "-MF", "ours.d"],
                                        in: directory)
        #expect(ours.status == 0, "\(ours.transcript)")
        let clang = try await runProcess(try which("clang-19"), flags + ["-o", "clang.o", "-MF", "clang.d"], in: directory)
        try #require(clang.status == 0, "\(clang.transcript)")
        let oursDependencies = try String(contentsOf: directory.appendingPathComponent("ours.d"), encoding: .utf8)
        let clangDependencies = try String(contentsOf: directory.appendingPathComponent("clang.d"), encoding: .utf8)
        #expect(oursDependencies.trimmingCharacters(in: .newlines) == clangDependencies.trimmingCharacters(in: .newlines))
    }

    /// A sum of 8,000 terms nests 8,000 deep, as generated code does: lowering it recurses that
    /// deep, which once overflowed the main thread's stack (a crash, signal 11); it compiles, and
    /// clang compiles it too.
    @Test func deeplyNestedExpressionsCompile() async throws {
        let directory = try Paths.workDirectory("command-line/deep")
        let terms = String(repeating: " + v", count: 8000)
        try """
            #include <swiftbpf.h>
            char LICENSE[] SEC("license") = "GPL";
            long in, out;
            SEC("syscall") int deep(void *ctx)
            {
                long v = in;
                out = v\(terms);
                return 0;
            }

            """.write(to: directory.appendingPathComponent("deep.c"), atomically: true, encoding: .utf8)
        for compiler in [try await Tools.ours("swiftbpfcc"), try which("clang-19")] {
            let result = try await runProcess(compiler, ["-target", "bpf", "-O2", "-I", Paths.include.path, "-c", "deep.c",
                                                         "-o", "deep.o"], in: directory)
            #expect(result.status == 0, "\(compiler): \(result.transcript)")
        }
    }

    /// -MD without -MF names the file after the output; -MMD leaves system headers out, as clang.
    @Test(arguments: ["-MD", "-MMD"])
    func dependencyFileDefaults(_ flag: String) async throws {
        let directory = try Self.project("defaults\(flag)")
        for (compiler, output) in [(try await Tools.ours("swiftbpfcc"), "ours/prog.bpf.o"), (try which("clang-19"), "clang/prog.bpf.o")] {
            try FileManager.default.createDirectory(at: directory.appendingPathComponent(output).deletingLastPathComponent(),
                                                    withIntermediateDirectories: true)
            let result = try await runProcess(compiler, [
                "-target", "bpf", "-Iuser", "-isystem", Paths.include.path, "-idirafter", "/usr/include/x86_64-linux-gnu",
                "-include", "forced.h", flag, "-c", "prog.c", "-o", output,
            ], in: directory)
            #expect(result.status == 0, "\(result.transcript)")
        }
        let ours = try String(contentsOf: directory.appendingPathComponent("ours/prog.bpf.d"), encoding: .utf8)
        let clang = try String(contentsOf: directory.appendingPathComponent("clang/prog.bpf.d"), encoding: .utf8)
        #expect(ours.replacingOccurrences(of: "ours/", with: "").trimmingCharacters(in: .newlines)
                == clang.replacingOccurrences(of: "clang/", with: "").trimmingCharacters(in: .newlines))
    }

    /// -Werror makes clang's warnings errors, at their line; -Wno-… silences one.
    @Test func warningFlagsReachClang() async throws {
        let directory = try Paths.workDirectory("command-line/werror")
        try """
            #include <swiftbpf.h>
            char LICENSE[] SEC("license") = "GPL";
            SEC("syscall") int prog(void *ctx) { int unused; return 1; }

            """.write(to: directory.appendingPathComponent("prog.c"), atomically: true, encoding: .utf8)
        let compiler = try await Tools.ours("swiftbpfcc")
        let base = ["-I", Paths.include.path, "-Wall", "prog.c", "-o", "prog.o"]
        let strict = try await runProcess(compiler, base + ["-Werror"], in: directory)
        #expect(strict.status == 1)
        #expect(strict.stderr.contains("prog.c:3:42: error: unused variable 'unused'"), "\(strict.transcript)")
        let warned = try await runProcess(compiler, base, in: directory)
        #expect(warned.status == 0 && warned.stderr.contains("warning: unused variable"), "\(warned.transcript)")
        let quiet = try await runProcess(compiler, base + ["-Werror", "-Wno-unused-variable"], in: directory)
        #expect(quiet.status == 0 && quiet.stderr.isEmpty, "\(quiet.transcript)")
    }

    @Test(arguments: [
        (["-mbig-endian"], "big-endian BPF ('-mbig-endian') is not supported"),
        (["-target", "bpfeb"], "only '-target bpf'"),
        (["-std=c2x99"], "clang refused the command line"),
    ])
    func refusedFlagsSayWhy(_ flags: [String], _ message: String) async throws {
        let directory = try Self.project("refused-\(flags.joined())")
        let result = try await runProcess(try await Tools.ours("swiftbpfcc"), flags + ["-Iuser", "-I", Paths.include.path, "prog.c"],
                                          in: directory)
        #expect(result.status == 1)
        #expect(result.stderr.contains("error: \(message)"), "\(result.transcript)")
    }

    /// Loads say what alias analysis may assume of them: volatile for `volatile` lvalues and atomic
    /// loads; typed for integers and pointers, but not for union members, enums, `may_alias`
    /// types, or anything under `-fno-strict-aliasing`.
    @Test func irMarksVolatileAndTypedLoads() async throws {
        let directory = try Paths.workDirectory("command-line/access-flags")
        try """
            int flag;
            union u { long l; int i[2]; } uu;
            enum e { A, B } ee;
            typedef int __attribute__((may_alias)) aint;
            __attribute__((section("syscall"))) int prog(void *ctx)
            {
            \tint spins = *(volatile int *)&flag;
            \tspins += __atomic_load_n(&flag, __ATOMIC_RELAXED);
            \treturn spins + uu.i[1] + ee + *(aint *)&uu + flag;
            }

            """.write(to: directory.appendingPathComponent("prog.c"), atomically: true, encoding: .utf8)
        func loads(_ flags: [String]) async throws -> [String] {
            let result = try await runProcess(try await Tools.ours("swiftbpfcc"),
                                              ["-O0", "-emit-ir"] + flags + ["prog.c", "-o", "-"], in: directory)
            #expect(result.status == 0, "\(result.transcript)")
            return result.stdout.split(separator: "\n").compactMap { line in
                line.firstMatch(of: /= (load[.a-z]*)\.4 .*prog.c:(\d+)/).map { "\($0.2): \($0.1)" }
            }
        }
        #expect(try await loads([]) == ["7: load.volatile.typed", "8: load.volatile", "9: load", "9: load",
                                        "9: load", "9: load.typed"])
        #expect(try await loads(["-fno-strict-aliasing"]) == ["7: load.volatile", "8: load.volatile", "9: load",
                                                               "9: load", "9: load", "9: load"])
    }

    /// A volatile access through an `__arena` pointer stays volatile, however it is written: libclang
    /// drops the qualifier from the type of `*p` when the type also has an address space. Forwarded
    /// from the store before it, the read of a page the kernel never allocated gave 3 where the
    /// kernel reads 0 (the 6.12 selftest verifier_arena's basic_alloc2).
    @Test func volatileSurvivesAnAddressSpace() async throws {
        let directory = try Paths.workDirectory("command-line/volatile-arena")
        try """
            #define __arena __attribute__((address_space(1)))
            struct node { int value; };
            struct { int (*type)[33]; int (*map_flags)[1024]; int (*max_entries)[1]; } arena
                __attribute__((section(".maps")));
            volatile char __arena *page;
            volatile struct node __arena *node;
            __attribute__((section("syscall"))) int prog(void *ctx)
            {
            	*page = 3;
            	page[1] = 4;
            	node->value = 5;
            	return *page + (page)[1] + 2[page] + node->value + (*node).value;
            }

            """.write(to: directory.appendingPathComponent("prog.c"), atomically: true, encoding: .utf8)
        let result = try await runProcess(try await Tools.ours("swiftbpfcc"), ["-O2", "-emit-ir", "prog.c", "-o", "-"],
                                          in: directory)
        #expect(result.status == 0, "\(result.transcript)")
        let accesses = result.stdout.split(separator: "\n").compactMap { line in
            line.firstMatch(of: /(load|store)(\.volatile)?[.a-z]*\.[14] as1 .*prog.c:(\d+)/)
                .map { "\($0.3): \($0.1)\($0.2 ?? "")" }
        }
        #expect(accesses == ["9: store.volatile", "10: store.volatile", "11: store.volatile", "12: load.volatile",
                             "12: load.volatile", "12: load.volatile", "12: load.volatile", "12: load.volatile"],
                "\(result.stdout)")
    }

    /// A variadic `int` (bpf_printk's `%d`) is read in its low 32 bits: passed without the two
    /// shifts of a sign extension, where a `long` made from it keeps them.
    @Test func variadicIntsAreNotSignExtended() async throws {
        let directory = try Paths.workDirectory("command-line/variadic-ints")
        try """
            #include <linux/bpf.h>
            #include <bpf/bpf_helpers.h>
            int value;
            SEC("syscall") int prog(void *ctx)
            {
            \tint pid = bpf_get_current_pid_tgid() >> 32;
            \tbpf_printk("%d %d", pid, value - 1);
            \treturn 0;
            }
            SEC("syscall") int widened(void *ctx)
            {
            \tbpf_printk("%ld", (long)(value - 1));
            \treturn 0;
            }

            """.write(to: directory.appendingPathComponent("prog.c"), atomically: true, encoding: .utf8)
        let result = try await runProcess(try await Tools.ours("swiftbpfcc"), ["-O2", "-mcpu=v3", "-S", "prog.c", "-o", "-"],
                                          in: directory)
        #expect(result.status == 0, "\(result.transcript)")
        let functions = result.stdout.split(separator: "\nwidened:")
        try #require(functions.count == 2, "\(result.stdout)")
        #expect(!functions[0].contains("s>>= 32"), "\(functions[0])")
        #expect(functions[1].contains("s>>= 32"), "\(functions[1])")
    }

    /// At -mcpu=v4 every atomic load with an order stronger than relaxed is one load_acquire and
    /// every such store one store_release (ordered_atomics.c has 8 and 6, and one relaxed of each);
    /// at v3 there are none.
    @Test func orderedAtomicsAreAcquireAndReleaseAtV4() async throws {
        let directory = try Paths.workDirectory("command-line/ordered-atomics")
        for (cpu, loads, stores) in [("v4", 8, 6), ("v3", 0, 0)] {
            let result = try await runProcess(try await Tools.ours("swiftbpfcc"), [
                "-O2", "-mcpu=\(cpu)", "-S", "-I", Paths.include.path,
                Paths.corpus.appendingPathComponent("ordered_atomics.c").path, "-o", "-",
            ], in: directory)
            #expect(result.status == 0, "\(result.transcript)")
            let code = result.stdout.split(separator: "\n").filter { !$0.hasPrefix(";") }
            #expect(code.filter { $0.contains("= load_acquire((") }.count == loads, "\(cpu)")
            #expect(code.filter { $0.contains("store_release((") }.count == stores, "\(cpu)")
        }
    }

    /// `--print-after-all` shows the IR after each pass that runs, in pipeline order, on standard
    /// error: arena casts appear first after the cast pass, and aggregate copies are gone after
    /// aggregate lowering.
    @Test func printAfterShowsEachPass() async throws {
        let directory = try Paths.workDirectory("command-line/print-after")
        let result = try await runProcess(try await Tools.ours("swiftbpfcc"), [
            "-O2", "-emit-ir", "--print-after-all", "-I", Paths.include.path,
            Paths.corpus.appendingPathComponent("arena_aggregates.c").path, "-o", "out.ir",
        ], in: directory)
        #expect(result.status == 0, "\(result.transcript)")
        let dumps = result.stderr.components(separatedBy: "; *** IR after ").dropFirst().map { dump in
            (pass: String(dump.prefix { $0 != " " }), ir: dump)
        }
        #expect(dumps.map(\.pass) == ["inlining", "simplification", "loop-unrolling", "simplification", "signed-division",
                                       "aggregate-lowering", "stack-alignment", "load-forwarding", "dead-stores",
                                       "simplification", "load-forwarding", "dead-stores", "simplification",
                                       "loop-unrolling", "loop-invariant-motion", "simplification", "arena-casts",
                                       "arena-association"])
        for (pass, ir) in dumps {
            let castsDone = ["arena-casts", "arena-association"].contains(pass)
            #expect(ir.contains("addr_space_cast") == castsDone, "\(pass)")
            let aggregatesLowered = !["inlining", "simplification", "loop-unrolling", "signed-division"].contains(pass)
            #expect(!ir.contains("copy [") || !aggregatesLowered, "\(pass): a copyMemory survived aggregate lowering")
        }
        // The last dump is what -emit-ir writes.
        let written = try String(contentsOf: directory.appendingPathComponent("out.ir"), encoding: .utf8)
        #expect(dumps.last.map { $0.ir.contains(written.prefix(200)) } ?? false)
    }
}
