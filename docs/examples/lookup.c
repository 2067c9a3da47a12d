// lookup.c: reads one counter from a hash map, checking first that the key is there.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, long);
} counts SEC(".maps");

__u32 key = 7;

SEC("syscall") int lookup(void *ctx)
{
	long *count = bpf_map_lookup_elem(&counts, &key);

	if (!count)
		return -1;
	return *count;
}
