// functions.c: static functions with 0, 1, 2, 3, 4 and 5 arguments of mixed widths
// (char, short, int, long, unsigned), nested calls (a call as an argument of a call),
// values live across calls (locals used after several calls), a call chain several
// deep, void functions with side effects, and a non-static (global) function taking and
// returning scalars and one taking a pointer (NULL-checked), which the kernel verifies on
// their own.
// RUN: --prog arities --prog nesting --prog global_call --prog global_call --get acc --get chain --get gsum
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

long acc;
long chain;
int gsum;
int base = 17;

static int zero_args(void)
{
	return base * 2;
}

static long one_arg(long x)
{
	return x * 3 - 1;
}

static int two_args(int a, unsigned char b)
{
	return a * 256 + b;
}

static long three_args(short a, int b, long c)
{
	return a + b * 10L + c * 100;
}

static unsigned four_args(unsigned a, unsigned b, unsigned c, unsigned d)
{
	return (a << 24) | (b << 16) | (c << 8) | d;
}

static long five_args(char a, short b, int c, long d, unsigned long e)
{
	return a - b + c - d + (long)e;
}

static void add_to_acc(long v)
{
	acc += v;
}

static int depth3(int x) { return x + 1; }
static int depth2(int x) { return depth3(x * 2) + depth3(x); }
static int depth1(int x) { return depth2(x + 1) * depth2(x - 1); }

/* A global function: the verifier checks it once, separately, for any argument values. */
__attribute__((noinline)) int mix(int a, unsigned int b, long c)
{
	return (int)((a ^ b) + (c >> 4));
}

/* A global function with a pointer argument: verified for any pointer, so it must check for NULL. */
__attribute__((noinline)) int store_clamped(long *slot, long v)
{
	if (!slot)
		return -1;
	*slot = v < 0 ? 0 : v > 1000 ? 1000 : v;
	return 0;
}

SEC("syscall") int arities(void *ctx)
{
	int a = zero_args();
	long b = one_arg(a);
	int c = two_args(-2, 300);             /* 300 converts to 44 */
	long d = three_args(-5, 6, -7);
	unsigned e = four_args(1, 2, 3, 4);
	long f = five_args(-1, -2, 3, -4, 5);
	add_to_acc(a);
	add_to_acc(b + c + d + e + f);
	/* a, b, c, d, e, f are all still live here */
	return (int)(a + b + c + d + f) + (int)(e >> 24);
}

SEC("syscall") int nesting(void *ctx)
{
	long x = one_arg(one_arg(one_arg(2)));
	int y = two_args(two_args(1, 2) & 0xff, (unsigned char)four_args(9, 8, 7, 6));
	int z = depth1(base);
	chain = x * 1000000 + y * 1000 + z;
	return (int)(five_args((char)x, (short)y, z, one_arg(z), four_args(0, 0, 1, 0)) & 0xffff);
}

SEC("syscall") int global_call(void *ctx)
{
	int r = mix(base, 0xf0u, -123456789L);
	gsum += r;
	long clamped = 5;
	int failed = store_clamped(0, 7);
	failed += store_clamped(&clamped, gsum);
	gsum += failed * 10000 + (int)clamped;
	return mix(r + 1, (unsigned)gsum, 5);
}
