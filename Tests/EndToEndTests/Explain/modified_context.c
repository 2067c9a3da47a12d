// modified_context.c: on one path the context pointer is moved forward before the load; the kernel
// only allows context accesses at constant offsets from the pointer it passed in.
// PROG: second_argument
// WHY: modified context pointer
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

int skip;

SEC("raw_tp/sys_enter") int second_argument(unsigned long long *ctx)
{
	unsigned long long *argument = ctx;
	if (skip)
		argument++;
	return *argument; // REJECTED: dereference of modified ctx ptr
}
