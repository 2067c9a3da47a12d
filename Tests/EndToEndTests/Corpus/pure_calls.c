// pure_calls.c: functions that stay BPF calls, called again with the same arguments. Those whose
// result depends on their arguments alone (arithmetic, their own stack, a const table) may be
// computed once, as clang computes them, and one whose result is unread may be left out; one that
// reads a global the caller changes between its calls, writes memory through its argument or
// counts its calls must run at each call, its result unread or not, and a global function may
// be replaced at load time (freplace), so each of its calls runs.
// RUN: --prog pure --prog impure --prog pure --prog impure --get total --get counter --get later --get through --get gsum
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

volatile int seed = 11;
long total;
long counter;
long later;
long through;
long gsum;
long scale = 3;

static const unsigned char table[8] = { 3, 1, 4, 1, 5, 9, 2, 6 };

static __attribute__((noinline)) unsigned long mix(unsigned long x)
{
	return x * 2654435761UL ^ (x >> 7);
}

/* A local array, indexed by the argument: its own stack. */
static __attribute__((noinline)) long spread(long x)
{
	long d[4] = { x, x * 2, x * 3, x * 4 };

	return d[x & 3] + d[(x >> 2) & 3];
}

static __attribute__((noinline)) int lookup(unsigned int i)
{
	return table[i & 7] * 10;
}

/* Reads a global that the caller changes between two calls. */
static __attribute__((noinline)) long scaled(long x)
{
	return x * scale;
}

/* Writes through its argument. */
static __attribute__((noinline)) long bump(long *p)
{
	return ++*p;
}

/* Called for its effect only. */
static __attribute__((noinline)) long count(long x)
{
	counter += x;
	return counter;
}

__attribute__((noinline)) long global_mix(long x)
{
	return x * 7 + 1;
}

SEC("syscall") int pure(void *ctx)
{
	long s = seed;
	long a = mix(s) + spread(s) + lookup(s);

	if (s > 5)
		a += mix(s) * 3 + lookup(s);
	total = a + spread(s) + (long)mix(s);
	mix(s + 1);
	gsum += global_mix(s) + global_mix(s);
	return lookup(s + 1) + lookup(s + 1);
}

SEC("syscall") int impure(void *ctx)
{
	long s = seed;
	long first = scaled(s);
	long cell = s;
	long b1, b2;

	scale = scale + 2;
	b1 = bump(&cell);
	b2 = bump(&cell);
	through = b1 * 100 + b2 * 10 + cell;
	count(s);
	count(s);
	later = first * 1000 + scaled(s);
	return 0;
}
