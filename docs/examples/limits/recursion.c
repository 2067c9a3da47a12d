// recursion.c: factorial, the way a textbook writes it.
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

int n = 5;
long result;

static long factorial(int k)
{
	return k <= 1 ? 1 : k * factorial(k - 1);
}

SEC("syscall") int fact(void *ctx)
{
	result = factorial(n);
	return 0;
}
