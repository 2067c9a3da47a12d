// six_arguments.c: BPF passes at most five arguments in registers (r1-r5). A static function
// with six is inlined at every call, but a global one is a BPF function of its own, which the
// kernel verifies from its signature: it must be rejected.
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

int six(int a, int b, int c, int d, int e, int f) // ERROR: (argument|parameter)
{
	return a + b + c + d + e + f;
}

SEC("syscall") int prog(void *ctx)
{
	return six(1, 2, 3, 4, 5, 6);
}
