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
