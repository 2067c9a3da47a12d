// arena_stack.c: chapter 4. Pushes 1..n on a linked stack in an arena, then pops them all.
#include <swiftbpf_arena.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 10);	/* pages */
} arena SEC(".maps");

struct node {
	struct node __arena *next;
	long value;
};

int n = 100;
long sum;

/* The top of the stack lives in the arena too, where user space can find it. */
struct node __arena *top __arena_global;

SEC("syscall") int push(void *ctx)
{
	/* One page holds 4096 / 16 = 256 nodes: enough for n <= 256. */
	struct node __arena *page = bpf_arena_alloc_pages(&arena, NULL, 1, NUMA_NO_NODE, 0);

	if (!page)
		return 1;
	for (int i = 0; i < n && i < 256; i++) {
		page[i].value = i + 1;
		page[i].next = top;
		top = &page[i];
	}
	return 0;
}

SEC("syscall") int pop_all(void *ctx)
{
	sum = 0;
	while (top && can_loop) {
		sum += top->value;
		top = top->next;
	}
	return 0;
}
