// call_chain_stack_global.c: the kernel allows 512 bytes of stack for a whole chain of calls.
// Each frame here fits on its own, but the program's 300 bytes, still needed during the call, and
// the global function's 300 add up to more; a global function is verified on its own and is not
// inlined, so the chain is an error naming each call.
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

int seed;

int worker(int x)
{
	volatile char buffer[300];
	for (int i = 0; i < 300; i++)
		buffer[i] = x + i;
	return buffer[x & 255];
}

SEC("syscall") int prog(void *ctx) // NOTE: 'worker' is a global function
{
	volatile char kept[300];
	for (int i = 0; i < 300; i++)
		kept[i] = seed * i;
	return worker(seed) + kept[seed & 255]; // ERROR: call chain prog \(304 bytes\) -> worker \(304 bytes\) needs 608 bytes of stack, over the 512
}
