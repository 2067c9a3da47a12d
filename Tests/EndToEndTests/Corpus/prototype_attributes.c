// prototype_attributes.c: attributes on a prototype apply to the definition that follows,
// as libbpf's BPF_PROG/BPF_KPROBE macros declare programs: SEC() on the prototype only, on
// both, and a section from a declaration after a definition-less first sighting of a global.
// RUN: --prog declared_first --prog declared_twice --prog reads_placed --get placed
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

SEC("syscall") int declared_first(void *ctx);

int declared_first(void *ctx)
{
	return 7;
}

SEC("syscall") int declared_twice(void *ctx);
SEC("syscall") int declared_twice(void *ctx)
{
	return 8;
}

extern int placed __attribute__((section(".data.placed")));
int placed = 5;

int reads_placed(void *ctx) SEC("syscall");
int reads_placed(void *ctx)
{
	placed += 10;
	return placed;
}
