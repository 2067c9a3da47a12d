/* The same hash-table code the BPF program runs, built natively: arena_htab.c itself, with
 * __arena empty and pages from the heap (swiftbpf_arena.h). */
#include "../arena_htab.c"
#include "arena_htab_native.h"

int arena_htab_build_native(int count, int *table_count_out)
{
	int result;

	n = count;
	result = htab_build(NULL);
	*table_count_out = table_count;
	return result;
}

int arena_htab_lookup_native(int k)
{
	key = k;
	return htab_lookup(NULL);
}

int arena_htab_lookup_user(const void *table_address, int k)
{
	htab_entry_t *e = htab_lookup_elem((htab_t *)table_address, k);

	return e ? e->value : ARENA_HTAB_ABSENT;
}
