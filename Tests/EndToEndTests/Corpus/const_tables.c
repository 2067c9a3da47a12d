// const_tables.c: const data lives in .rodata, which the loader freezes, so the verifier knows
// its bytes: element-const arrays, const strings read in a loop until their NUL, const structs,
// arrays of typedef'd const types, and `const volatile` tunables set before loading.
// RUN: --prog table_sum --prog string_length --prog const_structs --prog tunable
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

typedef unsigned char u8;
typedef const int cint;
typedef const struct pair cpair;
struct pair {
	int a, b;
};

static const u8 table[10] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
const char msg[] = "arena";
static const struct pair cp = { 3, 4 };
static cint ci[3] = { 5, 6, 7 };
static cpair cps[2] = { { 1, 2 }, { 3, 4 } };
const volatile int limit = 3;

SEC("syscall") int table_sum(void *ctx)
{
	int s = 0;
	for (int i = 0; i < 10; i++)
		s += table[i] * (i + 1);
	return s;
}

SEC("syscall") int string_length(void *ctx)
{
	int n = 0;
	while (msg[n])
		n++;
	return n;
}

SEC("syscall") int const_structs(void *ctx)
{
	int s = 0;
	for (int i = 0; i < 3; i++)
		s += ci[i];
	for (int i = 0; i < 2; i++)
		s += cps[i].a * cps[i].b;
	return s + cp.a * cp.b;
}

SEC("syscall") int tunable(void *ctx)
{
	int s = 0;
	for (int i = 0; i < limit && i < 100; i++)
		s += table[i & 7];
	return s;
}
