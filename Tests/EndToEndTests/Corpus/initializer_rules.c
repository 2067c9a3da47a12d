// initializer_rules.c: C's rules for initializer lists (C11 6.7.9), globals and locals alike:
// a later designator overrides an earlier one and a braced list replaces the whole subobject
// (`{ .in.b = 5, .in = { .c = 7 } }` leaves in.b zero); positional elements after a designator
// continue from the next subobject; anonymous struct and union members take positional
// elements like any member; braces may be left out (`int m[2][3] = {1, 2, 3, 4, 5}`); a union
// keeps the member initialized last; a flexible array member of a global is initialized;
// parenthesized elements keep their conversion to the element type; a string literal is the
// bytes of a char array but the address of its first byte for a pointer member; unnamed
// bit-fields (`unsigned : 0`) are padding that positional elements skip.
// RUN: --prog override_global --prog override_local --prog anonymous_global --prog anonymous_local --prog elided_global --prog elided_local --prog continue_after_designator --prog unions --prog flexible --prog converted_elements --prog string_elements --prog unnamed_bitfields --get checks
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

struct in {
	int b, c, d;
};
struct out {
	int a;
	struct in in;
	int z;
};
struct anon {
	int a;
	union {
		int c;
		char c8;
	};
	int b;
	struct {
		short p, q;
	};
	int r;
};
struct mixed {
	int k;
	char s[4];
	struct {
		char c;
		short d;
	} pair;
	unsigned flag : 3, level : 5;
};
union number {
	int i;
	char bytes[4];
	long l;
};
struct flexible {
	int n;
	int items[];
};

int checks;

#pragma clang diagnostic ignored "-Winitializer-overrides"
struct out overridden = { .in.b = 5, .in = { .c = 7 }, .z = 1, .a = 2, .z = 3 };
int grid[4][2] = { [1][0] = 4, [1] = { 8 }, [3][1] = 9, [2] = { 1, 2 } };
struct anon anonymous = { 1, 3, 4, 5, 6, 7 };
struct anon anonymous_designated = { .q = 5, 6, .c8 = 2 };
int elided[2][3] = { 1, 2, 3, 4, 5 };
struct mixed mixes[2] = { 1, "ab", 3, 4, 5, 6, 2, "cd", { 7 }, 8 };
union number numbers[3] = { { .bytes = { 1, 2 } }, { .l = 1, .i = 7 }, { 3 } };
struct flexible flex = { 3, { 10, 20, 30 } };

static int weigh(const int *p, int n)
{
	int s = 0;
	for (int i = 0; i < n; i++)
		s = s * 7 + p[i];
	return s;
}

SEC("syscall") int override_global(void *ctx)
{
	return overridden.a * 100000 + overridden.in.b * 10000 + overridden.in.c * 1000 + overridden.z * 10
	       + weigh(&grid[0][0], 8) % 1000 * 0 + grid[1][1] + (grid[3][1] == 9) * 1000000 + grid[2][1] * 20000000;
}

SEC("syscall") int override_local(void *ctx)
{
	volatile int five = 5, seven = 7;
	struct out o = { .in.b = five, .in = { .c = seven }, .z = 1, .a = 2, .z = 3 };
	int g[4][2] = { [1][1] = five, [1] = { 8 }, [3][1] = 9, [2] = { 1, seven } };
	return o.a * 100000 + o.in.b * 10000 + o.in.c * 1000 + o.z * 10 + g[1][1] + g[1][0] * 100 + g[2][1] * 1000000;
}

SEC("syscall") int anonymous_global(void *ctx)
{
	checks += anonymous_designated.q * 10 + anonymous_designated.r + anonymous_designated.c8 * 1000;
	return anonymous.a * 100000 + anonymous.c * 10000 + anonymous.b * 1000 + anonymous.p * 100 + anonymous.q * 10
	       + anonymous.r;
}

SEC("syscall") int anonymous_local(void *ctx)
{
	volatile int three = 3;
	struct anon v = { 1, three, 4, 5, 6, 7 };
	struct anon w = { .q = 5, 6, .c8 = 2 };
	checks += w.q * 10 + w.r + w.c8 * 1000 + w.a;
	return v.a * 100000 + v.c * 10000 + v.b * 1000 + v.p * 100 + v.q * 10 + v.r;
}

SEC("syscall") int elided_global(void *ctx)
{
	return elided[1][0] * 100 + elided[1][1] * 10 + elided[1][2] + mixes[0].pair.d * 1000 + mixes[1].k * 10000
	       + mixes[1].s[1] * 100000 + mixes[0].flag * 10000000 + mixes[0].level * 100000000 + mixes[1].pair.c;
}

SEC("syscall") int elided_local(void *ctx)
{
	volatile int five = 5, two = 2;
	int l[2][3] = { 1, 2, 3, 4, five };
	struct mixed m[2] = { 1, "ab", 3, 4, 5, 6, two, "cd", { 7 }, 8 };
	return l[1][0] * 100 + l[1][1] * 10 + l[1][2] + m[0].pair.d * 1000 + m[1].k * 10000 + m[1].s[1] * 100000
	       + m[0].flag * 10000000 + m[0].level * 100000000 + m[1].pair.c;
}

SEC("syscall") int continue_after_designator(void *ctx)
{
	volatile int nine = 9;
	struct out o = { .in.c = nine, 8, 7 };
	int a[6] = { [2] = 1, 2, 3, [0] = 4 };
	return o.in.c * 1000 + o.in.d * 100 + o.z * 10 + o.in.b + a[0] * 100000 + a[3] * 10000 + a[4] * 1000000;
}

SEC("syscall") int unions(void *ctx)
{
	volatile int seven = 7;
	union number n = { .l = 1, .i = seven };
	union number m = { .bytes = { 1, 2 } };
	return numbers[0].i + numbers[1].i * 1000 + (numbers[1].l == 7) * 10000 + numbers[2].i * 100000
	       + n.i * 1000000 + (n.l == 7) * 10000000 + m.i * 0 + m.bytes[1] * 100000000;
}

SEC("syscall") int flexible(void *ctx)
{
	return flex.n * 1000 + flex.items[0] + flex.items[1] * 3 + flex.items[2] * 5;
}

SEC("syscall") int converted_elements(void *ctx)
{
	volatile int zero = 0;
	_Bool b[4] = { (-0x2cU), 2, (zero), ((char)0x80ull) };
	signed char c[2] = { (300), (-1) };
	return b[0] + b[1] * 10 + b[2] * 100 + b[3] * 1000 + c[0] * 10000 + c[1];
}

struct labelled {
	const char *label;
	int n;
};

SEC("syscall") int string_elements(void *ctx)
{
	struct labelled l = { "abc", 2 };
	const char *names[2] = { "xy", "z" };
	char s[] = ("abc");
	char t[2][3] = { ("ab"), "c" };
	return l.label[1] + l.n * 1000 + names[1][0] * 10000 + s[2] + t[0][1] * 100 + t[1][0] * 1000000;
}

struct padded_bits {
	int a : 3;
	unsigned : 0;
	int b : 4;
	unsigned : 5;
	int c;
	long d : 40;
};

struct padded_bits padded = { 1, 2, 3, -5 };

SEC("syscall") int unnamed_bitfields(void *ctx)
{
	volatile int three = 3;
	struct padded_bits l = { 1, 2, three, -5 };
	return padded.a * 1000 + padded.b * 100 + padded.c * 10 + (int)padded.d
	       + (l.a * 1000 + l.b * 100 + l.c * 10 + (int)l.d) * 10000;
}
