// huge_global.c: a global no BPF array map can hold (its value is at most INT_MAX bytes) must be
// rejected before the compiler allocates it (an 8 GiB .bss once took 24 GB of memory).
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

char table[8L << 30]; // ERROR: 8589934592 bytes.*at most 2147483647 bytes

SEC("syscall") int prog(void *ctx)
{
	return table[5];
}
