// core_field_info_not_a_field.c: __builtin_preserve_field_info relocates a member access; a
// plain variable has no field for the loader to find.
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

int counter;

SEC("syscall") int prog(void *ctx)
{
	return __builtin_preserve_field_info(counter, 0); // ERROR: __builtin_preserve_field_info argument 1 not a field access
}
