// relocated_pointer.c: a table of pointers that the code indexes must hold the addresses
// themselves, which the loader would have to relocate: BPF global data cannot.
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

static const char *names[] = { "zero", "one" }; // ERROR: global initializer takes an address
volatile int which;

SEC("syscall") int prog(void *ctx)
{
	return names[which & 1][0];
}
