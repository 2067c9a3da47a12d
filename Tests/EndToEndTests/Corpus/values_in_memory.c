// values_in_memory.c: loop bounds, counters and indices kept in memory (globals, stack array
// elements, struct members) must reach the verifier as the values they are, as clang keeps them in
// registers: otherwise a bounded loop looks endless and a checked index unbounded. And what the
// compiler knows of memory must be forgotten where memory may change: stores through pointers that
// may point there, calls, atomics, byte stores and union members.
// O0: fails verifier rejected program 'global_counter': .* out of bounds
// RUN: --prog global_counter --prog stack_bounds --prog struct_bound --prog counter_in_loop --prog may_alias --prog calls_forget --prog atomics_forget --prog bytes_and_unions --get i_global --get sum --get pick --get shared --get other
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

int i_global;
long sum;
int pick = 1;
int shared = 3;
int other = 4;
unsigned char table[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };

/* The counter lives in a global: each read of it in the loop is the register just stored. */
SEC("syscall") int global_counter(void *ctx)
{
	for (i_global = 0; i_global < 16; i_global++)
		sum += table[i_global];
	return (int)sum;
}

/* A bound and an index read back from a stack array. */
SEC("syscall") int stack_bounds(void *ctx)
{
	int bounds[4];
	unsigned char data[32];
	int k;

	bounds[0] = 3;
	bounds[1] = 20;
	bounds[2] = 7;
	bounds[3] = bounds[0] + bounds[2];
	for (k = 0; k < bounds[1]; k++)
		data[k] = (unsigned char)(k * 3);
	return data[bounds[3]] + data[bounds[2]];
}

struct range {
	int first;
	int last;
	long total;
};

/* A struct member as the bound, with the struct reached through a pointer. */
static __attribute__((noinline)) long walk(struct range *r)
{
	int k;

	r->first = 2;
	r->last = 12;
	r->total = 0;
	for (k = r->first; k < r->last; k++)
		r->total += table[k];
	return r->total;
}

SEC("syscall") int struct_bound(void *ctx)
{
	struct range r;

	return (int)walk(&r);
}

/* A global updated on every iteration, read at the top of the next one. */
SEC("syscall") int counter_in_loop(void *ctx)
{
	int k;

	shared = 0;
	for (k = 0; k < 10; k++) {
		if (shared > 30)
			break;
		shared += k;
	}
	return shared;
}

/* A store through a pointer that may point at the global read next. */
SEC("syscall") int may_alias(void *ctx)
{
	int local = 5, before, after;
	int *p = pick ? &shared : &local;
	int *q = pick ? &local : &other;

	shared = 10;
	before = shared;
	*p = 11;
	after = shared;
	*q = 12;
	return before * 10000 + after * 100 + local + other;
}

static __attribute__((noinline)) void bump(void)
{
	other += 100;
}

/* A call may write any global. */
SEC("syscall") int calls_forget(void *ctx)
{
	int a, b;

	other = 7;
	a = other;
	bump();
	b = other;
	return a * 1000 + b;
}

/* An atomic writes the memory it names. */
SEC("syscall") int atomics_forget(void *ctx)
{
	long a, b;

	sum = 5;
	a = sum;
	__sync_fetch_and_add(&sum, 3);
	b = sum;
	return (int)(a * 100 + b);
}

union pun {
	unsigned long whole;
	unsigned int halves[2];
};

/* A character store may change any object; union members alias each other. */
SEC("syscall") int bytes_and_unions(void *ctx)
{
	unsigned int value = 0x01020304, spare = 0;
	unsigned char *byte = pick ? (unsigned char *)&value : (unsigned char *)&spare;
	union pun u, *pu = &u;
	unsigned int *half = pick ? &pu->halves[1] : &spare;
	unsigned int first;

	first = value;
	*byte = 0x99;
	pu->whole = 0x1111111122222222UL;
	*half = 0x33333333;
	return (int)((first & 0xff) + (value & 0xff) + (pu->whole >> 32 & 0xff) + spare);
}
