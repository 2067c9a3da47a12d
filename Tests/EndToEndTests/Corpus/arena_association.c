// arena_association.c: a program that reaches arena memory only through a pointer kept in .bss.
// It names neither the arena map nor an arena global, so nothing tells the kernel which arena it
// uses. swiftbpfcc associates the object's only arena with it; clang leaves that to the user, and
// the kernel rejects clang's object.
// LOADER: swiftbpf
// CLANG: fails program that has an associated arena
// RUN: --prog setup --prog reader --get seen
#include <swiftbpf_arena.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 2);
} arena SEC(".maps");

long __arena *cell;       /* in .bss: an arena address */
long seen;

SEC("syscall") int setup(void *ctx)
{
	cell = bpf_arena_alloc_pages(&arena, NULL, 1, NUMA_NO_NODE, 0);
	if (!cell)
		return -1;
	cell[0] = 41;
	cell[1] = 1;
	return 0;
}

/* Names neither `arena` nor an arena global: only the pointer in .bss leads into the arena. */
SEC("syscall") int reader(void *ctx)
{
	if (!cell)
		return -1;
	seen = cell[0] + cell[1];
	cell[1] += 1;
	return (int)cell[1];
}
