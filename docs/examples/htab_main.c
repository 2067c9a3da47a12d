// htab_main.c: runs htab.c natively (its arena page comes from the heap), prints what
// `swiftbpf run` prints, then walks the buckets as user space walks them in the arena.
#include <stdio.h>
#include <stdlib.h>
#include "htab.c"

/* Follows the stored pointers: natively they are heap addresses, in the arena user addresses. */
static void walk(struct htab *htab)
{
	printf("%d entries\n", htab->count);
	for (int b = 0; b < N_BUCKETS; b++) {
		printf("bucket %d:", b);
		for (struct entry *e = htab->buckets[b]; e; e = e->next)
			printf(" %d=%d", e->key, e->value);
		printf("\n");
	}
}

int main(int argc, char **argv)
{
	if (argc > 1)
		n = atoi(argv[1]);
	if (argc > 2)
		key = atoi(argv[2]);
	printf("fill retval=%d\n", fill(NULL));
	printf("lookup retval=%d\n", lookup(NULL));
	printf("value=%d\n", value);
	walk(&table);
	return 0;
}
