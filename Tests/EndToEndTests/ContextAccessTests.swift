// Reads of a program's context at constant offsets, in program types our loader does not run:
// the verifier refuses a context pointer that was moved (`r1 += 48` then a load), so each read
// must be one load at the context pointer plus the offset. bpftool loads every program of the
// object through libbpf, so the kernel's verifier is the judge.
import Foundation
import KernelTestSupport
import Testing

@Suite("Context access")
struct ContextAccessTests {
    static let source = """
        #include <linux/bpf.h>
        #include <bpf/bpf_helpers.h>

        char LICENSE[] SEC("license") = "GPL";
        long seen;

        SEC("raw_tp/sys_enter") int raw_args(struct bpf_raw_tracepoint_args *ctx)
        {
        \tseen = ctx->args[1] + ctx->args[0];
        \treturn 0;
        }

        SEC("tc") int control_block(struct __sk_buff *skb)
        {
        \tskb->cb[3] = skb->len;
        \treturn skb->cb[2] + skb->cb[4] + (skb->mark & 1);
        }

        /* sys_enter(struct pt_regs *regs, long id): the id is the second argument. */
        SEC("tp_btf/sys_enter") int btf_args(unsigned long long *ctx)
        {
        \tunsigned long long *args = ctx;
        \treturn (args[1] & 0xff) + (ctx[1] > 1000);
        }

        """

    @Test(.needs(.bpf), arguments: BuildVariant.all)
    func verifierAcceptsEachRead(_ variant: BuildVariant) async throws {
        let directory = try Paths.workDirectory("context-access/\(variant.flags.joined())")
        let source = directory.appendingPathComponent("context.c")
        try Self.source.write(to: source, atomically: true, encoding: .utf8)
        let compile = try await runProcess(try await Tools.ours("swiftbpfcc"), [
            "context.c", "-g", "-o", "context.o",
        ] + variant.flags, in: directory)
        try #require(compile.status == 0, "\(compile.transcript)")
        let pins = "/sys/fs/bpf/swiftbpfcc-context-\(getpid())-\(variant.flags.joined())"
        defer { try? FileManager.default.removeItem(atPath: pins) }
        let load = try await runProcess(try which("bpftool"), ["prog", "loadall", "context.o", pins], in: directory)
        #expect(load.status == 0, "\(load.transcript)")
    }
}
