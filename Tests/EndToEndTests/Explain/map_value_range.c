// map_value_range.c: the position is masked to 0..15, but the map value holds only 8 longs; the
// verifier checks the largest offset the position allows against the value's size.
// PROG: slot
// WHY: access out of range
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct slots {
	long slot[8];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct slots);
} table SEC(".maps");

unsigned int position;

SEC("syscall") int slot(void *ctx)
{
	__u32 key = 0;
	struct slots *value = bpf_map_lookup_elem(&table, &key);
	if (!value)
		return 0;
	return value->slot[position & 15]; // REJECTED: (invalid access to map value|outside of the allowed memory range)
}
