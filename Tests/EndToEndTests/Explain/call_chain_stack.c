// call_chain_stack.c: each function's frame fits, but the chain of calls needs more than the 512
// bytes the kernel gives a whole chain. swiftbpfcc inlines static functions to fit, or reports the
// chain when it cannot; clang leaves it to the verifier.
// PROG: deep
// WHY: stack limit
// OURS: refuses call chain .* needs [0-9]+ bytes of stack
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

int seed = 3;

__attribute__((noinline)) int leaf(int x)
{
	volatile char buf[200];
	for (int i = 0; i < 200; i++)
		buf[i] = x + i;
	return buf[x & 127];
}

__attribute__((noinline)) int middle(int x)
{
	volatile char buf[200];
	for (int i = 0; i < 200; i++)
		buf[i] = x * i;
	return buf[x & 127] + leaf(x + 1); // REJECTED: combined stack size of 3 calls is
}

SEC("syscall") int deep(void *ctx)
{
	volatile char buf[200];
	for (int i = 0; i < 200; i++)
		buf[i] = seed - i;
	return buf[seed & 127] + middle(seed + 2);
}
