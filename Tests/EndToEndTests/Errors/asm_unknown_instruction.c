// asm_unknown_instruction.c: assembly the BPF assembler does not know is reported at the asm
// statement, naming the line of the template and the mnemonic.
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

SEC("syscall") int prog(void *ctx)
{
	long x = 1;
	asm volatile("%0 += 1\n" // ERROR: inline assembly, line 2 'frobnicate %0': unknown instruction 'frobnicate'
		     "frobnicate %0" : "+r"(x));
	return x;
}
