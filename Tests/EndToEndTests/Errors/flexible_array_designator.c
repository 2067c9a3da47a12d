// flexible_array_designator.c: a designator far into a global's flexible array member would make
// the global larger than any BPF map value (and its byte offset overflows 64 bits): an error at
// the designator, not a crash.
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

struct items {
	int n;
	int d[];
};

struct items far = { 2, { [1ll << 61] = 1 } }; // ERROR: array designator is not a constant index inside the array

SEC("syscall") int prog(void *ctx)
{
	return far.n;
}
