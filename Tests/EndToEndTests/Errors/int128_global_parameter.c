// int128_global_parameter.c: a global function taking a 128-bit integer. clang-19 passes it in
// two registers, but the kernel verifies a global function on its own from its BTF, one register
// per argument, so the high half is unreadable there ("R2 !read_ok"). A static function may take one.
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

volatile unsigned long low = 5;

__attribute__((noinline)) int high_half(unsigned __int128 value) // ERROR: parameter 'value' of 'high_half' is a 128-bit integer: the kernel verifies a global function from its BTF
{
	return (int)(value >> 64);
}

SEC("syscall") int prog(void *ctx)
{
	return high_half((unsigned __int128)low << 64);
}
