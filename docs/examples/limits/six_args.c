// six_args.c: a global function with six parameters.
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

long result;

long weigh(long a, long b, long c, long d, long e, long f)
{
	return a + 2 * b + 3 * c + 4 * d + 5 * e + 6 * f;
}

SEC("syscall") int six(void *ctx)
{
	result = weigh(1, 2, 3, 4, 5, 6);
	return 0;
}
