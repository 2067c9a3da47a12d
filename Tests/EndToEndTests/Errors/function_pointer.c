// function_pointer.c: a call through a function pointer (an indirect call) must be rejected.
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

static int twice(int x)
{
	return 2 * x;
}

SEC("syscall") int prog(void *ctx)
{
	int (*op)(int) = twice;
	return op(21); // ERROR: (function pointer|indirect call)
}
