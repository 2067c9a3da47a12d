// int128_variable_shift.c: shifting a 128-bit integer by an amount known only at run time, for
// which clang-19 calls compiler-rt's __lshrti3 on BPF, is an error; shifts by constants compile.
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

volatile unsigned long low = 5;
volatile int amount = 65;

SEC("syscall") int prog(void *ctx)
{
	unsigned __int128 wide = (unsigned __int128)low << 100;
	return (int)(wide >> amount); // ERROR: shift of a 128-bit integer by a variable amount: clang-19 calls __lshrti3
}
