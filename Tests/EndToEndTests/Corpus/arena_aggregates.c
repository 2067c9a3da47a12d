// arena_aggregates.c: whole-struct copies, chained assignments, memset and memcpy on arena memory.
// Every piece of an aggregate access needs its own addr_space_cast; clang 19 leaves some of them
// out (`n->a = n->b = NULL` becomes one uncast 16-byte store pair), and the verifier rejects its
// object with "invalid mem access 'scalar'". swiftbpfcc casts every piece.
// LOADER: swiftbpf
// CLANG: fails invalid mem access 'scalar'
// RUN: --prog aggregates --get checksum --get copies
#include <swiftbpf_arena.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 4);
} arena SEC(".maps");

struct pair {
	void __arena *a;
	void __arena *b;
};

struct record {
	long id;
	int values[5];
	char tag[12];
};

struct pair __arena_global pairs[3];
struct record __arena_global records[2];
long checksum;
int copies;

SEC("syscall") int aggregates(void *ctx)
{
	struct record __arena *r = &records[0];
	struct record local = { .id = 7, .values = { 1, 2, 3, 4, 5 }, .tag = "local" };

	pairs[0].a = pairs[0].b = &records[1];
	pairs[1] = pairs[0];                         /* struct copy arena -> arena */
	pairs[2].a = pairs[2].b = NULL;
	*r = local;                                  /* struct copy stack -> arena */
	records[1] = *r;                             /* arena -> arena */
	records[1].id += 100;
	__builtin_memset(records[1].tag, 'x', 5);
	__builtin_memcpy(&records[1].values[1], &records[0].values[3], 2 * sizeof(int));
	local = records[1];                          /* arena -> stack */

	checksum = local.id * 1000 + local.values[0] * 100 + local.values[1] * 10 + local.values[2];
	for (int i = 0; i < 12; i++)
		checksum = checksum * 3 + local.tag[i];
	copies = (pairs[1].a == (void __arena *)&records[1]) + (pairs[1].b == pairs[0].a) * 2 + (pairs[2].a == NULL) * 4;
	return local.values[4];
}
