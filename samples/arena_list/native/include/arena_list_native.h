/* The native half of the arena_list sample, called from Swift (samples/arena_list/driver). */
#ifndef ARENA_LIST_NATIVE_H
#define ARENA_LIST_NATIVE_H

/* What one run of the list programs computed. */
struct arena_list_result {
	long sum;          /* sum of the values, taken while deleting */
	int count_added;   /* the arena global `count` after list_add */
	int count_left;    /* `count` after list_del_all */
	int deleted;       /* elements list_del_all removed */
	int empty;         /* the list head is NULL at the end */
	long long add_ns;  /* wall time of list_add */
};

/* Runs list_add and list_del_all natively, on heap memory, for n elements. */
struct arena_list_result arena_list_run_native(int n);

/* Walks a list a BPF program built, through the mmap'ed arena: `head` is the user address of the
 * program's `list` global. Returns the sum of the values and stores the length in *length. */
long arena_list_walk(const void *head, int *length);

#endif
