// stack_range.c: the position is masked to 0..7, but the array on the stack holds only 4 longs.
// PROG: pick
// WHY: access out of range
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

unsigned int position;

SEC("syscall") int pick(void *ctx)
{
	volatile long values[4] = { 1, 2, 3, 4 };
	return values[position & 7]; // REJECTED: stack
}
