// asm_clobber.c: r10 is the read-only frame pointer; asm cannot clobber it.
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

SEC("syscall") int prog(void *ctx)
{
	asm volatile("r0 = 0" ::: "r0", "r10"); // ERROR: inline assembly clobbers 'r10'
	return 0;
}
