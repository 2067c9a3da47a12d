// asm_macro_template.c: a template a macro joins from its stringified operator is checked as
// joined: the message quotes the expanded line, with the operator the macro was given.
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";
long g;

#define jump_if(x, OP, n, label) asm volatile goto("if %0 " #OP " %1 goto %l[" #label "]" :: "r"(x), "i"(n) :: label)

SEC("syscall") int prog(void *ctx)
{
	jump_if(g, >=, 3, big);
	jump_if(g, =>, 3, big); // ERROR: inline assembly, line 1 'if %0 => %1 goto %l\[big\]': unknown comparison
	return 0;
big:
	return 1;
}
