// atomic_byte.c: BPF's atomic instructions work on 4- and 8-byte objects only; an atomic add to
// a char is an error at its line, naming the size.
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

char byte;

SEC("syscall") int prog(void *ctx)
{
	return __sync_fetch_and_add(&byte, 1); // ERROR: on a 1-byte object: BPF's atomic instructions work on 4 and 8 bytes
}
