// call_chain_stack_static.c: the kernel allows 512 bytes of stack for a whole chain of calls.
// The chain prog -> outer -> inner adds up to more; inlining both static functions does not help,
// since every array is needed while the next one is, so the chain is an error naming each call.
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

int seed;

static int inner(int x)
{
	volatile char buffer[200];
	for (int i = 0; i < 200; i++)
		buffer[i] = x + i;
	return buffer[x & 127];
}

static int outer(int x)
{
	volatile char buffer[200];
	for (int i = 0; i < 200; i++)
		buffer[i] = x - i;
	return inner(x + 1) + buffer[x & 127]; // ERROR: call chain prog \(208 bytes\) -> outer \(208 bytes\) -> inner \(208 bytes\) needs 624 bytes
}

SEC("syscall") int prog(void *ctx) // NOTE: inlining the chain's static functions does not help: stack frame of 'prog' is [0-9]+ bytes
{
	volatile char kept[200];
	for (int i = 0; i < 200; i++)
		kept[i] = seed * i;
	return outer(seed) + kept[seed & 127]; // NOTE: 'prog' calls 'outer' here
}
