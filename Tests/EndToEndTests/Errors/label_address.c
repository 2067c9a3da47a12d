// label_address.c: GNU's address of a label needs an indirect jump BPF does not have; the message
// names the expression as written, not libclang's name for it.
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

SEC("syscall") int prog(void *ctx)
{
	void *target = &&out; // ERROR: unsupported expression '&& out'
	goto *target;
out:
	return 1;
}
