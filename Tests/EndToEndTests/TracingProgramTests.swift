// Tracing program types the loader loads but BPF_PROG_TEST_RUN cannot run: tp_btf (attached by
// the kernel's `btf_trace_NAME` typedef, which the verifier checks the context against) and
// raw_tp.w. Loading them is checked against libbpf; running them must say why it cannot happen.
// (raw_tp programs run: Reference/raw_tracepoint.c.)
import Foundation
import KernelTestSupport
import Testing

@Suite("Tracing programs")
struct TracingProgramTests {
    static let source = """
        long seen;
        SEC("tp_btf/sys_enter") int on_enter(unsigned long long *ctx)
        {
        \tseen = ctx[1];
        \treturn 0;
        }
        SEC("raw_tp.w") int writable(void *ctx) { return 0; }
        """

    @Test func tracingProgramsLoadButDoNotTestRun() async throws {
        try KernelCapability.bpf.require()
        let (directory, objects) = try await ExternTests.objects("tracing", Self.source)
        let swiftbpf = try await Tools.ours("swiftbpf")
        for object in objects {
            let loaded = try await runProcess(swiftbpf, ["stats", object], in: directory)
            #expect(loaded.status == 0, "\(object): \(loaded.transcript)")
            #expect(loaded.stdout.contains("on_enter insns=") && loaded.stdout.contains("writable insns="))
            let libbpf = try await runProcess(try await Tools.libbpfRun.value, [object], in: directory)
            #expect(libbpf.status == 0, "\(object): \(libbpf.transcript)")

            let tpBTF = try await runProcess(swiftbpf, ["run", object, "--prog", "on_enter"], in: directory)
            #expect(tpBTF.status == 1)
            #expect(tpBTF.stderr.contains("program 'on_enter' cannot be test-run: a tp_btf program runs only when tracepoint 'sys_enter' fires"),
                    "\(tpBTF.stderr)")
            let writable = try await runProcess(swiftbpf, ["run", object, "--prog", "writable"], in: directory)
            #expect(writable.status == 1)
            #expect(writable.stderr.contains("program 'writable' cannot be test-run: the kernel has no test run for raw_tp.w programs"),
                    "\(writable.stderr)")
        }
    }

    @Test func unknownTracepointIsAnError() async throws {
        try KernelCapability.bpf.require()
        let (directory, objects) = try await ExternTests.objects("tracing_unknown", """
            SEC("tp_btf/swiftbpf_no_such_tracepoint") int on_nothing(unsigned long long *ctx) { return 0; }
            """)
        for object in objects {
            let result = try await runProcess(try await Tools.ours("swiftbpf"), ["stats", object], in: directory)
            #expect(result.status == 1)
            #expect(result.stderr.contains("the running kernel's BTF has no btf_trace_swiftbpf_no_such_tracepoint"),
                    "\(result.stderr)")
        }
    }
}
