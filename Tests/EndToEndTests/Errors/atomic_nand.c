// atomic_nand.c: BPF has no atomic nand; __sync_fetch_and_nand is an error at its line.
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

long word;

SEC("syscall") int prog(void *ctx)
{
	return __sync_fetch_and_nand(&word, 1); // ERROR: atomic nand is not supported on BPF
}
