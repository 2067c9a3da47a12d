// hello.c: chapter 1. Sums the squares 1*1 + 2*2 + ... + n*n, in the kernel or natively.
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

int n = 10;		/* input: set before the run */
long sum;		/* output: read after the run */

SEC("syscall") int hello(void *ctx)
{
	long s = 0;

	for (int i = 1; i <= n && i <= 1000; i++)
		s += (long)i * i;
	sum = s;
	return n;
}
