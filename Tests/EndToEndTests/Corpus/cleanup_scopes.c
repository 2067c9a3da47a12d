// cleanup_scopes.c: __attribute__((cleanup(f))) runs f(&local) whenever the local's scope ends:
// at its closing brace, and on break, continue, return and goto out of it, innermost first. The
// same mechanism as libbpf's bpf_for/bpf_repeat, written out here (Debian's libbpf 1.1 predates
// them): an open-coded iterator kfunc (bpf_iter_num_new/next/destroy) whose destroy must run on
// every path, or the verifier refuses the program. Natively the iterator is a plain counter.
// RUN: --prog scopes --prog loops --prog iterators --get released --get order --get visited
#include <swiftbpf.h>

char LICENSE[] SEC("license") = "GPL";

/* The kernel's open-coded number iterator: opaque, 8 bytes, 8-aligned (as vmlinux.h has it). */
struct bpf_iter_num {
	unsigned long long opaque[1];
} __attribute__((aligned(8)));

#if defined(__BPF__)
extern int bpf_iter_num_new(struct bpf_iter_num *it, int start, int end) __attribute__((weak, section(".ksyms")));
extern int *bpf_iter_num_next(struct bpf_iter_num *it) __attribute__((weak, section(".ksyms")));
extern void bpf_iter_num_destroy(struct bpf_iter_num *it) __attribute__((weak, section(".ksyms")));
#else
/* Native stand-ins: the low half counts, the high half is the end; next returns the counter. */
static int bpf_iter_num_new(struct bpf_iter_num *it, int start, int end)
{
	it->opaque[0] = (unsigned long long)(unsigned int)end << 32 | (unsigned int)(start - 1);
	return 0;
}

static int *bpf_iter_num_next(struct bpf_iter_num *it)
{
	unsigned int *halves = (unsigned int *)it->opaque;

	halves[0]++;
	return (int)halves[0] < (int)halves[1] ? (int *)&halves[0] : 0;
}

static void bpf_iter_num_destroy(struct bpf_iter_num *it)
{
	it->opaque[0] = 0;
}
#endif

/* A loop over [start, end) driven by the iterator, destroyed when the loop's scope ends. */
#define each_number(i, start, end)                                                            \
	for (struct bpf_iter_num iter_ __attribute__((aligned(8), cleanup(bpf_iter_num_destroy))), \
	     *once_ __attribute__((unused)) = (bpf_iter_num_new(&iter_, (start), (end)),           \
					       (void)bpf_iter_num_destroy, (void *)0);              \
	     ({                                                                                     \
		     int *at_ = bpf_iter_num_next(&iter_);                                          \
		     at_ && ((i) = *at_, (i) >= (start) && (i) < (end));                            \
	     });)

/* The same, counting only. */
#define repeat(n)                                                                              \
	for (struct bpf_iter_num iter_ __attribute__((aligned(8), cleanup(bpf_iter_num_destroy))), \
	     *once_ __attribute__((unused)) = (bpf_iter_num_new(&iter_, 0, (n)), (void *)0);        \
	     bpf_iter_num_next(&iter_);)

long released;
long order;
long visited;

static void release(int *value)
{
	released += *value;
	order = order * 10 + *value % 10;
}

static int early(int leave)
{
	int guard __attribute__((cleanup(release))) = 3;

	if (leave)
		return guard * 100; /* the value is taken before the cleanup runs */
	guard = 4;
	return 0;
}

SEC("syscall") int scopes(void *ctx)
{
	volatile int twice = 2;

	{
		int outer __attribute__((cleanup(release))) = 1;
		{
			int inner __attribute__((cleanup(release))) = 2;

			inner += 5; /* released as 7 */
		}
		if (twice == 2)
			goto out;
		outer = 9;
	}
out:
	return early(1) + early(0);
}

SEC("syscall") int loops(void *ctx)
{
	int i;

	for (i = 0; i < 6; i++) {
		int step __attribute__((cleanup(release))) = i;

		if (i == 1)
			continue;
		if (i == 4)
			break;
		step += 10;
	}
	switch (i) {
	case 4: {
		int chosen __attribute__((cleanup(release))) = 5;
		break;
	}
	default:
		break;
	}
	return i;
}

static int first_above(int limit)
{
	int i;

	each_number(i, 0, 100) {
		if (i * i > limit)
			return i; /* the iterator is destroyed on the way out */
	}
	return -1;
}

SEC("syscall") int iterators(void *ctx)
{
	int i, sum = 0;

	each_number(i, 2, 7) {
		sum += i;
		visited++;
	}
	each_number(i, 0, 50) {
		if (i == 3)
			continue;
		if (i == 5)
			break;
		visited += 100;
	}
	repeat(4) visited += 1000;
	return sum + first_above(50) * 100;
}
