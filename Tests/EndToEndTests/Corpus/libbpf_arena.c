// libbpf_arena.c: arena code that includes libbpf's <bpf/bpf_helpers.h> before the project's
// arena header: libbpf's SEC, __uint, __type and __ksym spellings and ours must coexist.
// `sum` names no arena (clang leaves it without one; swiftbpfcc associates the only arena).
// LOADER: swiftbpf
// CLANG: fails program that has an associated arena
// RUN: --prog push --prog push --prog push --prog sum --get total
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <swiftbpf_arena.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 4);
} arena SEC(".maps");

struct item {
	struct item __arena *next;
	int value;
};

struct item __arena *top;
int pushes;
long total;

SEC("syscall") int push(void *ctx)
{
	struct item __arena *page = bpf_arena_alloc_pages(&arena, NULL, 1, NUMA_NO_NODE, 0);

	if (!page)
		return -1;
	page->value = ++pushes * 7;
	page->next = top;
	top = page;
	return page->value;
}

SEC("syscall") int sum(void *ctx)
{
	int n = 0;

	total = 0;
	for (struct item __arena *i = top; i && n < 8; i = i->next, n++)
		total = total * 100 + i->value;
	return n;
}
