// int128_division.c: dividing a signed 128-bit integer, for which clang-19 calls compiler-rt's
// __divti3 on BPF, is an error naming the operator and the routine.
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

volatile long value = -5;

SEC("syscall") int prog(void *ctx)
{
	__int128 wide = (__int128)value << 70;
	wide /= 3; // ERROR: division of 128-bit integers: clang-19 calls __divti3
	return (int)(wide >> 64);
}
