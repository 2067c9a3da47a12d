// arena_basics.c: __arena globals, pages from bpf_arena_alloc_pages, pointers stored in the arena
// (in user form, so user space could follow them), pointer arithmetic, differences and
// comparisons on arena pointers. The difference of two `struct node *` divides by 24, a signed
// division that clang 19 refuses at -mcpu=v3; swiftbpfcc lowers it exactly.
// LOADER: swiftbpf
// CLANG: fails unsupported signed division
// RUN: --set count=6 --prog build --prog walk --get total --get walked --get first_value
#include <swiftbpf_arena.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 8);
} arena SEC(".maps");

struct node {
	struct node __arena *next;
	long value;
	unsigned char bytes[6];
};

int count;
long total;
int walked;
long first_value;
struct node __arena *head;                 /* an arena pointer in ordinary .bss */
int __arena_global in_arena[4] = { 10, 20, 30, 40 };

SEC("syscall") int build(void *ctx)
{
	struct node __arena *nodes = bpf_arena_alloc_pages(&arena, NULL, 1, NUMA_NO_NODE, 0);

	if (!nodes)
		return -1;
	head = NULL;
	for (int i = 0; i < count && i < 16; i++) {
		struct node __arena *n = nodes + i;
		n->value = in_arena[i & 3] + i;
		for (int k = 0; k < 6; k++)
			n->bytes[k] = (unsigned char)(i * 40 + k);
		n->next = head;
		head = n;
	}
	total = (long)(head - nodes);              /* pointer difference in the arena */
	return head ? head->bytes[5] : 0;
}

SEC("syscall") int walk(void *ctx)
{
	long sum = 0;
	int steps = 0;

	for (struct node __arena *n = head; n && steps < 16; n = n->next) {
		sum += n->value * 256 + n->bytes[steps % 6];
		steps++;
		first_value = n->value;
	}
	total = total * 1000000 + sum;
	walked = steps;
	return steps;
}
