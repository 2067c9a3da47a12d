// scalar_pointer.c: a pointer made from an integer is a plain number to the verifier, and a
// number cannot be dereferenced.
// PROG: peek
// WHY: dereferencing a number
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

unsigned long address = 4096;

SEC("syscall") int peek(void *ctx)
{
	long *p = (long *)address;
	return *p; // REJECTED: R[0-9] invalid mem access 'scalar'
}
