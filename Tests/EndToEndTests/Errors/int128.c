// int128.c: multiplying 128-bit integers, for which clang-19 calls compiler-rt's __multi3 on BPF
// ("A call to built-in function '__multi3' is not supported"), is an error naming the operator.
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

volatile unsigned long low = 5;

SEC("syscall") int prog(void *ctx)
{
	unsigned __int128 wide = low;
	wide = wide * low; // ERROR: multiplication of 128-bit integers: clang-19 calls __multi3
	return (int)(wide >> 64);
}
