// asm_operand_number.c: the template refers to an operand the statement does not have.
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

SEC("syscall") int prog(void *ctx)
{
	long x = 1;
	asm volatile("%0 += %2" : "+r"(x) : "r"(5L)); // ERROR: inline assembly: '%2' is no operand: there are 2
	return x;
}
