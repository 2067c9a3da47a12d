/* The same hash-table code the BPF program runs, built natively: arena_htab.c itself, with
 * __arena empty and pages from the heap (swiftbpf_arena.h). */
#include "../arena_htab.c"
#include "arena_htab_native.h"

#include <time.h>

static long long now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

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

long long arena_htab_lookup_all_native(int rounds, long *found)
{
	long long start = now_ns();

	lookups = rounds;
	htab_lookup_all(NULL);
	*found = found_sum;
	return now_ns() - start;
}

int arena_htab_lookup_user(const void *table_address, int k)
{
	htab_entry_t *e = htab_lookup_elem((htab_t *)table_address, k);

	return e ? e->value : ARENA_HTAB_ABSENT;
}
