// struct_passing.c: static functions taking and returning structs by value, and taking more than
// five arguments. A struct of up to 16 bytes travels in one or two registers, as clang-19 passes
// it, also in a call that stays a BPF call (-O0); what no BPF call can carry (a struct return, a
// larger struct, a sixth argument register) is inlined at every call, even at -O0, as clang
// inlines it. The callee's copy is its own: changing it leaves the caller's struct alone.
// RUN: --prog arguments --prog returns --get total --get made
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

struct small {
	int a;
	char b;
};

struct pair {
	long x, y;
};

struct big {
	long v[4];
};

struct bytes {
	char c[3];
};

union word {
	int whole;
	short halves[2];
};

long total;
long made;
volatile long seed = 7;

static long six(long a, long b, long c, long d, long e, long f)
{
	return a + b * 2 + c * 3 + d * 4 + e * 5 + f * 6;
}

static long registers(struct pair p, struct small s, char last)
{
	p.x += 1;
	return p.x * 10 + p.y + s.a * 100 + s.b * 1000 + last * 10000;
}

static long unaligned(struct bytes t, union word w)
{
	return t.c[0] + t.c[2] * 10 + w.halves[1] * 100;
}

static long large(struct big b)
{
	b.v[0] += 5;
	return b.v[0] + b.v[3];
}

static long seven(struct pair p, long a, long b, long c, long d)
{
	return p.x + p.y + a + b + c + d;
}

SEC("syscall") int arguments(void *ctx)
{
	struct pair p = { seed, 2 };
	struct small s = { 3, 4 };
	struct bytes t = { { 1, 2, 3 } };
	union word w = { .halves = { 5, 6 } };
	struct big b = { { 1, 2, 3, 4 } };

	total = six(seed, 2, 3, 4, 5, 6) + registers(p, s, 5) + unaligned(t, w) * 100000 + large(b) * 10000000
		+ seven(p, 1, 2, 3, 4) * 1000000000;
	/* The callees changed their own copies only. */
	return p.x + b.v[0] * 100;
}

static struct pair make(long x)
{
	struct pair p = { x, x * 2 };

	return p;
}

static struct big grow(struct big b)
{
	b.v[1] *= 3;
	return b;
}

static struct small pick(int first, struct small a, struct small b)
{
	return first ? a : b;
}

struct pair saved;

SEC("syscall") int returns(void *ctx)
{
	struct big b = { { 1, 2, 3, 4 } };
	struct big g = grow(b);
	struct small a = { 1, 2 }, c = { 3, 4 };

	saved = make(seed);
	make(1); /* a result nobody reads */
	made = make(seed).y + g.v[1] * 100 + grow(grow(b)).v[1] * 1000 + saved.x * 10000
	       + pick(seed > 5, a, c).b * 100000 + pick(0, a, c).a * 1000000;
	return b.v[1];
}
