// const_volatile.c: const globals in .rodata (scalars, arrays, a struct, a string) read
// with variable indices, const locals and const parameters, pointers to const and const
// pointers, volatile globals and locals (every access happens: a volatile counter
// read and written in a loop), a const volatile global (.rodata, read at run time).
// RUN: --prog read_only --prog volatiles --prog volatiles --get ro_sum --get vcount --get vlast --get slot
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

const int squares[8] = { 0, 1, 4, 9, 16, 25, 36, 49 };
const long big_constant = -8000000000L;
const struct { short a; unsigned char b; } config = { -300, 200 };
const char banner[] = "CONST";
const volatile int tuning = 11;          /* a knob a loader could patch before load */

int slot = 5;
long ro_sum;
volatile int vcount;
volatile long vlast;

static int pick(const int *table, const int n, const int i)
{
	return i < n ? table[i] : -1;
}

SEC("syscall") int read_only(void *ctx)
{
	const int k = slot & 7;
	const int *p = &squares[k];
	int *const q = &slot;                 /* the pointer is const, not what it points to */
	*q += 1;
	long s = big_constant / 1000000 + pick(squares, 8, k) + p[0] * 10;
	s += config.a + config.b * 2;
	for (int i = 0; i < 5; i++)
		s += banner[i];
	ro_sum = s + tuning;
	return squares[(slot + 1) & 7] + tuning;
}

SEC("syscall") int volatiles(void *ctx)
{
	volatile int local = 0;
	for (int i = 0; i < 10; i++) {
		local += i;
		vcount++;
	}
	vlast = vcount * 1000L + local;
	return local + vcount;
}
