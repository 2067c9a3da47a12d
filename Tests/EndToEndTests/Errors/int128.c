// int128.c: 128-bit integers, which clang-19 splits into register pairs on BPF (but for
// multiplication and division, which call a library), are not supported: a clear error.
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

volatile unsigned long low = 5;

SEC("syscall") int prog(void *ctx)
{
	unsigned __int128 wide = low; // ERROR: 128-bit integer type 'unsigned __int128': not supported
	return (int)(wide >> 64);
}
