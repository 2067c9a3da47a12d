// huge_memmove.c: a memmove is expanded into loads and stores in both directions (BPF has no
// memmove); one that needs more instructions than a program may have must be an error, not an
// exhausted compiler.
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

char buffer[64];

SEC("syscall") int prog(void *ctx)
{
	__builtin_memmove(buffer + 1, buffer, 4 << 20); // ERROR: moving 4194304 bytes 1 at a time.*1000000
	return 0;
}
