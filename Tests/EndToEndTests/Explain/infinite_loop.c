// infinite_loop.c: the loop's condition never changes inside it, so the verifier meets the loop's
// head again in the same state.
// PROG: spin
// WHY: loop without visible progress
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

int limit = 10;

SEC("syscall") int spin(void *ctx)
{
	int i = 0, sum = 0;
	while (i < limit) { // REJECTED: infinite loop detected at insn
		sum += i;
	}
	return sum;
}
