// htab.c: chapter 5. A hash table in an arena, built and read by global functions.
#include "htab.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 10);	/* pages */
} arena SEC(".maps");

int n = 20;		/* fill: keys 0 to n-1, each with the value key * key */
int key = 7;		/* lookup: the key to look up */
int value;		/* lookup: its value, -1 when absent */

struct htab __arena_global table;

/* Entries are carved from one arena page, from its end: 4096 / 16 = 256 of them. */
struct entry __arena *page;
int left;

int htab_update(struct htab __arena *htab __arg_arena, int key, int value)
{
	struct entry __arena *e;

	for (e = htab->buckets[bucket_of(key)]; e && can_loop; e = e->next)
		if (e->key == key) {
			e->value = value;
			return 0;
		}
	if (!page) {
		page = bpf_arena_alloc_pages(&arena, NULL, 1, NUMA_NO_NODE, 0);
		left = PAGE_SIZE / sizeof(*e);
	}
	if (!page || !left)
		return -1;
	e = &page[--left];
	e->key = key;
	e->value = value;
	e->next = htab->buckets[bucket_of(key)];
	htab->buckets[bucket_of(key)] = e;
	htab->count++;
	return 0;
}

int htab_lookup(struct htab __arena *htab __arg_arena, int key)
{
	for (struct entry __arena *e = htab->buckets[bucket_of(key)]; e && can_loop; e = e->next)
		if (e->key == key)
			return e->value;
	return -1;
}

SEC("syscall") int fill(void *ctx)
{
	for (int i = 0; i < n && can_loop; i++)
		if (htab_update(&table, i, i * i))
			return 1;
	return 0;
}

SEC("syscall") int lookup(void *ctx)
{
	value = htab_lookup(&table, key);
	return 0;
}
