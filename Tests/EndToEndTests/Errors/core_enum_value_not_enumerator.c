// core_enum_value_not_enumerator.c: __builtin_preserve_enum_value names an enumerator of the
// enum it casts to, as bpf_core_enum_value() writes it; a number names none.
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

enum state { RUNNING, SLEEPING };

SEC("syscall") int prog(void *ctx)
{
	return __builtin_preserve_enum_value(*(enum state *)1, 1); // ERROR: __builtin_preserve_enum_value argument 1 invalid
}
