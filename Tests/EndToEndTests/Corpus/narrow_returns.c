// narrow_returns.c: functions that stay BPF calls and return a type narrower than a register
// (int, unsigned int, short, signed and unsigned char, an enum), whose results the caller reads
// in 64-bit arithmetic, as an index and in comparisons. A callee computes such a result in 32
// bits or fewer, as clang's do, and the caller extends it: a negative `int` must stay negative in
// a `long`, an `unsigned int` must not become negative.
// RUN: --prog widen --prog global_widen --get wide --get compared --get gwide
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

long wide;
long compared;
long gwide;
volatile int seed = -7;
volatile unsigned int useed = 0xfffffff0u;

enum level { LOW = -2, HIGH = 3 };

static __attribute__((noinline)) int negative(int x)
{
	return x * 3 - 100;
}

static __attribute__((noinline)) unsigned int large(unsigned int x)
{
	return x + 0x10;
}

static __attribute__((noinline)) unsigned int wraps(unsigned int x)
{
	return x * 0x10001u + 0x7fffffffu;
}

static __attribute__((noinline)) short halves(long x)
{
	return (short)(x * 1000);
}

static __attribute__((noinline)) signed char tiny(long x)
{
	return (signed char)(x + 120);
}

static __attribute__((noinline)) unsigned char byte(long x)
{
	return (unsigned char)(x * 37);
}

static __attribute__((noinline)) enum level pick(int x)
{
	return x < 0 ? LOW : HIGH;
}

static __attribute__((noinline)) int truncated(long x)
{
	return (int)(x * 0x100000001L);
}

SEC("syscall") int widen(void *ctx)
{
	long s = seed;
	unsigned int u = useed;
	long a = negative(s);
	long b = large(u);
	long c = wraps(u);
	long d = halves(s);
	long e = tiny(s + 20);
	long f = byte(s);
	long g = pick(s);
	long h = truncated(s * 0x10000000L);

	wide = a * 1000003 + b * 7 + c * 11 + d * 13 + e * 17 + f * 19 + g * 23 + h;
	compared = (negative(s) < 0) + (large(u) > 0x7fffffff) * 2 + (halves(s) < 0) * 4 + (tiny(s + 20) < 0) * 8 +
		   (truncated(-1) < 0) * 16 + (long)pick(s) * 32;
	return negative(s) * 2 + tiny(s) + byte(s);
}

__attribute__((noinline)) int global_negative(int x)
{
	return x - 1000;
}

SEC("syscall") int global_widen(void *ctx)
{
	long x = global_negative(seed);

	gwide = x * 3 + (global_negative(5) < 0);
	return global_negative(seed) + 1000;
}
