// recursion.c: a directly recursive function must be rejected (BPF has no unbounded call stack).
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

static int factorial(int n)
{
	return n <= 1 ? 1 : n * factorial(n - 1); // ERROR: recurs
}

SEC("syscall") int prog(void *ctx)
{
	return factorial(5);
}
