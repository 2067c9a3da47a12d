/* arena_list.c: a BPF program that builds a linked list in an arena and another that takes it
 * apart. User space reads the list between the two through the mmap'ed arena.
 *
 *     swiftbpf run arena_list.o --set n=100 --prog list_add --get count --prog list_del_all --get sum
 */
#include <swiftbpf_arena.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1000); /* pages: room for about 150000 elements */
} arena SEC(".maps");

#include "arena_alloc.h"
#include "arena_list.h"

struct elem {
	struct arena_list_node node;
	long value;
};

/* Inputs and outputs in ordinary global data. */
int n;
long sum;
int deleted;

/* The list and its length live in the arena, where user space finds them. */
struct arena_list_head __arena_global list;
int __arena_global count;

SEC("syscall") int list_add(void *ctx)
{
	for (int i = 0; i < n && can_loop; i++) {
		struct elem __arena *e = arena_alloc(sizeof(*e));

		if (!e)
			return 1;
		e->value = i;
		list_add_head(&e->node, &list);
		count++;
	}
	return 0;
}

SEC("syscall") int list_del_all(void *ctx)
{
	struct elem __arena *e;

	sum = 0;
	deleted = 0;
	list_for_each_entry(e, node, &list, struct elem, node) {
		sum += e->value;
		list_del(&e->node);
		arena_free(e);
		count--;
		deleted++;
	}
	return list.first != NULL;
}
