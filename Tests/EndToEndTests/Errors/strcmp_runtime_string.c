// strcmp_runtime_string.c: __builtin_strcmp folds only on two string literals; a string known
// at run time has no library to compare it on BPF.
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";
char name[8] = "eth0";

SEC("syscall") int prog(void *ctx)
{
	if (__builtin_strcmp("<=", "==") == 0) // folds: no error
		return 2;
	return __builtin_strcmp(name, "eth0") == 0; // ERROR: __builtin_strcmp compares strings known only at run time
}
