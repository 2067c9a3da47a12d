// asm_constraint.c: a memory operand ("m") has no meaning in BPF asm here: the constraint is named.
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";
long g;

SEC("syscall") int prog(void *ctx)
{
	asm volatile("r0 = 0" :: "m"(g) : "r0"); // ERROR: inline assembly constraint 'm' is not supported
	return 0;
}
