// logic.c: && and || short-circuit with side effects (the right operand must not run),
// ! and the 0/1 values of logical and relational operators, ?: (nested, with side
// effects only in the chosen arm, as an lvalue-free value of mixed types), the comma operator.
// RUN: --prog short_circuit --prog conditional --prog comma --prog short_circuit --get calls --get hits --get picked --get last
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

int calls;
int hits;
long picked;
int last;
int zero = 0, seven = 7;

static int touch(int value)
{
	calls++;
	return value;
}

SEC("syscall") int short_circuit(void *ctx)
{
	int r = 0;
	if (zero && touch(1))          /* touch not called */
		r += 1;
	if (seven || touch(1))         /* touch not called */
		r += 2;
	if (seven && touch(0))         /* called once, false */
		r += 4;
	if (zero || touch(3))          /* called once, true */
		r += 8;
	int x = zero && (hits = 100);  /* hits untouched */
	int y = seven || (hits = 200); /* hits untouched */
	int z = (seven > 3) && (hits += 1, seven < 10) && !zero;
	r += x * 16 + y * 32 + z * 64;
	r += (!seven) * 128 + (!!seven) * 256 + (!zero) * 512;
	/* a chain: evaluation stops at the first false operand */
	int chain = touch(1) && touch(2) && touch(0) && touch(4);
	return r + chain * 1024 + (seven == 7) + (seven != 7) + (zero <= 0) + (seven >= 8);
}

SEC("syscall") int conditional(void *ctx)
{
	int a = seven > 5 ? touch(10) : touch(20);      /* one call */
	int b = zero ? 1 : seven ? 2 : 3;                /* nested, right-associative */
	/* Mixed arms: int and unsigned long give unsigned long, so -1 becomes huge. */
	picked = seven ? -1 : 0ul;
	unsigned char uc = 200;
	int promoted = (zero ? uc : uc) + 100;           /* arms are promoted ints */
	return a + b * 100 + (picked > 0) * 1000 + promoted * 10000;
}

SEC("syscall") int comma(void *ctx)
{
	int i, j;
	int v = (i = 3, j = i * 2, i + j);               /* 9 */
	for (i = 0, j = 10; i < j; i++, j--)
		last = i * 100 + j;
	int w = (touch(0), touch(0), 42);
	return v + w;
}
