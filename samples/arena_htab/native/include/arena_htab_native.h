/* The native half of the arena_htab sample, called from Swift (samples/arena_htab/driver). */
#ifndef ARENA_HTAB_NATIVE_H
#define ARENA_HTAB_NATIVE_H

/* The value a lookup finds for an absent key. */
#define ARENA_HTAB_ABSENT (-1000000)

/* Runs htab_build natively, on heap memory, for keys 0..n-1; returns its result (the entry count
 * or a negative error) and stores the table's count. */
int arena_htab_build_native(int n, int *count);

/* Looks `key` up in the natively built table: the value, or ARENA_HTAB_ABSENT. */
int arena_htab_lookup_native(int key);

/* Runs htab_lookup_all natively: looks every key up `rounds` times; returns the wall time in
 * nanoseconds and stores the sum of the values found. */
long long arena_htab_lookup_all_native(int rounds, long *found);

/* Looks `key` up in a table a BPF program built, through the mmap'ed arena: `table` is the user
 * address of the program's `table` global. */
int arena_htab_lookup_user(const void *table, int key);

#endif
