// static_locals.c: static locals that keep their value across runs of a program (a
// counter run three times), static locals with an initializer and arrays, two functions
// each with a static local of the same name, a static local in a static helper shared by
// two programs, and a .bss/.data split between zero and non-zero initial values.
// RUN: --prog tick --prog tick --prog other --prog tick --prog other --prog both --get ticks_seen
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

int ticks_seen;

static int shared_counter(void)
{
	static int calls;                    /* zero: .bss */
	return ++calls;
}

SEC("syscall") int tick(void *ctx)
{
	static int count;
	static long start = 100;            /* non-zero: .data */
	static int ring[4];
	ring[count & 3] += count;           /* the verifier bounds & but not % */
	count++;
	start += count;
	ticks_seen = count;
	return count * 1000000 + (int)start * 100 + ring[0] + ring[1] * 10 + shared_counter();
}

SEC("syscall") int other(void *ctx)
{
	static int count = 50;              /* the same name as in tick: a separate variable */
	count -= 7;
	return count * 100 + shared_counter();
}

SEC("syscall") int both(void *ctx)
{
	return shared_counter() + ticks_seen * 10;
}
