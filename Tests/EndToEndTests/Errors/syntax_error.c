// syntax_error.c: a plain C syntax error (a missing semicolon) must be reported; clang
// reports it at the end of the declaration, on the line of the missing ';'.
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

SEC("syscall") int prog(void *ctx)
{
	int x = 1 // ERROR: expected ';'
	return x;
}
