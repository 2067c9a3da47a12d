// huge_copy.c: a struct copy is expanded into loads and stores (BPF has no memcpy); one that
// needs more instructions than a program may have (1,000,000) must be an error, not minutes of
// compiling and gigabytes of memory.
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

struct blob {
	char bytes[1 << 20];
};

struct blob from, to;

SEC("syscall") int prog(void *ctx)
{
	to = from; // ERROR: copying 1048576 bytes 1 at a time.*1000000
	return 0;
}
