/* arena_htab.h: a hash table that lives in a BPF arena, with chained entries.
 *
 * The same code builds natively (on the heap) and for BPF (in the arena). Every pointer it stores
 * is a user-space address, so user space can look keys up in a table a BPF program built, through
 * the mmap'ed arena. The file expects an arena map named `arena` and arena_alloc.h.
 */
#ifndef ARENA_HTAB_H
#define ARENA_HTAB_H

#include <swiftbpf_arena.h>

struct htab_entry;
typedef struct htab_entry __arena htab_entry_t;

struct htab_entry {
	htab_entry_t *next;
	int key;
	int value;
};

struct htab {
	htab_entry_t * __arena *buckets;
	unsigned int n_buckets; /* a power of two */
	int count;
};
typedef struct htab __arena htab_t;

static inline unsigned int htab_hash(int key, unsigned int n_buckets)
{
	/* Knuth's multiplicative hash: spreads consecutive keys over the buckets. */
	return ((unsigned int)key * 2654435761u) & (n_buckets - 1);
}

/* The bucket array takes whole pages straight from the arena (it is bigger than a fragment). */
static inline int htab_init(htab_t *htab, unsigned int n_buckets)
{
	unsigned int pages = (n_buckets * sizeof(htab_entry_t *) + PAGE_SIZE - 1) / PAGE_SIZE;

	htab->buckets = bpf_arena_alloc_pages(&arena, NULL, pages, NUMA_NO_NODE, 0);
	if (!htab->buckets)
		return -1;
	htab->n_buckets = n_buckets;
	htab->count = 0;
	return 0;
}

static inline htab_entry_t *htab_lookup_elem(htab_t *htab, int key)
{
	htab_entry_t *e = htab->buckets[htab_hash(key, htab->n_buckets)];

	while (e && can_loop) {
		if (e->key == key)
			return e;
		e = e->next;
	}
	return NULL;
}

/* Inserts or overwrites; returns 0, or -1 when the arena is full. */
static inline int htab_update_elem(htab_t *htab, int key, int value)
{
	htab_entry_t *e = htab_lookup_elem(htab, key);
	htab_entry_t * __arena *bucket;

	if (e) {
		e->value = value;
		return 0;
	}
	e = arena_alloc(sizeof(*e));
	if (!e)
		return -1;
	bucket = &htab->buckets[htab_hash(key, htab->n_buckets)];
	e->key = key;
	e->value = value;
	e->next = *bucket;
	*bucket = e;
	htab->count++;
	return 0;
}

/* Removes a key; returns 0, or -1 when it was absent. */
static inline int htab_delete_elem(htab_t *htab, int key)
{
	htab_entry_t * __arena *link = &htab->buckets[htab_hash(key, htab->n_buckets)];

	while (*link && can_loop) {
		htab_entry_t *e = *link;

		if (e->key == key) {
			*link = e->next;
			arena_free(e);
			htab->count--;
			return 0;
		}
		link = &e->next;
	}
	return -1;
}

#endif /* ARENA_HTAB_H */
