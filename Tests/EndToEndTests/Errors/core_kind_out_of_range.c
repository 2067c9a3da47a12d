// core_kind_out_of_range.c: __builtin_preserve_type_info knows three kinds (exists, size,
// matches); any other number is no CO-RE relocation.
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

struct task { int pid; };

SEC("syscall") int prog(void *ctx)
{
	return __builtin_preserve_type_info(*(struct task *)0, 7); // ERROR: second argument of __builtin_preserve_type_info must be a constant from 0 to 2
}
