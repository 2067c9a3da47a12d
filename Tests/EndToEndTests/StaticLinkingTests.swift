// Objects go through libbpf's static linker (`bpftool gen object`, which libbpf-bootstrap's
// Makefile runs on every BPF object) as clang's do: the linker wants a non-static BTF FUNC for
// every global or weak function symbol, such as usdt.bpf.h's `__weak __hidden` helpers.
import Foundation
import KernelTestSupport
import Testing

@Suite("Static linking")
struct StaticLinkingTests {
    static let source = """
        __attribute__((weak, visibility("hidden"))) int weak_helper(int x) { return x + 1; }
        __attribute__((visibility("hidden"), noinline)) int hidden_helper(int x) { return x * 2; }
        int out;
        SEC("syscall") int entry(void *ctx)
        {
        \tout = weak_helper(1) + hidden_helper(2);
        \treturn 0;
        }
        """

    /// `FUNC 'NAME' ... linkage=L` lines of an object's BTF, without the type ids.
    static func functionLinkages(_ object: String, in directory: URL) async throws -> [String] {
        let dump = try await runChecked(try which("bpftool"), ["btf", "dump", "file", object], in: directory)
        return dump.split(separator: "\n").filter { $0.contains("] FUNC '") }.map { line in
            line.split(separator: " ").filter { $0.hasPrefix("'") || $0.hasPrefix("linkage=") }.joined(separator: " ")
        }.sorted()
    }

    /// A caller compiled by clang passes an `int` or `unsigned short` as it computed it, in the low
    /// bits of a register whose upper bits are not an extension: clang's callees extend their
    /// parameters, and ours must too, or `(long)x` of -5 is 4294967291 (and 0xffff + 1 passed as
    /// an `unsigned short` is 0x10000). Our callees, linked with clang's caller, give C's values.
    @Test func narrowParametersFromClangsCallersAreExtended() async throws {
        try KernelCapability.bpf.require()
        let directory = try Paths.workDirectory("static-linking/narrow-parameters")
        let prologue = "#include <linux/bpf.h>\n#include <bpf/bpf_helpers.h>\n"
        try (prologue + """
            __attribute__((noinline)) long widen(int x) { long y = x; return y >> 4; }
            __attribute__((noinline)) long widen_half(unsigned short x) { return (long)x * 3; }
            """).write(to: directory.appendingPathComponent("callee.c"), atomically: true, encoding: .utf8)
        try (prologue + """
            char LICENSE[] SEC("license") = "GPL";
            extern long widen(int x);
            extern long widen_half(unsigned short x);
            volatile int seed = -5;
            volatile unsigned short half = 0xffff;
            long out, out_half;
            SEC("syscall") int entry(void *ctx)
            {
            \tout = widen(seed * 16);
            \tout_half = widen_half(half + 1);
            \treturn 0;
            }
            """).write(to: directory.appendingPathComponent("caller.c"), atomically: true, encoding: .utf8)
        let flags = ["-O2", "-g", "-I", "/usr/include/x86_64-linux-gnu", "-c"]
        _ = try await runChecked(try await Tools.ours("swiftbpfcc"), flags + ["callee.c", "-o", "callee.o"], in: directory)
        _ = try await runChecked(try which("clang-19"), ["-target", "bpf"] + flags + ["caller.c", "-o", "caller.o"],
                                 in: directory)
        let link = try await runProcess(try which("bpftool"), ["gen", "object", "linked.o", "caller.o", "callee.o"],
                                        in: directory)
        try #require(link.status == 0, "\(link.transcript)")
        let run = try await runProcess(try await Tools.ours("swiftbpf"),
                                       ["run", "linked.o", "--prog", "entry", "--get", "out", "--get", "out_half"], in: directory)
        try #require(run.status == 0, "\(run.transcript)")
        let values = ExternTests.values(run.stdout)
        // C: (long)(-5 * 16) >> 4 is -5; (unsigned short)0x10000 is 0.
        #expect(values["out"] == String(Int64(-5 * 16) >> 4), "\(run.stdout)")
        #expect(values["out_half"] == "0", "\(run.stdout)")
    }

    @Test func weakAndHiddenFunctionsLinkAndLoadAsClangs() async throws {
        try KernelCapability.bpf.require()
        let (directory, objects) = try await ExternTests.objects("static_linking", Self.source)
        #expect(try await Self.functionLinkages("ours.o", in: directory) == Self.functionLinkages("clang.o", in: directory))
        var runs: [String] = []
        for object in objects {
            let linked = "linked_" + object
            let link = try await runProcess(try which("bpftool"), ["gen", "object", linked, object], in: directory)
            try #require(link.status == 0, "\(object): \(link.transcript)")
            let run = try await runProcess(try await Tools.ours("swiftbpf"), ["run", linked, "--prog", "entry", "--get", "out"],
                                           in: directory)
            #expect(run.status == 0, "\(linked): \(run.transcript)")
            let libbpf = try await runProcess(try await Tools.libbpfRun.value, [linked, "--prog", "entry", "--get", "out"],
                                              in: directory)
            #expect(libbpf.status == 0, "\(linked): \(libbpf.transcript)")
            #expect(run.stdout == libbpf.stdout)
            runs.append(run.stdout)
        }
        #expect(runs.count == 2 && runs[0] == runs[1])
    }
}
