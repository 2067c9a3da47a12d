/* The same list code the BPF program runs, built natively: arena_list.c itself, with __arena
 * empty and pages from the heap (swiftbpf_arena.h). */
#include "../arena_list.c"
#include "arena_list_native.h"

#include <time.h>

static long long now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

struct arena_list_result arena_list_run_native(int count_to_add)
{
	struct arena_list_result result = { 0 };

	long long start;

	n = count_to_add;
	start = now_ns();
	list_add(NULL);
	result.add_ns = now_ns() - start;
	result.count_added = count;
	list_del_all(NULL);
	result.sum = sum;
	result.count_left = count;
	result.deleted = deleted;
	result.empty = list.first == NULL;
	return result;
}

long arena_list_walk(const void *head_address, int *length)
{
	const struct arena_list_head *head = head_address;
	struct elem *e;
	long total = 0;

	*length = 0;
	list_for_each_entry(e, node, head, struct elem, node) {
		total += e->value;
		*length += 1;
	}
	return total;
}
