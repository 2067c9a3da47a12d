// varargs.c: a variadic function definition must be rejected.
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

static int sum(int count, ...) // ERROR: (variadic|varargs|\.\.\.)
{
	return count;
}

SEC("syscall") int prog(void *ctx)
{
	return sum(0);
}
