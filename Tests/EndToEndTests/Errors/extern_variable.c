// extern_variable.c: an extern variable outside .ksyms and .kconfig has nothing to resolve it;
// libbpf refuses such an object ("unrecognized extern section"), so we refuse to write one.
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

extern int defined_elsewhere; // ERROR: extern variable 'defined_elsewhere' has no definition; BPF objects import only kernel variables \(__ksym\) and kernel configuration \(__kconfig\)
extern int kernel_value __attribute__((section(".ksyms")));

SEC("syscall") int prog(void *ctx)
{
	return defined_elsewhere + kernel_value;
}
