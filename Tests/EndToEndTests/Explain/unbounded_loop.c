// unbounded_loop.c: the loop's bound is a global, which the verifier cannot see, so it walks one
// iteration after another until it has processed a million instructions.
// PROG: sum_up_to
// WHY: complexity limit
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

unsigned int limit = 10;
unsigned long total;

SEC("syscall") int sum_up_to(void *ctx)
{
	for (unsigned int i = 0; i < limit; i++) total = (total << 1) ^ i; // REJECTED: (BPF program is too large. Processed 1000001 insn|The sequence of 8193 jumps is too complex)
	return 0;
}
