// large_stack.c: the BPF stack is 512 bytes; a 600-byte local array must be rejected.
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

SEC("syscall") int prog(void *ctx) // ERROR: stack frame .* 600 bytes, over .*512
{
	volatile char buffer[600]; // NOTE: 'buffer' takes 600 bytes
	buffer[0] = 1;
	buffer[599] = 2;
	return buffer[0] + buffer[599];
}
