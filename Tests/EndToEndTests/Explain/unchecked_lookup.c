// unchecked_lookup.c: bpf_map_lookup_elem() returns NULL for a key the map does not hold, and the
// program dereferences the result without checking it.
// PROG: lookup
// WHY: unchecked pointer that may be NULL
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, long);
} counts SEC(".maps");

SEC("syscall") int lookup(void *ctx)
{
	__u32 key = 7;
	long *count = bpf_map_lookup_elem(&counts, &key);
	return *count; // REJECTED: invalid mem access 'map_value_or_null'
}
