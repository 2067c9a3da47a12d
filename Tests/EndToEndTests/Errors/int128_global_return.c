// int128_global_return.c: a global function returning a 128-bit integer. A BPF function returns
// one register, r0; clang-19 crashes on it ("unable to allocate function return"). A static
// function may return one: every call of it is inlined.
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

volatile unsigned long low = 5;

__attribute__((noinline)) unsigned __int128 shifted(unsigned long value) // ERROR: function 'shifted' returns a 128-bit integer: not supported on BPF
{
	return (unsigned __int128)value << 64;
}

SEC("syscall") int prog(void *ctx)
{
	return (int)(shifted(low) >> 64);
}
