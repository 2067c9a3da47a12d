/* arena_alloc.h: a page-fragment allocator on top of bpf_arena_alloc_pages.
 *
 * Objects are carved from the end of the current page towards its start. The first 8 bytes of
 * every page count the objects still alive in it; freeing the last one returns the page to the
 * arena. The file expects an arena map named `arena` (natively, pages come from the heap).
 */
#ifndef ARENA_ALLOC_H
#define ARENA_ALLOC_H

#include <swiftbpf_arena.h>

#define ARENA_ALLOC_HEADER 8

/* The page being carved and how many bytes of it are still free (above the header). */
static char __arena *frag_page;
static unsigned int frag_free;

static inline void __arena *arena_alloc(unsigned int size)
{
	size = (size + 7) & ~7u;
	if (size > PAGE_SIZE - ARENA_ALLOC_HEADER)
		return NULL;
	if (!frag_page || frag_free < size) {
		frag_page = bpf_arena_alloc_pages(&arena, NULL, 1, NUMA_NO_NODE, 0);
		if (!frag_page)
			return NULL;
		frag_free = PAGE_SIZE - ARENA_ALLOC_HEADER;
	}
	frag_free -= size;
	*(__u64 __arena *)frag_page += 1;
	return frag_page + ARENA_ALLOC_HEADER + frag_free;
}

static inline void arena_free(void __arena *object)
{
	char __arena *page = (char __arena *)((unsigned long)object & ~(unsigned long)(PAGE_SIZE - 1));
	__u64 __arena *live = (__u64 __arena *)page;

	if (--*live)
		return;
	if (page == frag_page)
		frag_page = NULL;
	bpf_arena_free_pages(&arena, page, 1);
}

#endif /* ARENA_ALLOC_H */
