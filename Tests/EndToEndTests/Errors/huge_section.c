// huge_section.c: each global fits an array map, but a data section is one map value, and
// together they pass its INT_MAX-byte limit.
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

char first[1L << 30];
char second[1L << 30]; // ERROR: section '.bss'.*at most 2147483647 bytes

SEC("syscall") int prog(void *ctx)
{
	return first[1] + second[2];
}
