/* arena_htab.c: BPF programs that build a hash table in an arena and look keys up in it.
 * User space looks the same keys up in the same table, through the mmap'ed arena.
 *
 *     swiftbpf run arena_htab.o --set n=1000 --prog htab_fill --get table_count --set key=7 --prog htab_lookup
 */
#include <swiftbpf_arena.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 2000); /* pages */
} arena SEC(".maps");

#include "../arena_list/arena_alloc.h"
#include "arena_htab.h"

int n;             /* keys 0..n-1 */
int key;           /* for htab_lookup */
int lookups;       /* for htab_lookup_all: how many times to look every key up */
int table_count;
long found_sum;

struct htab __arena_global table;

/* A global function: the kernel verifies it once, on its own, knowing from `__arg_arena` that
 * `htab` points into the arena. Keys 0..n-1 get value = key; then every third key is overwritten
 * with its negation and every fifth key deleted. */
int htab_fill(htab_t *htab __arg_arena, int count)
{
	if (htab_init(htab, 1024))
		return -1;
	for (int i = 0; i < count && can_loop; i++)
		if (htab_update_elem(htab, i, i))
			return -2;
	for (int i = 0; i < count && can_loop; i += 3)
		htab_update_elem(htab, i, -i);
	for (int i = 0; i < count && can_loop; i += 5)
		htab_delete_elem(htab, i);
	return htab->count;
}

SEC("syscall") int htab_build(void *ctx)
{
	int result = htab_fill(&table, n);

	table_count = table.count;
	return result;
}

/* Returns the value stored for `key`, or -1000000 when the key is absent. */
SEC("syscall") int htab_lookup(void *ctx)
{
	htab_entry_t *e = htab_lookup_elem(&table, key);

	return e ? e->value : -1000000;
}

/* Looks every key up `lookups` times; the sum of the values found checks the work was done. */
SEC("syscall") int htab_lookup_all(void *ctx)
{
	long sum = 0;

	for (int r = 0; r < lookups && can_loop; r++)
		for (int i = 0; i < n && can_loop; i++) {
			htab_entry_t *e = htab_lookup_elem(&table, i);

			if (e)
				sum += e->value;
		}
	found_sum = sum;
	return 0;
}
