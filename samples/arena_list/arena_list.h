/* arena_list.h: a doubly linked list whose nodes live in a BPF arena.
 *
 * The same code builds natively (nodes on the heap) and for BPF (nodes in the arena), and user
 * space can walk a list the BPF program built, through the mmap'ed arena, with plain pointers:
 * every pointer stored in a node is a user-space address.
 *
 * Each node keeps `pprev`, the address of the pointer that points at it (the list head's `first`
 * or the previous node's `next`), so deletion needs neither the head nor a special case.
 */
#ifndef ARENA_LIST_H
#define ARENA_LIST_H

#include <swiftbpf_arena.h>

struct arena_list_node;
typedef struct arena_list_node __arena arena_list_node_t;

struct arena_list_node {
	arena_list_node_t *next;
	arena_list_node_t * __arena *pprev;
};

struct arena_list_head {
	arena_list_node_t *first;
};
typedef struct arena_list_head __arena arena_list_head_t;

static inline void list_add_head(arena_list_node_t *n, arena_list_head_t *h)
{
	arena_list_node_t *first = h->first;

	n->next = first;
	if (first)
		first->pprev = &n->next;
	h->first = n;
	n->pprev = &h->first;
}

static inline void list_del(arena_list_node_t *n)
{
	arena_list_node_t *next = n->next;
	arena_list_node_t * __arena *pprev = n->pprev;

	*pprev = next;
	if (next)
		next->pprev = pprev;
	n->next = NULL;
	n->pprev = NULL;
}

#define list_entry(ptr, type, member) ((type __arena *)((char __arena *)(ptr) - __builtin_offsetof(type, member)))

/* Walks the list; `pos` may be deleted in the body, because the next node is read first. `can_loop`
 * lets the verifier accept a walk whose length it cannot know. */
#define list_for_each_entry(pos, next_node, head, type, member)                                   \
	for (arena_list_node_t *next_node = (head)->first;                                          \
	     next_node && (pos = list_entry(next_node, type, member), next_node = next_node->next, 1) && can_loop;)

#endif /* ARENA_LIST_H */
