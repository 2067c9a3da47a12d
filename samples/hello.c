// hello.c: the first program. The same C runs natively and, compiled by swiftbpfcc, in the
// kernel as a BPF_PROG_TYPE_SYSCALL program.
//
//     swiftbpfcc -O2 -g samples/hello.c -o hello.o
//     swiftbpf run hello.o --set n=20 --prog hello --get sum_of_squares --get digest
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

int n = 10;                 /* input: the loader may change it before the run */
long sum_of_squares;        /* outputs, read back after the run */
unsigned int digest;

static const char greeting[] = "hello, arena";

static long square(long x)
{
	return x * x;
}

/* FNV-1a over a string: unsigned wrap-around, byte loads, a loop over a const global. */
static unsigned int fnv1a(const char *s, int len)
{
	unsigned int h = 2166136261u;
	for (int i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return h;
}

SEC("syscall") int hello(void *ctx)
{
	long s = 0;
	for (int i = 1; i <= n && i <= 100; i++)
		s += square(i);
	sum_of_squares = s;
	digest = fnv1a(greeting, sizeof(greeting) - 1);
	return (int)(s % 1000) - 500;
}
