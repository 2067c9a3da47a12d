// htab.h: chapter 5. The hash table's layout, which the BPF program and user space share.
#include <swiftbpf_arena.h>

#define N_BUCKETS 8	/* a power of two */

struct entry {
	struct entry __arena *next;	/* the next entry of the same bucket */
	int key;
	int value;
};

struct htab {
	struct entry __arena *buckets[N_BUCKETS];
	int count;
};

static inline unsigned int bucket_of(int key)
{
	return (unsigned int)key & (N_BUCKETS - 1);	/* key % N_BUCKETS, for a power of two */
}
