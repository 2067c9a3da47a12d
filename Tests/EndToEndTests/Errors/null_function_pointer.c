// null_function_pointer.c: a function pointer initialized to 0 is not a BPF helper (helpers are
// numbered from 1); the call through it is what BPF cannot do.
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

int (*callback)(int) = 0;

SEC("syscall") int prog(void *ctx)
{
	if (!callback)
		return 0;
	return callback(1); // ERROR: function pointer.*no indirect calls
}
