// loop_pragmas_and_redeclarations.c: idioms of real BPF code that need no special lowering but
// must be accepted: loop pragmas (`#pragma unroll`, `#pragma clang loop unroll(full)`, GCC's),
// a variable declared `extern` and then defined in the same file (with and without an
// initializer), local arrays of structs initialized with `{0}` and with braces left out, and
// struct values chosen by `?:`, produced by a statement expression or by a comma expression.
// RUN: --prog pragmas --prog redeclared --prog arrays_of_structs --prog struct_values --get counted --get defined
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

extern int counted;
int counted;
extern int defined;
int defined = 3;

struct pair {
	int key;
	long value;
};

SEC("syscall") int pragmas(void *ctx)
{
	int sum = 0;

#pragma unroll
	for (int i = 0; i < 4; i++)
		sum += i;
#pragma clang loop unroll(full)
	for (int i = 0; i < 3; i++)
		sum += i * 10;
#pragma GCC unroll 2
	for (int i = 0; i < 2; i++)
		sum += i * 100;
#pragma clang loop unroll_count(2)
	for (int i = 0; i < 5; i++)
		counted++;
	return sum;
}

SEC("syscall") int redeclared(void *ctx)
{
	defined += counted;
	return defined;
}

SEC("syscall") int arrays_of_structs(void *ctx)
{
	struct pair zeroed[3] = { 0 };
	struct pair elided[3] = { 1, 2, 3, 4, 5 };
	struct pair mixed[3] = { { 6, 7 }, 8, 9, [2].value = 10 };
	long sum = 0;

	for (int i = 0; i < 3; i++)
		sum += zeroed[i].key + zeroed[i].value + elided[i].key * 10 + elided[i].value * 100
		       + mixed[i].key * 1000 + mixed[i].value * 10000;
	return (int)sum;
}

SEC("syscall") int struct_values(void *ctx)
{
	volatile int pick = 1;
	struct pair a = { 1, 2 }, b = { 3, 4 };
	struct pair chosen = pick ? a : b;
	struct pair made = ({
		struct pair t = { 5, 6 };
		t.value += chosen.value;
		t;
	});
	struct pair last = (pick++, b);
	struct pair nested = pick > 1 ? ({ struct pair u = { 7, 8 }; u; }) : a;

	return chosen.key + made.value * 10 + last.key * 100 + nested.value * 1000 + pick * 10000;
}
