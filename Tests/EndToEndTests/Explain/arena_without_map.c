// arena_without_map.c: the program follows an __arena pointer, which needs an addr_space_cast, but
// the object has no arena map for the kernel to tie the program to.
// PROG: follow
// WHY: no arena association
// OURS: refuses uses arena memory but names no arena
#include <swiftbpf_arena.h>

char LICENSE[] SEC("license") = "GPL";

unsigned long where;

SEC("syscall") int follow(void *ctx)
{
	int __arena *p = (int __arena *)where;
	return *p; // REJECTED: can only be used in a program that has an associated arena
}
