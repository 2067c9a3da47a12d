// asm_jump_outside.c: a relative jump must land inside its asm statement, or just after it.
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

SEC("syscall") int prog(void *ctx)
{
	long x = 1;
	asm volatile("if %0 > 3 goto +2\n%0 = 3" : "+r"(x)); // ERROR: the jump leaves the assembly: it lands 1 instructions past its end
	return x;
}
