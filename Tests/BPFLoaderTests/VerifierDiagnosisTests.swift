import KernelTestSupport
import Testing
import ToolTestSupport
@testable import BPFLoader

/// The summary line of a verifier rejection quotes the verifier's reason, not the states or
/// statistics printed after it, and points at the source line it concerns.
@Suite struct VerifierReasonTests {
    /// The end of a real log (6.18): the reason, the two states that prove the loop, statistics.
    @Test func reasonIsNotTheStatesAfterIt() {
        let log = """
            4: (05) goto pc-1
            infinite loop detected at insn 4
            cur state: R1=scalar(smin=umin=smin32=umin32=1) R10=fp0
            old state: R1=scalar(smin=umin=smin32=umin32=1) R10=fp0
            verification time 45 usec
            stack depth 0
            processed 9 insns (limit 1000000) max_states_per_insn 0 total_states 1 peak_states 1 mark_read 0

            """
        #expect(verifierReason(in: log) == "infinite loop detected at insn 4")
        #expect(instructionNamed(in: "infinite loop detected at insn 4") == 4)
        #expect(instructionNamed(in: "BPF program is too large. Processed 1000001 insn") == nil)
    }
}

/// The same, on programs the running kernel rejects, through `swiftbpf run` as a user sees it.
@Suite(.needs(.bpf), .serialized)
struct VerifierDiagnosisKernelTests {
    static let infiniteLoop = Programs.prelude + """
        int limit = 10;
        SEC("syscall") int spin(void *ctx) {
            int i = 0, s = 0;
            while (i < limit) {
                s += i;
            }
            return s;
        }
        """

    /// Three functions of 200 bytes of stack each under an entry with none: 600 bytes in one chain.
    static let deepStack = Programs.prelude + """
        int seed = 3;
        static __attribute__((noinline)) int leaf(int x) {
            volatile char buf[200];
            for (int i = 0; i < 200; i++) buf[i] = x + i;
            return buf[x & 127];
        }
        static __attribute__((noinline)) int middle(int x) {
            volatile char buf[200];
            for (int i = 0; i < 200; i++) buf[i] = x * i;
            return buf[x & 127] + leaf(x + 1);
        }
        static __attribute__((noinline)) int top(int x) {
            volatile char buf[200];
            for (int i = 0; i < 200; i++) buf[i] = x - i;
            return buf[x & 127] + middle(x + 2);
        }
        SEC("syscall") int deep(void *ctx) {
            return top(seed);
        }
        """

    func rejection(_ source: String, name: String) throws -> ToolOutput {
        let object = try Toolchain.compileClang(source, name: name)
        let result = try runTool([try Toolchain.ours("swiftbpf"), "run", object.path])
        #expect(result.status == 1)
        return result
    }

    /// The log ends in `cur state:`/`old state:` lines and statistics; the summary quotes the line
    /// before them, at the loop's line (line 6: the prelude takes 2).
    @Test func infiniteLoopIsNamedAtItsLine() throws {
        let result = try rejection(Self.infiniteLoop, name: "infinite_loop")
        #expect(result.stderr.contains("infinite_loop.c:6:"), "\(result.stderr)")
        #expect(result.stderr.contains("error: verifier rejected program 'spin': infinite loop detected at insn "),
                "\(result.stderr)")
    }

    /// "combined stack size of 4 calls is N. Too large" gets the call that enters the last frame
    /// (`leaf(x + 1)` in `middle`, line 12) and the chain with each function's stack.
    @Test func combinedStackSizeNamesTheCallChain() throws {
        let result = try rejection(Self.deepStack, name: "deep_stack")
        #expect(result.stderr.contains("deep_stack.c:12:"), "\(result.stderr)")
        #expect(result.stderr.contains("error: verifier rejected program 'deep': combined stack size of 4 calls is "),
                "\(result.stderr)")
        #expect(result.stderr.contains("note: call chain: deep (0 bytes) -> top (200 bytes) -> middle (200 bytes) -> leaf (200 bytes)"),
                "\(result.stderr)")
    }
}
