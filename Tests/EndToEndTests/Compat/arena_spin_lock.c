/* A spin lock in arena memory, shaped like the kernel selftests' arena programs (6.12 has none):
 * the lock word is taken with a __sync_val_compare_and_swap loop, bounded by can_loop, and
 * released with an exchange; the counter it guards is incremented with a plain load and store.
 * Programs on several CPUs at once must then account for every increment: counter == acquired,
 * where acquired is counted with an atomic add outside the lock. Compiled with the selftests'
 * command line, in their directory, against their headers. */
#define BPF_NO_KFUNC_PROTOTYPES
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include "bpf_experimental.h"
#include "bpf_arena_common.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1); /* pages */
} arena SEC(".maps");

/* Each run takes the lock this many times. */
const volatile __u32 rounds = 2000;

int __arena lock_word;
__u64 __arena counter;
__u64 __arena acquired;
__u64 __arena gave_up;

/* Spins until the lock is free; gives up only when the may_goto budget runs out. A loop counter
 * would make the verifier walk every value of it. */
static bool arena_spin_lock(int __arena *lock)
{
	while (can_loop)
		if (__sync_val_compare_and_swap(lock, 0, 1) == 0)
			return true;
	return false;
}

static void arena_spin_unlock(int __arena *lock)
{
	__sync_lock_test_and_set(lock, 0);
}

SEC("syscall")
int increment(void *ctx)
{
	for (__u32 round = 0; round < rounds && can_loop; round++) {
		if (!arena_spin_lock(&lock_word)) {
			__sync_fetch_and_add(&gave_up, 1);
			continue;
		}
		/* Not atomic on purpose: only the lock keeps two CPUs from losing an increment. */
		__u64 seen = counter;
		counter = seen + 1;
		arena_spin_unlock(&lock_word);
		__sync_fetch_and_add(&acquired, 1);
	}
	return 0;
}

char _license[] SEC("license") = "GPL";
